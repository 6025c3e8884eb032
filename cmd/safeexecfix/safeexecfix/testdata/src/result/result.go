package result

import (
	"os/exec"

	"example.com/helper"
)

func run() error {
	cmd := exec.Command("true")
	if err := helper.Setup(cmd); err != nil { // want `as \*exec.Cmd value in argument to helper.Setup after the move to safeexec \(the fix does not change the code it meets, and the call cannot go through Cmd.Configure: its result is used within an expression or a declaration, which a Configure function literal cannot return;`
		return err
	}
	return cmd.Run()
}
