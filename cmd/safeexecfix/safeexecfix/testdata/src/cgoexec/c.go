package cgoexec

import (
	"fmt"
	"os/exec" // want `the fix does not edit cgo packages`
)

// static int two(void) { return 2; }
import "C"

// Two calls C.
func Two() int { return int(C.two()) }

// Run runs true.
func Run() error {
	fmt.Println("running")
	return exec.Command("true").Run()
}
