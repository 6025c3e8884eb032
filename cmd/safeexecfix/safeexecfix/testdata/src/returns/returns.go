package returns

import (
	"os/exec"

	"example.com/helper"
)

func start(c *exec.Cmd) error { return c.Start() }

func run() error {
	return start(helper.New()) // want `cannot use helper.New\(\) \(value of type \*exec.Cmd\) as \*safeexec.Cmd value in argument to start after the move to safeexec \(the fix does not change the code it meets; the package keeps os/exec`
}
