package safeexec

import (
	"errors"
	"os"
	"os/exec"
	"sync/atomic"
)

// Code written for os/exec takes an *exec.Cmd, which a *Cmd is not
// (issue #15). Configure lends such code an exec.Cmd for the length of one
// call, as [syscall.RawConn.Control] lends a descriptor, and takes the
// fields back when the call returns, so that none can be forgotten. The
// other shapes lose something: a method that returns an exec.Cmd and one
// that sets the fields back are two calls, and forgetting the second drops
// the configuration, as the adapter in the issue dropped ExtraFiles; and a
// Cmd made from a configured exec.Cmd cannot have its context, which
// exec.Cmd keeps unexported, nor a working default Cancel, which kills the
// Process of an exec.Cmd that never starts.

// Configure lets a function written for os/exec configure c. It calls f
// with an [exec.Cmd] whose exported fields are those of c and, when f
// returns, sets every exported field of c to the value f left in that
// exec.Cmd, so that a function such as
//
//	func SetCtty(cmd *exec.Cmd, tty *os.File) // sets SysProcAttr and ExtraFiles
//
// configures c with no field copied by hand, in the order os/exec code
// calls it:
//
//	cmd := safeexec.Command("sh")
//	cmd.Configure(func(x *exec.Cmd) { SetCtty(x, tty) })
//	err := cmd.Run()
//
// Taking a function, rather than returning an exec.Cmd to set back later,
// means every field comes back when f returns.
//
// The exec.Cmd is lent to f for configuration only:
//
//   - It cannot be started: its Start, Run, Output and CombinedOutput
//     return exec's "exec: already started" error and start nothing, so
//     a function that starts the command it is given, as a pty package's
//     Start does, cannot run it outside the fork gate. Start c instead,
//     or see the Configure example for such a function.
//   - The pipes that its StdinPipe, StdoutPipe and StderrPipe make are
//     never closed, since c's Start and Wait do not know them: their
//     descriptors leak, and a reader of the output never sees its end.
//     Call c's methods of those names.
//   - exec.Cmd has no exported context, so f can neither see nor change
//     the context of a Cmd made by [CommandContext]: c keeps it, and it
//     still ends Start's retries and calls Cancel.
//   - f sees c's Cancel (from CommandContext, a function that kills
//     c.Process), and c takes back the Cancel f leaves. A Cancel that f sets and
//     that refers to the lent exec.Cmd, such as
//     func() error { return x.Process.Signal(os.Interrupt) }, works:
//     once c starts, the Process field of every exec.Cmd that Configure
//     lent to c is set to c's Process, before Cancel can be called.
//   - f sees in Err the error, if any, of [Command]'s [LookPath], and c
//     takes back the Err f leaves, so clearing Err, as exec's
//     documentation suggests for [ErrDot], lets c start.
//
// Configure must be called before Start, and panics after any call of
// [Cmd.Start], [Cmd.Run], [Cmd.Output] or [Cmd.CombinedOutput], whether
// or not it started a process: a configuration set then could never take
// effect, so such a call can only be a bug. Like setting c's fields, it
// must not run concurrently with c's other methods.
func (c *Cmd) Configure(f func(*exec.Cmd)) {
	if atomic.LoadInt32(&c.startCalled) != 0 {
		panic("safeexec: Configure after Start")
	}
	x := unstartable()
	c.configure(x)
	x.Cancel, x.Process, x.ProcessState = c.Cancel, c.Process, c.ProcessState
	f(x)
	c.Path, c.Args, c.Env, c.Dir = x.Path, x.Args, x.Env, x.Dir
	c.Stdin, c.Stdout, c.Stderr, c.ExtraFiles = x.Stdin, x.Stdout, x.Stderr, x.ExtraFiles
	c.SysProcAttr, c.Process, c.ProcessState = x.SysProcAttr, x.Process, x.ProcessState
	c.Err, c.Cancel, c.WaitDelay = x.Err, x.Cancel, x.WaitDelay
	c.lent = append(c.lent, x)
}

// errLent is the Err of the failed Start that makes an exec.Cmd
// unstartable; it is replaced before anyone sees it.
var errLent = errors.New("safeexec: lent by Configure")

// unstartable returns an exec.Cmd whose Start has been called and failed
// without starting anything, so that every later Start fails, as exec
// makes it fail since Go 1.26, even after a failed Start.
func unstartable() *exec.Cmd {
	x := &exec.Cmd{Err: errLent}
	x.Start() // returns errLent at once
	x.Err = nil
	return x
}

// shareProcess sets the Process of every exec.Cmd that Configure lent to
// c to p, the process c started, so that a Cancel referring to one of
// them finds it, and then forgets them.
func (c *Cmd) shareProcess(p *os.Process) {
	for _, x := range c.lent {
		x.Process = p
	}
	c.lent = nil
}
