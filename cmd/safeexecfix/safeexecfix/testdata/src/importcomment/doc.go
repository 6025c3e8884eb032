package importcomment

import (
	"os"
	// exec runs the tools.
	"os/exec" // want `os/exec can be replaced by safeexec`

	// lib names them.
	"example.com/lib"
)

func doc() error {
	cmd := exec.Command(lib.Name())
	cmd.Stdout = os.Stdout
	return cmd.Run()
}
