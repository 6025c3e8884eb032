package safeexec

// The os.File methods a File passes through (issue #13). Each is like its
// os.File namesake, on the temporary file, with errors that name the file
// the caller named.

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Name returns the name the file is installed under, as given to
// [CreateExecutable]. It is safe to call Name after [File.Close].
func (f *File) Name() string { return f.name }

// Read is like [os.File.Read]: it reads from the file what has been written
// to it, from the current offset, and returns 0, [io.EOF] at its end.
func (f *File) Read(b []byte) (int, error) {
	if err := f.checkValid("read"); err != nil {
		return 0, err
	}
	n, err := f.f.Read(b)
	return n, f.osErr(err)
}

// ReadAt is like [os.File.ReadAt]: it reads len(b) bytes of what has been
// written, from offset off, and returns an error, [io.EOF] at the end of
// the file, when it reads fewer. It does not change the offset.
func (f *File) ReadAt(b []byte, off int64) (int, error) {
	if err := f.checkValid("read"); err != nil {
		return 0, err
	}
	n, err := f.f.ReadAt(b, off)
	return n, f.osErr(err)
}

// Write is like [os.File.Write]. If it fails, Close discards the file and
// returns the error.
func (f *File) Write(b []byte) (int, error) {
	if err := f.checkValid("write"); err != nil {
		return 0, err
	}
	n, err := f.f.Write(b)
	return n, f.failed(f.osErr(err))
}

// WriteAt is like [os.File.WriteAt]: it writes len(b) bytes at offset off
// and leaves the offset of Write alone, so that a header can be filled in
// after the body. If it fails, Close discards the file and returns the
// error.
func (f *File) WriteAt(b []byte, off int64) (int, error) {
	if err := f.checkValid("write"); err != nil {
		return 0, err
	}
	n, err := f.f.WriteAt(b, off)
	return n, f.failed(f.osErr(err))
}

// WriteString is like Write but writes the contents of s.
func (f *File) WriteString(s string) (int, error) {
	if err := f.checkValid("write"); err != nil {
		return 0, err
	}
	n, err := f.f.WriteString(s)
	return n, f.failed(f.osErr(err))
}

// ReadFrom implements [io.ReaderFrom] as [os.File.ReadFrom] does, so that
// [io.Copy] from an *os.File uses the kernel's copy, as it does into an
// *os.File. An error of r's own comes back unchanged, as from os.File. If
// ReadFrom fails, whichever side failed, Close discards the file and
// returns the error.
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	if err := f.checkValid("write"); err != nil {
		return 0, err
	}
	n, err := f.f.ReadFrom(r)
	return n, f.failed(f.osErr(err))
}

// Seek is like [os.File.Seek]: it sets the offset of the next Read or Write.
// A failed Seek changes nothing, and Close installs the file all the same.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	if err := f.checkValid("seek"); err != nil {
		return 0, err
	}
	ret, err := f.f.Seek(offset, whence)
	return ret, f.osErr(err)
}

// Stat is like [os.File.Stat], but describes the file as Close will
// install it: its Name is the final element of the name given to
// [CreateExecutable], and its Mode is the mode Close will set (see
// [File.Chmod]). Size, ModTime and Sys are the file's as written so far.
// As the FileInfo is not one the os package made, [os.SameFile] reports
// false for it; compare the device and inode numbers in Sys instead.
func (f *File) Stat() (os.FileInfo, error) {
	if err := f.checkValid("stat"); err != nil {
		return nil, err
	}
	fi, err := f.f.Stat()
	if err != nil {
		return nil, f.osErr(err)
	}
	mode := fi.Mode() &^ fs.ModeType // already the mode to install
	if f.chmod {
		mode = f.mode
	}
	return fileInfo{fi, filepath.Base(f.name), mode}, nil
}

// fileInfo is the FileInfo of a File: the temporary file's, with the name
// and mode it will be installed under.
type fileInfo struct {
	fs.FileInfo
	name string
	mode fs.FileMode
}

func (fi fileInfo) Name() string      { return fi.name }
func (fi fileInfo) Mode() fs.FileMode { return fi.mode }

// Truncate is like [os.File.Truncate]: it changes the size of the file and
// not the offset. If it fails, Close discards the file and returns the
// error.
func (f *File) Truncate(size int64) error {
	if err := f.checkValid("truncate"); err != nil {
		return err
	}
	return f.failed(f.osErr(f.f.Truncate(size)))
}

// Sync is like [os.File.Sync]: it commits the file's contents to stable
// storage. After a Sync that succeeds, Close makes the rename that installs
// the file durable too. If Sync fails, Close discards the file and returns
// the error, as after a failed write.
func (f *File) Sync() error {
	if err := f.checkValid("sync"); err != nil {
		return err
	}
	if err := f.failed(f.osErr(f.f.Sync())); err != nil {
		return err
	}
	f.synced = true
	return nil
}

// Chmod is like [os.File.Chmod], but it does not change the file until
// Close installs it: it sets the mode Close installs to mode exactly,
// without the umask, as os.File.Chmod does. The mode must be one
// [CreateExecutable] takes: it must have an execute bit, and no bits other
// than the permission bits, [fs.ModeSetuid], [fs.ModeSetgid] and
// [fs.ModeSticky]. Otherwise Chmod changes nothing and returns an
// [*fs.PathError].
//
// Until Close, the file keeps the mode it was created with, so that
// nobody can run it half-written, and the owner can read it.
func (f *File) Chmod(mode os.FileMode) error {
	if err := f.checkValid("chmod"); err != nil {
		return err
	}
	if err := checkMode(mode); err != nil {
		return f.pathErr("chmod", err)
	}
	f.mode = mode
	f.chmod = true
	return nil
}

// Fd is like [os.File.Fd]: it returns the descriptor of the file being
// written, which Close closes. It returns ^uintptr(0) for a nil or closed
// File, as os.File's does.
//
// The descriptor must not be closed. A copy of it, made with dup or
// passed to a child, holds the file open for writing just as a forked
// child's does: Close waits for it and, if it outlives the wait, fails
// with ETXTBSY. Prefer [File.SyscallConn].
func (f *File) Fd() uintptr {
	if f == nil || f.f == nil {
		return ^uintptr(0)
	}
	return f.f.Fd()
}

// SyscallConn is like [os.File.SyscallConn]: it returns a raw connection
// to the file being written, for system calls on its descriptor. Once the
// File is closed, the connection's methods fail, and SyscallConn returns
// an error, where os.File's returns a connection whose methods fail. The
// caveats of [File.Fd] about copies of the descriptor apply.
func (f *File) SyscallConn() (syscall.RawConn, error) {
	if err := f.checkValid("SyscallConn"); err != nil {
		return nil, err
	}
	return f.f.SyscallConn()
}

// checkMode returns an error unless perm is a mode an executable can be
// created or installed with: permission bits with at least one execute
// bit, and maybe setuid, setgid and sticky.
func checkMode(perm fs.FileMode) error {
	if stray := perm &^ (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky); stray != 0 {
		// 0o4755 prints as -rwxr-xr-x: name the bits in octal, since the
		// Unix spellings of setuid, setgid and sticky are stray bits here.
		return fmt.Errorf("safeexec: mode %v has bits %O besides the permission bits; "+
			"setuid, setgid and sticky are fs.ModeSetuid, fs.ModeSetgid and fs.ModeSticky", perm, uint32(stray))
	}
	if perm&0o111 == 0 {
		return fmt.Errorf("safeexec: mode %v has no execute bit", perm)
	}
	return nil
}

// checkValid returns the error of a method called on a nil File,
// [os.ErrInvalid] as for a nil *os.File, or on a closed one.
func (f *File) checkValid(op string) error {
	if f == nil {
		return os.ErrInvalid
	}
	if f.f == nil {
		return f.closedError(op)
	}
	return nil
}

// pathErr returns err as an [*fs.PathError] for op on the name given to
// CreateExecutable, or nil if err is nil. If err is an *fs.PathError or
// an [*os.LinkError], as the os calls on the temporary file return, its
// cause takes its place, reachable with [errors.Is] and [errors.As].
func (f *File) pathErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: f.name, Err: underlying(err)}
}

// osErr returns err, an error of an os.File method on the temporary file,
// as os.File would return it for a file opened under the name given:
// an *fs.PathError on that file gets that name and keeps its Op, and any
// other error, such as [io.EOF] or an error of ReadFrom's reader, comes
// back unchanged.
func (f *File) osErr(err error) error {
	if e, ok := err.(*fs.PathError); ok && f.isTemp(e.Path) {
		return f.pathErr(e.Op, e)
	}
	return err
}

// isTemp reports whether path, from an error, names the temporary file.
func (f *File) isTemp(path string) bool {
	return f.f != nil && path == f.f.Name() || path == f.tmpPath()
}

// failed records err, if it is the first error of a write, so that Close
// discards the file, and returns it.
func (f *File) failed(err error) error {
	if err != nil && f.werr == nil {
		f.werr = err
	}
	return err
}

// closedError returns the error of op on a closed File.
func (f *File) closedError(op string) error {
	return f.pathErr(op, fs.ErrClosed)
}
