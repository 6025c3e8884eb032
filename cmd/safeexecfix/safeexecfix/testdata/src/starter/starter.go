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
	return helper.Start(cmd) // want `function helper.Start, whose type involves \*exec.Cmd, would get a \*safeexec.Cmd \(the fix cannot show that it only sets the command's fields; the package keeps os/exec; route the call through Cmd.Configure if it only sets the command's fields, or keep an os/exec Cmd for it\)`
}
