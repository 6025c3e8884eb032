//go:build !linux

package safeexec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// canFork reports whether a child process may hold a copy of a File:
// everywhere but on Windows, which has no fork.
const canFork = runtime.GOOS != "windows"

// openDir opens the directory a File is created and installed in. Off
// Linux the File works by path in it, so the path is made absolute.
func openDir(dir string) (*os.File, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return os.Open(abs)
}

// inspect reports whether base exists in dir, failing with EISDIR if it
// is a directory, and returns an identity of its mount: off Linux 0,
// unknown, so that nothing is remembered.
func inspect(dir *os.File, base string) (exists bool, mount uint64, err error) {
	fi, err := os.Lstat(filepath.Join(dir.Name(), base))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, 0, nil
	case err == nil && fi.IsDir():
		return true, 0, syscall.EISDIR
	}
	return err == nil, 0, err
}

// isFileAt reports whether name in dir is the regular file fi describes.
func isFileAt(dir *os.File, name string, fi os.FileInfo) (bool, error) {
	got, err := os.Lstat(filepath.Join(dir.Name(), name))
	return err == nil && got.Mode().IsRegular() && os.SameFile(got, fi), err
}

// isFileOpen reports whether d is open on the regular file fi describes.
func isFileOpen(d *os.File, fi os.FileInfo) (bool, error) {
	got, err := d.Stat()
	return err == nil && got.Mode().IsRegular() && os.SameFile(got, fi), err
}

// canUnname reports whether this process can link and reopen an unnamed
// file. Off Linux there are none.
func canUnname() bool { return false }

// openUnnamed opens a file with no name. Off Linux it is not supported.
func openUnnamed(dir *os.File, name string, perm os.FileMode) (*os.File, error) {
	return nil, errors.ErrUnsupported
}

// openAt opens file in dir, as os.OpenFile does.
func openAt(dir *os.File, name, file string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir.Name(), file), flag, perm)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: underlying(err)}
	}
	return f, nil
}

// linkAt links an unnamed file. Off Linux there are none.
func linkAt(r, dir *os.File, name string) error { return errors.ErrUnsupported }

// syncDir commits dir's entries to stable storage. Windows cannot sync a
// directory: there the rename is as durable as NTFS makes it (untested).
func syncDir(dir *os.File) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	return dir.Sync()
}

// renameAt renames oldname to newname, both in dir.
func renameAt(dir *os.File, oldname, newname string) error {
	return os.Rename(filepath.Join(dir.Name(), oldname), filepath.Join(dir.Name(), newname))
}

// removeAt removes name from dir.
func removeAt(dir *os.File, name string) error {
	return os.Remove(filepath.Join(dir.Name(), name))
}

// reopenRead opens an unnamed file for reading. Off Linux there are none.
func reopenRead(f *os.File) (*os.File, error) { return nil, errors.ErrUnsupported }

// readUmask returns the process's umask. Off Linux there is no file that
// shows it: it makes a directory in dir to see what the umask takes away
// (see probeUmask).
func readUmask(dir *os.File, base string) (os.FileMode, error) {
	return probeUmask(base, func(name string) (os.FileMode, error) {
		path := filepath.Join(dir.Name(), name)
		if err := os.Mkdir(path, 0o777); err != nil {
			return 0, err
		}
		fi, err := os.Lstat(path)
		if rerr := os.Remove(path); err == nil {
			err = rerr
		}
		if err != nil {
			return 0, err
		}
		return fi.Mode().Perm(), nil
	})
}

// pin returns a descriptor that holds the inode of w, a file named tmp in
// dir: off Linux a read-only descriptor, checked to be the file created.
// While it is open, the inode's number cannot pass to another file, so
// Close can tell the file it created by its device and inode. Windows
// has no fork to guard against, and cannot rename a file held open.
func pin(w, dir *os.File, name, tmp string, created os.FileInfo) (*os.File, error) {
	if !canFork {
		return nil, nil
	}
	return pinByName(dir, name, tmp, os.O_RDONLY|syscall.O_NONBLOCK, created)
}

// prepareLease prepares a lease. Off Linux there are none.
func prepareLease(r *os.File) error { return errors.ErrUnsupported }

// noWriters reports whether nobody holds r's file open for writing. Off
// Linux it cannot tell.
func noWriters(r *os.File) (bool, error) { return false, errors.ErrUnsupported }

// lockExclusive takes an exclusive flock on f's open file description.
// Off Linux it is not supported, so Close drains with a pipe instead:
// macOS does not refuse to run a file open for writing, Windows has no
// fork, and flock is untested on the BSDs.
func lockExclusive(f *os.File) error { return errors.ErrUnsupported }

// tryLockShared tries to take a shared flock on f without waiting. Off
// Linux it is not supported.
func tryLockShared(f *os.File) (bool, error) { return false, errors.ErrUnsupported }

// pollSleep sleeps for d, between two polls of a drain or two retries of
// a busy Start. Off Linux it is time.Sleep.
func pollSleep(d time.Duration) { time.Sleep(d) }

// pipeReady reports whether r, the read end of a pipe, can be read without
// waiting. Off Linux it cannot tell, so the drain reads with a deadline,
// and counts as a wait, every time.
func pipeReady(r *os.File) (bool, error) { return false, errors.ErrUnsupported }

// orderFDs reports whether Create must keep the file numbered above the
// pipe's write end. Off Linux it does not (see fdAbove).
const orderFDs = false

// fdAbove returns nil. Off Linux, exec releases each close-on-exec
// descriptor at once, in increasing order (as FreeBSD's does), so the
// pipe, made first, is usually released just before the file: there the
// pipe drain narrows the window rather than closes it. This is built but
// untested off Linux.
func fdAbove(f, p *os.File) (*os.File, error) { return nil, nil }
