//go:build !linux

package main

import (
	"os"
	"testing"
)

// openPty skips: the tests open pseudo-terminals with Linux's ioctls.
func openPty(t *testing.T) (ptm, tty *os.File) {
	t.Skip("requires Linux: the test opens a pseudo-terminal through /dev/ptmx with Linux's ioctls")
	return nil, nil
}
