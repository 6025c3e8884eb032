package api

import "os/exec"

// Shell returns a command; its importers would see its type change.
func Shell() *exec.Cmd { // want `exported function api.Shell involves \*exec.Cmd`
	return exec.Command("sh")
}
