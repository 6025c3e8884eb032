package apidefined

import (
	"bytes"
	"os/exec"
	"sync/atomic"
)

// Last has the structure of atomic.Pointer[exec.Cmd], so importers convert
// between the two.
type Last atomic.Pointer[exec.Cmd] // want `exported type apidefined.Last involves \*exec.Cmd`

// Command has the structure of exec.Cmd.
type Command exec.Cmd // want `exported type apidefined.Command involves \*exec.Cmd`

type hiddenCmd exec.Cmd

// NewHidden returns an unexported type that importers convert to an
// *exec.Cmd without naming it.
func NewHidden() *hiddenCmd { return (*hiddenCmd)(exec.Command("true")) } // want `exported function apidefined.NewHidden involves \*exec.Cmd`

// Buffer's structure does not change.
type Buffer bytes.Buffer

type local struct{ c *exec.Cmd }

// Wrapper has the structure of an unexported type whose command importers
// cannot reach.
type Wrapper local
