//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package main

import "os"

// isTerminal reports false: racecheck redraws its progress line on the
// terminals of Linux and the BSDs only, and elsewhere prints one line.
func isTerminal(*os.File) bool { return false }
