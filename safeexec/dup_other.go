//go:build !unix || aix

package safeexec

import (
	"io"
	"syscall"
)

// dupPipe returns nil. Off Unix, and on AIX, for which Go defines no
// F_DUPFD_CLOEXEC, no duplicate is made, so there an orphan may still
// see exec's close before the Cmd's pipes close (untested).
func dupPipe(raw syscall.RawConn) io.Closer { return nil }
