package safeexec

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// drainable reports whether the flock drain can be trusted for files in
// dir. Network and FUSE filesystems may emulate flock with POSIX record
// locks, which a child's copy of the descriptor does not hold, so there the
// drain would return at once, whatever the children still hold.
func drainable(dir string) bool {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return false
	}
	switch uint32(st.Type) {
	case unix.NFS_SUPER_MAGIC, unix.SMB_SUPER_MAGIC, unix.SMB2_SUPER_MAGIC,
		unix.CIFS_SUPER_MAGIC, unix.FUSE_SUPER_MAGIC, unix.V9FS_MAGIC:
		return false
	}
	return true
}

// rename renames oldpath to newpath. os.Rename would first look at
// newpath, to refuse to replace a directory, which the system call refuses
// by itself on Linux.
func rename(oldpath, newpath string) error {
	if err := unix.Rename(oldpath, newpath); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}

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

// pollSleep sleeps for d between two polls of the drain. Below a
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
