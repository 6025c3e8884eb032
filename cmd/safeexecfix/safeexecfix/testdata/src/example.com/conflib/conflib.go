// Package conflib has functions that look as if they only configured the
// command and do not.
package conflib

import "os/exec"

var dir *string

// Paren keeps the address of a field, parenthesized.
func Paren(c *exec.Cmd) { dir = &(c.Dir) } // want `exported function conflib.Paren involves`

// GoOn passes the command to a goroutine, which may run after Configure.
func GoOn(c *exec.Cmd) { go apply(c) } // want `exported function conflib.GoOn involves`

// DeferOn passes the command on in a deferred call.
func DeferOn(c *exec.Cmd) { defer apply(c) } // want `exported function conflib.DeferOn involves`

// Plain only sets a field.
func Plain(c *exec.Cmd) { apply((c)) } // want `exported function conflib.Plain involves` Plain:"configures"

func apply(c *exec.Cmd) { (c).Dir = "/" } // want apply:"configures"

// Apply sets the directory if err is nil.
func Apply(c *exec.Cmd, err error) { // want `exported function conflib.Apply involves` Apply:"configures"
	if err == nil {
		c.Dir = "/"
	}
}
