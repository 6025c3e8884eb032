package result

import (
	"os/exec"

	"example.com/helper"
)

func run() error {
	cmd := exec.Command("true")
	if err := helper.Setup(cmd); err != nil { // want `function helper.Setup, whose type involves \*exec.Cmd, would get a \*safeexec.Cmd \(its result is used within an expression or a declaration, which a Configure function literal cannot return;`
		return err
	}
	return cmd.Run()
}
