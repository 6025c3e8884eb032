//go:build !linux && !darwin && !freebsd

package main

// fsType returns "unknown": racecheck reads filesystem names on Linux,
// macOS and FreeBSD only.
func fsType(dir string) (string, uint64) { return "unknown", 0 }
