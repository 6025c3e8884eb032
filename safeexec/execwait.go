package safeexec

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// With GODEBUG=execwait set to any non-empty value, a Cmd that exec.Command
// or exec.CommandContext made and that started a process panics when it is
// collected without a call to Wait; with execwait=2, it first prints the
// stack that made it. Command and CommandContext do the same for a Cmd, with
// exec's texts and a stack that starts at Command, so that it names the
// caller's line.
//
// The check is a finalizer on the exec.Cmd of the attempt that started,
// set once Start has succeeded: that exec.Cmd is what exec's goroutines
// (watchCtx, the copy of Stdin) hold, as they hold the exec.Cmd of a user
// of exec, so the Cmd is collected in the same cases. As in exec, the check
// never fires for a Cmd whose Cancel refers back to it, which is what
// CommandContext sets: the exec.Cmd's Cancel calls the Cmd's, which refers
// to the Cmd, which refers to the exec.Cmd, and the runtime never collects
// an object with a finalizer that is reachable from itself. It fires once
// Cancel is set to nil or to a function that does not refer to the Cmd, as
// exec's does.
//
// exec's own finalizers on the exec.Cmds made here never fire: the one
// Command makes to resolve the name never starts, a plain attempt is
// new(exec.Cmd), and attempt clears the finalizer of an exec.CommandContext
// attempt, whose Cancel it replaces.

// commandFunc is the name of Command in a stack trace.
const commandFunc = "github.com/forkgate/forkgate/safeexec.Command"

// godebug returns the value of the named GODEBUG setting, read the way
// internal/godebug reads it for exec: the last name=value wins, and a
// "#pattern" suffix (for golang.org/x/tools/cmd/bisect) is dropped. exec's
// execwait is not a setting that go.mod or a //go:debug line can set, so
// the environment is its only source; os.Setenv of GODEBUG applies to the
// calls that follow, as it does for exec.
func godebug(name string) string {
	s := os.Getenv("GODEBUG")
	for s != "" {
		var kv string
		if i := strings.LastIndexByte(s, ','); i >= 0 {
			s, kv = s[:i], s[i+1:]
		} else {
			s, kv = "", s
		}
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			v, _, _ = strings.Cut(v, "#")
			return v
		}
	}
	return ""
}

// noteCreator records, for Command, whether c is to be checked for a leak
// and, with execwait=2, the stack of Command's caller.
func (c *Cmd) noteCreator() {
	v := godebug("execwait")
	if v == "" {
		return
	}
	c.leakCheck = true
	if v != "2" {
		return
	}
	stack := make([]byte, 1024)
	for {
		n := runtime.Stack(stack, false)
		if n < len(stack) {
			stack = stack[:n]
			break
		}
		stack = make([]byte, 2*len(stack))
	}
	if i := bytes.Index(stack, []byte("\n"+commandFunc+"(")); i >= 0 {
		stack = stack[i+1:]
	}
	c.createdByStack = stack
}

// checkLeak makes x, the attempt that started c's process, panic with
// exec's text if it is collected before Wait, if Command made c under
// GODEBUG=execwait.
func (c *Cmd) checkLeak(x *exec.Cmd) {
	if !c.leakCheck {
		return
	}
	stack := c.createdByStack // not c: the finalizer must not keep c alive
	runtime.SetFinalizer(x, func(x *exec.Cmd) {
		if x.Process == nil || x.ProcessState != nil {
			return
		}
		hint := " (set GODEBUG=execwait=2 to capture stacks for debugging)"
		if stack != nil {
			os.Stderr.WriteString("GODEBUG=execwait=2 detected a leaked exec.Cmd created by:\n")
			os.Stderr.Write(stack)
			os.Stderr.WriteString("\n")
			hint = ""
		}
		panic("exec: Cmd started a Process but leaked without a call to Wait" + hint)
	})
}
