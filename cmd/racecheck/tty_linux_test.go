package main

import (
	"cmp"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openPty opens a pseudo-terminal and returns its two ends, closed when
// the test ends, or skips.
func openPty(t *testing.T) (ptm, tty *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("requires /dev/ptmx (%v)", err)
	}
	t.Cleanup(func() { ptm.Close() })
	// Through Control, not Fd, which would make ptm blocking, so that a
	// Read in progress could not be ended by Close.
	var n int
	conn, err := ptm.SyscallConn()
	if err == nil {
		cerr := conn.Control(func(fd uintptr) {
			if err = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); err == nil {
				n, err = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
			}
		})
		err = cmp.Or(err, cerr)
	}
	if err != nil {
		t.Skipf("requires unlocking a pseudo-terminal and its number (%v)", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("requires /dev/pts (%v)", err)
	}
	t.Cleanup(func() { tty.Close() })
	return ptm, tty
}
