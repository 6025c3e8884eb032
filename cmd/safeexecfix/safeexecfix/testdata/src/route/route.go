package route

import (
	"os"
	"os/exec" // want `os/exec can be replaced by safeexec`

	"example.com/helper"
)

func shell(tty *os.File) error {
	cmd := exec.Command("sh")
	cmd.Dir = "/"
	helper.SetCtty(cmd, tty) // want `helper.SetCtty takes an \*exec.Cmd, which a \*safeexec.Cmd is not \(it only sets the command's fields; call it through cmd.Configure\(func\(x \*osexec.Cmd\) {...}\)\)`
	var err error
	if tty != nil {
		err = helper.Setup(cmd) // want `helper.Setup takes an \*exec.Cmd`
	}
	if err != nil {
		return err
	}
	return cmd.Run()
}
