package loop

import (
	"os"
	"os/exec"

	"example.com/helper"
)

func outside(tty *os.File, n int) error {
	cmd := exec.Command("true")
	for range n {
		helper.SetCtty(cmd, tty) // want `function helper.SetCtty, whose type involves \*exec.Cmd, would get a \*safeexec.Cmd \(the fix cannot show that the command is new and not yet started when the call runs;`
	}
	return cmd.Run()
}

func started(tty *os.File) error {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		return err
	}
	helper.SetCtty(cmd, tty) // want `function helper.SetCtty, whose type involves \*exec.Cmd, would get a \*safeexec.Cmd \(the fix cannot show that the command is new and not yet started`
	return cmd.Wait()
}
