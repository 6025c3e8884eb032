package single

import "os/exec" // want `os/exec can be replaced by safeexec`

func main() { _ = exec.Command("true").Run() }
