package thirdparty

import (
	"os"
	"os/exec" // want `os/exec can be replaced by safeexec`

	"example.com/lib"
)

func run() error {
	cmd := exec.Command(lib.Name())
	cmd.Stdout = os.Stdout
	return cmd.Run()
}
