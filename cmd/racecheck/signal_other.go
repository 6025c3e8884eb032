//go:build !unix

package main

import "os"

// stopSignals end a run early; a second one ends it at once.
var stopSignals = []os.Signal{os.Interrupt}

// quitSignal ends a hung probe's child; without SIGQUIT there is no dump.
var quitSignal = os.Kill
