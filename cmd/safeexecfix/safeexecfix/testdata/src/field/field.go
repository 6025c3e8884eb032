package field

import (
	"os/exec"

	"example.com/helper"
)

func hold() *helper.Runner {
	return &helper.Runner{Cmd: exec.Command("true")} // want `cannot use exec.Command\("true"\) \(value of type \*safeexec.Cmd\) as \*exec.Cmd value in struct literal after the move to safeexec \(the fix does not change the code it meets; the package keeps os/exec`
}
