package ignored

import "os/exec" // want `hide_windows.go, excluded by its build constraints here, uses os/exec too`

// Run runs name with its window hidden on Windows.
func Run(name string) error {
	cmd := exec.Command(name)
	hideWindow(cmd)
	return cmd.Run()
}
