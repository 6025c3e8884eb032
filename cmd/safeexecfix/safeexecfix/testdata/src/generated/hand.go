package generated

import "os/exec"

// hand is written by hand, but moves only with the generated file.
func hand() *exec.Cmd { return exec.Command("true") }
