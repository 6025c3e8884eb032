package safeexec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// Name returns the name the file is installed under, as given to
// CreateExecutable.
func (f *File) Name() string { return f.name }

// Write writes b to the file, as [os.File.Write] does.
func (f *File) Write(b []byte) (int, error) {
	if f.f == nil {
		return 0, f.closedError("write")
	}
	n, err := f.f.Write(b)
	f.failed(err)
	return n, err
}

// WriteString is like Write but writes the contents of s.
func (f *File) WriteString(s string) (int, error) {
	if f.f == nil {
		return 0, f.closedError("write")
	}
	n, err := f.f.WriteString(s)
	f.failed(err)
	return n, err
}

// ReadFrom implements [io.ReaderFrom], so that io.Copy from an *os.File
// uses the kernel's copy, as it does into an *os.File.
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	if f.f == nil {
		return 0, f.closedError("write")
	}
	n, err := f.f.ReadFrom(r)
	f.failed(err)
	return n, err
}

// Sync commits the file's contents to stable storage, as [os.File.Sync]
// does. If it fails, Close discards the file, as after a failed write.
func (f *File) Sync() error {
	if f.f == nil {
		return f.closedError("sync")
	}
	err := f.f.Sync()
	f.failed(err)
	f.synced = err == nil
	return err
}

// failed records the first write error, so that Close discards the file.
func (f *File) failed(err error) {
	if err != nil && f.werr == nil {
		f.werr = err
	}
}

func (f *File) closedError(op string) error {
	return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
}

func (f *File) pathErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: f.name, Err: pe.Err}
	}
	return &fs.PathError{Op: op, Path: f.name, Err: err}
}

func checkMode(perm fs.FileMode) error {
	if perm&0o111 == 0 {
		return fmt.Errorf("safeexec: mode %v has no execute bit", perm)
	}
	if perm&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
		return fmt.Errorf("safeexec: mode %v is not a file mode", perm)
	}
	return nil
}
