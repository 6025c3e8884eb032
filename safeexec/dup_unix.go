//go:build unix && !aix

package safeexec

import (
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// dupPipe returns a close-on-exec duplicate of raw's descriptor, or nil
// if it cannot make one.
func dupPipe(raw syscall.RawConn) io.Closer {
	if raw == nil {
		return nil
	}
	fd := -1
	raw.Control(func(s uintptr) {
		fd, _ = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	if fd < 0 {
		return nil
	}
	return os.NewFile(uintptr(fd), "|dup")
}
