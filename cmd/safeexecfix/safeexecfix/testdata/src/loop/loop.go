package loop

import (
	"os"
	"os/exec"

	"example.com/helper"
)

func outside(tty *os.File, n int) error {
	cmd := exec.Command("true")
	for range n {
		helper.SetCtty(cmd, tty) // want `in argument to helper.SetCtty after the move to safeexec \(the fix does not change the code it meets, and the call cannot go through Cmd.Configure: the fix cannot show that the command is new and not yet started when the call runs;`
	}
	return cmd.Run()
}

func started(tty *os.File) error {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		return err
	}
	helper.SetCtty(cmd, tty) // want `in argument to helper.SetCtty after the move to safeexec \(the fix does not change the code it meets, and the call cannot go through Cmd.Configure: the fix cannot show that the command is new and not yet started`
	return cmd.Wait()
}
