//go:build !unix

package main

import "os"

// stopSignals end a run early; a second one ends it at once.
var stopSignals = []os.Signal{os.Interrupt}

// quitSignal ends a hung probe's child; without SIGQUIT there is no dump.
var quitSignal = os.Kill

// diedOfStopSignal reports false: without Unix signals, a command that
// racecheck's stop signal ended cannot be told from one that failed.
func diedOfStopSignal(err error) bool { return false }

// signalName returns the name of sig.
func signalName(sig os.Signal) string { return sig.String() }
