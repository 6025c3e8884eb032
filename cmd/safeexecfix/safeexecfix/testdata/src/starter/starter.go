package starter

import (
	"os"
	"os/exec"

	"example.com/helper"
)

func run(name string) error {
	if err := os.WriteFile(name, []byte("#!/bin/sh\n"), 0o755); err != nil { // want `os.WriteFile writes an executable .*write it with safeexec.WriteExecutable`
		return err
	}
	cmd := exec.Command(name)
	return helper.Start(cmd) // want `cannot use cmd \(variable of type \*safeexec.Cmd\) as \*exec.Cmd value in argument to helper.Start after the move to safeexec \(the fix does not change the code it meets, and the call cannot go through Cmd.Configure: the fix cannot show that it only sets the command's fields; the package keeps os/exec: route the call through Cmd.Configure if that code only sets the command's fields, or keep an os/exec Cmd for it\)`
}
