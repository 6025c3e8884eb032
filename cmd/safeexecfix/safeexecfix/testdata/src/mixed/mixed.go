package mixed

import (
	"errors"
	"os/exec" // want `os/exec can be replaced by safeexec`

	"example.com/helper"
)

// exitCode runs a command that another package made, which keeps its type,
// and its own, which moves: the two never meet.
func exitCode() int {
	c := helper.New()
	err := c.Run()
	if err == nil {
		err = exec.Command("true").Run()
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	return 0
}
