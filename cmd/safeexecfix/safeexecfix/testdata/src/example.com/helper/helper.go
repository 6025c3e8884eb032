// Package helper is a library written for os/exec, as a pty package is.
package helper

import (
	"os"
	"os/exec" // kept: the package's API hands out *exec.Cmd
	"syscall"
)

// SetCtty only sets the command's fields.
func SetCtty(cmd *exec.Cmd, tty *os.File) { // want `exported function helper.SetCtty involves \*exec.Cmd \(moving the package would change the type that its importers see; the package keeps os/exec; export a \*safeexec.Cmd by hand if all importers can follow, or keep os/exec\)` SetCtty:"configures"
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	addEnv(cmd, "TERM=dumb")
}

func addEnv(cmd *exec.Cmd, kv string) { cmd.Env = append(cmd.Env, kv) } // want addEnv:"configures"

// Setup sets the directory and returns an error.
func Setup(cmd *exec.Cmd) error { // want `exported function helper.Setup involves` Setup:"configures"
	cmd.Dir = "/"
	return nil
}

// Start starts the command, so it is no configuring function.
func Start(cmd *exec.Cmd) error { // want `exported function helper.Start involves`
	return cmd.Start()
}

// Keep keeps the command, so it is no configuring function.
func Keep(cmd *exec.Cmd) { kept = cmd } // want `exported function helper.Keep involves`

var kept *exec.Cmd

// Runner holds a command.
type Runner struct {
	Cmd *exec.Cmd // want `exported field helper.Cmd involves`
}

// New returns a command of its own making.
func New() *exec.Cmd { return exec.Command("true") } // want `exported function helper.New involves`
