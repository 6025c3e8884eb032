package safeexec

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// canFork reports whether a child process may hold a copy of a File.
const canFork = true

// openDir opens the directory a File is created and installed in, as a
// path only (O_PATH): the calls made relative to it need no more, and no
// filesystem is asked to open the directory (a FUSE daemon would get an
// OPENDIR, and a RELEASEDIR at the close). Like the other descriptors of
// a File but the one written, it is not registered with the runtime's
// poller, which cannot serve it.
func openDir(dir string) (*os.File, error) {
	for {
		fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == nil {
			return os.NewFile(uintptr(fd), dir), nil
		}
		if err != unix.EINTR {
			return nil, err
		}
	}
}

// isFileAt reports whether name in dir is the regular file fi describes,
// from what the kernel holds of it (AT_STATX_DONT_SYNC): a FUSE daemon is
// sent no attribute request, where a stat after the file's writes sends
// one. Close asks it just before the rename, after openTemp has asked the
// filesystem itself.
func isFileAt(dir *os.File, name string, fi os.FileInfo) (bool, error) {
	return isFile(dir, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_DONT_SYNC, fi)
}

// isFileOpen reports whether d is open on the regular file fi describes,
// asking the filesystem itself (AT_STATX_FORCE_SYNC): a FUSE daemon that
// serves opens by path may have opened another file put under the name
// behind the kernel's back, which the kernel's cached inode number would
// not show, and Close sets the mode through d.
func isFileOpen(d *os.File, fi os.FileInfo) (bool, error) {
	return isFile(d, "", unix.AT_EMPTY_PATH|unix.AT_STATX_FORCE_SYNC, fi)
}

// isFile reports whether name in d, or d itself, is the regular file fi
// describes, by its type and inode number, asked of statx with flags.
func isFile(d *os.File, name string, flags int, fi os.FileInfo) (bool, error) {
	want, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false, nil
	}
	var st unix.Statx_t
	err := at(d, func(fd int) error {
		return unix.Statx(fd, name, flags, unix.STATX_TYPE|unix.STATX_INO, &st)
	})
	if err != nil {
		return false, err
	}
	return st.Mode&unix.S_IFMT == unix.S_IFREG && st.Ino == want.Ino &&
		unix.Mkdev(st.Dev_major, st.Dev_minor) == uint64(want.Dev), nil
}

// inspect reports whether base exists in dir, failing with EISDIR if it
// is a directory, or as a name too long for the filesystem does; and
// returns an identity of dir's mount, where the file is created, that no
// other mount ever gets, or 0 where the kernel has none (before Linux
// 6.8). An existing target is on dir's mount unless it is the root of a
// mount of its own, a file bind mounted over the target: then dir is
// asked. Asked of a FUSE mount for its ID alone, statx sends the daemon
// nothing.
func inspect(dir *os.File, base string) (exists bool, mount uint64, err error) {
	var st unix.Statx_t
	err = at(dir, func(d int) error {
		return unix.Statx(d, base, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE|unix.STATX_MNT_ID_UNIQUE, &st)
	})
	switch {
	case err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return true, 0, unix.EISDIR
	case err == nil:
		exists = true
	case err != unix.ENOENT:
		return false, 0, err
	}
	if !exists || st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 || st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0 {
		st = unix.Statx_t{}
		err = at(dir, func(d int) error {
			return unix.Statx(d, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID_UNIQUE, &st)
		})
		if err != nil {
			return false, 0, err
		}
	}
	if st.Mask&unix.STATX_MNT_ID_UNIQUE != 0 {
		mount = st.Mnt_id
	}
	return exists, mount, nil
}

// canUnname reports whether this process can link an unnamed file into a
// directory and reopen it, both of which go through /proc/self/fd: a
// chroot or a build sandbox may have no /proc, where os.WriteFile works
// all the same. It is the process's to decide, once, not a mount's.
// Without it, Files have temporary names.
var canUnname = sync.OnceValue(func() bool {
	var st unix.Statfs_t
	return unix.Statfs("/proc/self/fd", &st) == nil && st.Type == unix.PROC_SUPER_MAGIC
})

// openUnnamed opens a new file in dir with no name (O_TMPFILE), for
// reading and writing, with mode perm before the umask. It fails with
// errors.ErrUnsupported where the filesystem, or the kernel, has no such
// files.
func openUnnamed(dir *os.File, name string, perm os.FileMode) (*os.File, error) {
	f, err := openAt(dir, name, ".", unix.O_TMPFILE|unix.O_RDWR, perm)
	switch {
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EISDIR), errors.Is(err, unix.EINVAL):
		// EISDIR: a kernel without O_TMPFILE opened dir O_DIRECTORY.
		return nil, errors.ErrUnsupported
	}
	return f, err
}

// openAt opens file in dir, as os.OpenFile does, not following a final
// link, and names the result name, for its errors. The descriptor is not
// registered with the runtime's poller: a regular file gains nothing by it.
func openAt(dir *os.File, name, file string, flag int, perm os.FileMode) (*os.File, error) {
	fd := -1
	err := at(dir, func(d int) (err error) {
		for {
			fd, err = unix.Openat(d, file, flag|unix.O_CLOEXEC|unix.O_NOFOLLOW, uint32(perm.Perm()))
			if err != unix.EINTR {
				return err
			}
		}
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// linkAt links the unnamed file r refers to into dir as name.
func linkAt(r, dir *os.File, name string) error {
	fd, err := sysfd(r)
	if err != nil {
		return err
	}
	err = at(dir, func(d int) error {
		return unix.Linkat(unix.AT_FDCWD, procFD(fd), d, name, unix.AT_SYMLINK_FOLLOW)
	})
	if err != nil && err != unix.EEXIST {
		return fmt.Errorf("through %s: %w", procFD(fd), err)
	}
	return err
}

// procFD returns the path of descriptor fd in /proc.
func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// syncDir commits dir's entries to stable storage. dir is a path only,
// which cannot be synced: the directory is opened for that.
func syncDir(dir *os.File) error {
	d, err := openAt(dir, dir.Name(), ".", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// renameAt renames oldname to newname, both in dir.
func renameAt(dir *os.File, oldname, newname string) error {
	return at(dir, func(d int) error { return unix.Renameat(d, oldname, d, newname) })
}

// removeAt removes name from dir.
func removeAt(dir *os.File, name string) error {
	return at(dir, func(d int) error { return unix.Unlinkat(d, name, 0) })
}

// at calls fn with dir's descriptor.
func at(dir *os.File, fn func(fd int) error) error {
	d, err := sysfd(dir)
	if err != nil {
		return err
	}
	return fn(d)
}

// reopenRead opens the file f refers to for reading, through /proc, so
// that it is that very file whatever its name now holds, or if it has
// none.
func reopenRead(f *os.File) (*os.File, error) {
	fd, err := sysfd(f)
	if err != nil {
		return nil, err
	}
	r, err := unix.Open(procFD(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("safeexec: reopening the unnamed file through %s: %w", procFD(fd), err)
	}
	return os.NewFile(uintptr(r), f.Name()), nil
}

// readUmask returns the process's umask, which Linux shows in
// /proc/self/status since 4.7; without /proc, it makes a directory in dir
// to see what the umask takes away (see probeUmask).
func readUmask(dir *os.File, base string) (os.FileMode, error) {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		if _, rest, ok := bytes.Cut(b, []byte("\nUmask:\t")); ok && len(rest) >= 4 {
			if m, err := strconv.ParseUint(string(rest[:4]), 8, 32); err == nil {
				return os.FileMode(m), nil
			}
		}
	}
	return probeUmask(base, func(name string) (os.FileMode, error) {
		var st unix.Stat_t
		err := at(dir, func(d int) error {
			if err := unix.Mkdirat(d, name, 0o777); err != nil {
				return err
			}
			err := unix.Fstatat(d, name, &st, unix.AT_SYMLINK_NOFOLLOW)
			if rerr := unix.Unlinkat(d, name, unix.AT_REMOVEDIR); err == nil {
				err = rerr
			}
			return err
		})
		return os.FileMode(st.Mode & 0o777), err
	})
}

// pin returns a descriptor that holds the inode of w, a file named tmp in
// dir, and is no writer: opened as a path only (O_PATH), through /proc
// where the process has it, so that no filesystem is asked anything, else
// by the name, checked to be the file created. While it is open, the
// inode's number cannot pass to another file, so Close can tell the file
// it created by its device and inode.
func pin(w, dir *os.File, name, tmp string, created os.FileInfo) (*os.File, error) {
	if canUnname() {
		fd, err := sysfd(w)
		if err != nil {
			return nil, err
		}
		p, err := unix.Open(procFD(fd), unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(p), name), nil
	}
	return pinByName(dir, name, tmp, unix.O_PATH, created)
}

// prepareLease makes the kernel signal a lease on r's file, should
// someone open the file for writing while it is held, with SIGURG rather
// than SIGIO: the Go runtime sends itself SIGURG and absorbs it, where
// SIGIO reaches a program that asks for every signal and kills a C
// program that hosts Go code built with -buildmode=c-archive.
func prepareLease(r *os.File) error {
	fd, err := sysfd(r)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETSIG, int(unix.SIGURG))
	}
	return err
}

// noWriters reports whether no descriptor anywhere holds r's file open for
// writing, by the count the kernel's exec checks: a read lease is granted
// only then (fs/locks.c, check_conflicting_open). It takes the lease and
// gives it back at once. It fails where leases are not to be had: on
// filesystems without them, for a file the process neither owns nor has
// CAP_LEASE for, or with fs.leases-enable=0.
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
	fd, err := sysfd(f)
	if err != nil {
		return err
	}
	return unix.Flock(fd, how)
}

// pollSleep sleeps for d, between two polls of a drain or two retries of
// a busy Start. Below a millisecond it sleeps in the kernel and blocks
// the thread: when the process is otherwise idle, the runtime's timers
// wake a goroutine only with millisecond resolution, and a child
// typically lets go of the file within a few hundred microseconds.
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
	fd, err := sysfd(r)
	if err != nil {
		return false, err
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		if err != unix.EINTR {
			return n > 0, err
		}
	}
}

// orderFDs reports whether the order of the file's and the pipe's
// descriptors decides which one a child releases first at exec.
const orderFDs = true

// fdAbove returns a duplicate of f numbered above p, if f is numbered
// below p, or else nil. It makes no filesystem call.
func fdAbove(f, p *os.File) (*os.File, error) {
	fd, err := sysfd(f)
	if err != nil {
		return nil, err
	}
	pfd, err := sysfd(p)
	if err != nil || fd > pfd {
		return nil, err
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, pfd+1)
	if err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(dup), f.Name()), nil
}

// sysfd returns f's descriptor without making it blocking, as Fd would.
// The File keeps f alive while it is used.
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
