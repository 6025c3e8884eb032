package safeexec

// The os.File methods a File passes through.

import (
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
