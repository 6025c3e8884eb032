package helper_test

import "os/exec"

// Cmd returns a command; the package is importable despite its name.
func Cmd() *exec.Cmd { return exec.Command("true") } // want `exported function helper_test.Cmd involves \*exec.Cmd`
