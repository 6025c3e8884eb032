package safeexec

import (
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// lockExclusive takes an exclusive flock on f's open file description,
// which every child that inherited a copy of f shares.
func lockExclusive(f *os.File) error {
	return flock(f, unix.LOCK_EX|unix.LOCK_NB)
}

// tryLockShared tries to take a shared flock on f without waiting. It
// reports false while another open file description of the same file holds
// an exclusive lock.
func tryLockShared(f *os.File) (bool, error) {
	err := flock(f, unix.LOCK_SH|unix.LOCK_NB)
	if err == unix.EWOULDBLOCK {
		return false, nil
	}
	return err == nil, err
}

func flock(f *os.File, how int) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	ctlErr := conn.Control(func(fd uintptr) {
		err = unix.Flock(int(fd), how)
	})
	if ctlErr != nil {
		return ctlErr
	}
	return err
}

// pollSleep sleeps for d, between two polls of the flock drain or two
// retries of a busy Start. Below a
// millisecond it sleeps in the kernel and blocks the thread: when the
// process is otherwise idle, the runtime's timers wake a goroutine only
// with millisecond resolution, and a child typically lets go of the file
// within a few hundred microseconds.
func pollSleep(d time.Duration) {
	if d >= time.Millisecond {
		time.Sleep(d)
		return
	}
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}

// pipeReady reports whether r, the read end of a pipe, can be read without
// waiting: it has data, or every copy of its write end is closed.
func pipeReady(r *os.File) (bool, error) {
	conn, err := r.SyscallConn()
	if err != nil {
		return false, err
	}
	var n int
	ctlErr := conn.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err = unix.Poll(fds, 0)
			if err != unix.EINTR {
				return
			}
		}
	})
	if ctlErr != nil {
		return false, ctlErr
	}
	return n > 0, err
}

// orderFDs reports whether the order of the file's and the pipe's
// descriptors decides which one a child releases first at exec.
const orderFDs = true

// fdAbove returns f, or, if f's descriptor is numbered below p's, a
// duplicate of f numbered above p's, closing f.
func fdAbove(f, p *os.File) (*os.File, error) {
	fd, err := sysfd(f)
	if err != nil {
		return f, err
	}
	pfd, err := sysfd(p)
	if err != nil || fd > pfd {
		return f, err
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, pfd+1)
	if err != nil {
		return f, os.NewSyscallError("fcntl", err)
	}
	above := os.NewFile(uintptr(dup), f.Name())
	f.Close()
	return above, nil
}

// sysfd returns f's descriptor without making it blocking, as Fd would.
func sysfd(f *os.File) (int, error) {
	conn, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := conn.Control(func(d uintptr) { fd = int(d) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// device returns the device of the file fi describes, or 0.
func device(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}

// reopenRead opens the file f refers to for reading, through /proc, so
// that it is that very file whatever its name now holds.
func reopenRead(f *os.File) (*os.File, error) {
	fd, err := sysfd(f)
	if err != nil {
		return nil, err
	}
	return os.Open("/proc/self/fd/" + strconv.Itoa(fd))
}

// noWriters reports whether no descriptor anywhere holds r's file open for
// writing, by the count the kernel's exec checks: a read lease is granted
// only then (fs/locks.c, check_conflicting_open). It takes the lease and
// gives it back at once. It fails where leases are not to be had: on
// filesystems without them, or for a file the process does not own.
func noWriters(r *os.File) (bool, error) {
	fd, err := sysfd(r)
	if err != nil {
		return false, err
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_RDLCK)
	if err == unix.EAGAIN {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_UNLCK)
	return true, err
}
