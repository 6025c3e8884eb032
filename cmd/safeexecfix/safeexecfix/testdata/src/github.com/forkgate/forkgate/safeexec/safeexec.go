// Package safeexec is a stub of github.com/forkgate/forkgate/safeexec for
// the analyzer's tests.
package safeexec

import (
	"os"
	"os/exec"
)

type Cmd struct{ Path string }

func Command(name string, arg ...string) *Cmd { return &Cmd{Path: name} }

func (c *Cmd) Run() error { return nil }

func (c *Cmd) Configure(f func(*exec.Cmd)) {}

func WriteExecutable(name string, data []byte, perm os.FileMode) error { return nil }

type ExitError = exec.ExitError
