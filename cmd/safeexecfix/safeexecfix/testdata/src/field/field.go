package field

import (
	"os/exec"

	"example.com/helper"
)

func hold() *helper.Runner { // want `type helper.Runner has a type that involves \*exec.Cmd \(it is not changed by the fix; the package keeps os/exec; adapt this use by hand, or keep os/exec for it\)`
	return &helper.Runner{Cmd: exec.Command("true")} // want `type helper.Runner has a type` `field helper.Cmd has a type that involves`
}
