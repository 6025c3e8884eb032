//go:build unix

package main

import (
	"os"
	"syscall"
)

// stopSignals end a run early; a second one ends it at once.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// quitSignal makes a hung probe's child print its goroutines and exit.
var quitSignal os.Signal = syscall.SIGQUIT
