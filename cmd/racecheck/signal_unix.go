//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// stopSignals end a run early; a second one ends it at once.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// quitSignal makes a hung probe's child print its goroutines and exit.
var quitSignal os.Signal = syscall.SIGQUIT

// diedOfStopSignal reports whether err says that a command died of one of
// stopSignals, or exited with the status a shell gives for one (128 plus
// the signal's number).
func diedOfStopSignal(err error) bool {
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return false
	}
	ws, ok := exitErr.Sys().(syscall.WaitStatus)
	if !ok {
		return false
	}
	for _, s := range stopSignals {
		sig := s.(syscall.Signal)
		if ws.Signaled() && ws.Signal() == sig || ws.Exited() && ws.ExitStatus() == 128+int(sig) {
			return true
		}
	}
	return false
}

// signalName returns the name of sig, such as SIGINT.
func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		if name := unix.SignalName(s); name != "" {
			return name
		}
	}
	return sig.String()
}
