package apideep

import (
	"iter"
	"os/exec"
	"sync/atomic"
)

// Current's type argument is the command.
var Current atomic.Pointer[exec.Cmd] // want `exported variable apideep.Current involves \*exec.Cmd`

// All yields commands.
func All() iter.Seq[*exec.Cmd] { // want `exported function apideep.All involves \*exec.Cmd`
	return func(yield func(*exec.Cmd) bool) { yield(exec.Command("true")) }
}

// Start's type parameter is constrained to the command.
func Start[T interface{ *exec.Cmd }](c T) error { return nil } // want `exported function apideep.Start involves \*exec.Cmd`

type cmds []*exec.Cmd

// List is exported; its type is not.
var List = cmds{exec.Command("true")} // want `exported variable apideep.List involves \*exec.Cmd`

type maker interface{ Make() *exec.Cmd }

// New returns an unexported interface whose method returns a command.
func New() maker { return nil } // want `exported function apideep.New involves \*exec.Cmd`

type fn func() *exec.Cmd

// Get returns an unexported function type.
func Get() fn { return nil } // want `exported function apideep.Get involves \*exec.Cmd`

type inner struct{ C *exec.Cmd } // want `exported field apideep.C involves \*exec.Cmd`

// Outer promotes inner's field.
type Outer struct {
	inner // want `exported field apideep.inner involves \*exec.Cmd`
}

type hidden struct{ c *exec.Cmd }

// Opaque keeps its command where importers cannot reach it.
func Opaque() hidden { return hidden{} }

type self struct{ next *self }

// Cycle refers to itself.
var Cycle self
