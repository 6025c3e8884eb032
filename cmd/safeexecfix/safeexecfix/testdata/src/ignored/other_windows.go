package other

import "os/exec"

func unrelated() { _ = exec.Command }
