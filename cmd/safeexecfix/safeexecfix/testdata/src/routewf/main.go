package main

import (
	"fmt"
	"os"
	"os/exec" // want `os/exec can be replaced by safeexec`

	"example.com/conflib"
)

func main() {
	cmd := exec.Command("true")
	conflib.Apply(cmd, os.WriteFile("/tmp/x", nil, 0o755)) // want `conflib.Apply takes an \*exec.Cmd` `os.WriteFile writes an executable .*no fix here: the call is inside a statement that goes through Cmd.Configure`
	fmt.Println(cmd.Run())
}
