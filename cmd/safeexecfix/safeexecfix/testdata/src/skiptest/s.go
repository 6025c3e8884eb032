package skiptest

import (
	"os"
	"os/exec" // want `os/exec can be replaced by safeexec`
)

// Do writes a program and runs it.
func Do() error {
	if err := os.WriteFile("/tmp/skip-x", nil, 0o755); err != nil { // want `os.WriteFile writes an executable`
		return err
	}
	return exec.Command("/tmp/skip-x").Run()
}
