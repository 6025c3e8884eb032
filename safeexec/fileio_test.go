package safeexec

// Tests of the os.File methods a File passes through (issue #13) that need
// no file: the method set, nil Files, modes and errors. The tests that
// write files are in fileio_linux_test.go.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
)

// osFile is the methods of *os.File that a *File has too. Code written
// against an *os.File that calls only these compiles against a *File.
type osFile interface {
	Name() string
	Read(b []byte) (int, error)
	ReadAt(b []byte, off int64) (int, error)
	Write(b []byte) (int, error)
	WriteAt(b []byte, off int64) (int, error)
	WriteString(s string) (int, error)
	ReadFrom(r io.Reader) (int64, error)
	Seek(offset int64, whence int) (int64, error)
	Stat() (fs.FileInfo, error)
	Truncate(size int64) error
	Sync() error
	Chmod(mode fs.FileMode) error
	Fd() uintptr
	SyscallConn() (syscall.RawConn, error)
	Close() error
}

var (
	_ osFile = (*os.File)(nil)
	_ osFile = (*File)(nil)

	_ io.Writer       = (*File)(nil)
	_ io.WriterAt     = (*File)(nil)
	_ io.Seeker       = (*File)(nil)
	_ io.StringWriter = (*File)(nil)
	_ io.ReaderFrom   = (*File)(nil)
	_ io.Reader       = (*File)(nil)
	_ io.ReaderAt     = (*File)(nil)
	_ io.WriteSeeker  = (*File)(nil)
	_ syscall.Conn    = (*File)(nil)
)

// A fileCall is one call, or a few, of osFile methods, the same on an
// *os.File and on a *File. It returns what it got, as text, and the first
// error.
type fileCall struct {
	name string
	call func(f osFile) (string, error)
}

// fileCalls returns the calls TestFileNil runs; TestFileLikeOSFile runs
// them and more. src is a file ReadFrom copies from, or nil.
func fileCalls(src func() *os.File) []fileCall {
	n := func(n int64, err error) (string, error) { return fmt.Sprint(n), err }
	ni := func(i int, err error) (string, error) { return fmt.Sprint(i), err }
	return []fileCall{
		{"Write", func(f osFile) (string, error) { return ni(f.Write([]byte("# written\n"))) }},
		{"WriteString", func(f osFile) (string, error) { return ni(f.WriteString("# written\n")) }},
		{"WriteAt", func(f osFile) (string, error) { return ni(f.WriteAt([]byte("sh"), 7)) }},
		{"WriteAt past the end", func(f osFile) (string, error) { return ni(f.WriteAt([]byte("\n# after a hole\n"), 64)) }},
		{"WriteAt negative", func(f osFile) (string, error) { return ni(f.WriteAt([]byte("x"), -1)) }},
		{"ReadFrom a reader", func(f osFile) (string, error) { return n(f.ReadFrom(strings.NewReader("# copied\n"))) }},
		{"ReadFrom a file", func(f osFile) (string, error) {
			if src == nil {
				return n(f.ReadFrom(strings.NewReader("# copied\n")))
			}
			s := src()
			defer s.Close()
			return n(f.ReadFrom(s))
		}},
		{"ReadFrom a failing reader", func(f osFile) (string, error) {
			return n(f.ReadFrom(io.MultiReader(strings.NewReader("# copied\n"), errReader{})))
		}},
		{"Seek and Write", func(f osFile) (string, error) {
			if off, err := f.Seek(2, io.SeekStart); err != nil {
				return fmt.Sprint(off), err
			}
			return ni(f.WriteString("/bin/sh\n#"))
		}},
		{"Seek from the end", func(f osFile) (string, error) { return n(f.Seek(-3, io.SeekEnd)) }},
		{"Seek negative", func(f osFile) (string, error) { return n(f.Seek(-1, io.SeekStart)) }},
		{"Seek bad whence", func(f osFile) (string, error) { return n(f.Seek(0, 7)) }},
		{"Truncate", func(f osFile) (string, error) { return "", f.Truncate(10) }},
		{"Truncate negative", func(f osFile) (string, error) { return "", f.Truncate(-1) }},
		{"Sync", func(f osFile) (string, error) { return "", f.Sync() }},
		{"Stat", func(f osFile) (string, error) {
			fi, err := f.Stat()
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s %d %v dir=%v", fi.Name(), fi.Size(), fi.Mode(), fi.IsDir()), nil
		}},
		{"Read", func(f osFile) (string, error) {
			if off, err := f.Seek(2, io.SeekStart); err != nil {
				return fmt.Sprint(off), err
			}
			b := make([]byte, 8)
			k, err := f.Read(b)
			off, _ := f.Seek(0, io.SeekCurrent)
			return fmt.Sprintf("%q at %d", b[:k], off), err
		}},
		{"Read at the end", func(f osFile) (string, error) {
			if off, err := f.Seek(0, io.SeekEnd); err != nil {
				return fmt.Sprint(off), err
			}
			k, err := f.Read(make([]byte, 8))
			return fmt.Sprint(k), err
		}},
		{"ReadAt", func(f osFile) (string, error) {
			b := make([]byte, 7)
			k, err := f.ReadAt(b, 2)
			off, _ := f.Seek(0, io.SeekCurrent)
			return fmt.Sprintf("%q, offset %d", b[:k], off), err
		}},
		{"ReadAt across the end", func(f osFile) (string, error) {
			b := make([]byte, 64)
			k, err := f.ReadAt(b, 10)
			return fmt.Sprintf("%q", b[:k]), err
		}},
		{"ReadAt negative", func(f osFile) (string, error) { return ni(f.ReadAt(make([]byte, 1), -1)) }},
		{"Chmod", func(f osFile) (string, error) { return "", f.Chmod(0o710) }},
		{"Fd", func(f osFile) (string, error) { return fmt.Sprint(f.Fd() != ^uintptr(0)), nil }},
		{"SyscallConn", func(f osFile) (string, error) {
			c, err := f.SyscallConn()
			if err != nil {
				return "", err
			}
			called := false
			err = c.Control(func(fd uintptr) { called = fd != ^uintptr(0) })
			return fmt.Sprint(called), err
		}},
	}
}

// errReader's Read fails with errRead.
type errReader struct{}

var errRead = errors.New("the reader failed")

func (errReader) Read([]byte) (int, error) { return 0, errRead }

// callFile runs call on f and returns what it got, or "panic" if it
// panicked.
func callFile(call func(osFile) (string, error), f osFile) (got string, err error, panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	got, err = call(f)
	return got, err, false
}

// sameError returns what is wrong with err, from a call on a File named
// name, compared with want, from the same call on an *os.File named
// wantName, or "" if nothing is: both nil, or the same error but for the
// name, or, for errors os does not wrap (io.EOF, os.ErrInvalid, a
// reader's), the very same error.
func sameError(err error, name string, want error, wantName string) string {
	if want == nil || err == nil {
		if err != want {
			return "want a nil error"
		}
		return ""
	}
	wpe, ok := want.(*fs.PathError)
	if !ok {
		if err != want {
			return fmt.Sprintf("want %v (%T), as os.File returns", want, want)
		}
		return ""
	}
	pe, ok := err.(*fs.PathError)
	switch {
	case wpe.Path != wantName:
		return fmt.Sprintf("the os.File's error names %q, not %q", wpe.Path, wantName)
	case !ok:
		return fmt.Sprintf("want an *fs.PathError like %v, got %T", want, err)
	case pe.Op != wpe.Op:
		return fmt.Sprintf("Op %q, want %q", pe.Op, wpe.Op)
	case pe.Path != name:
		return fmt.Sprintf("Path %q, want the name given, %q", pe.Path, name)
	case !errors.Is(err, wpe.Err) && pe.Err.Error() != wpe.Err.Error():
		return fmt.Sprintf("cause %v, want errors.Is %v", pe.Err, wpe.Err)
	}
	return ""
}

// TestFileNil runs each method on a nil *File and on a nil *os.File: they
// must return the same, os.ErrInvalid where they return errors, and Name
// must panic, as os.File's does.
func TestFileNil(t *testing.T) {
	t.Parallel()
	calls := append(fileCalls(nil), fileCall{"Name", func(f osFile) (string, error) { return f.Name(), nil }})
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			want, wantErr, wantPanic := callFile(c.call, (*os.File)(nil))
			got, err, panicked := callFile(c.call, (*File)(nil))
			if got != want || panicked != wantPanic {
				t.Errorf("%s on a nil *File = %q (panicked %v), want %q (panicked %v)", c.name, got, panicked, want, wantPanic)
			}
			if msg := sameError(err, "", wantErr, ""); msg != "" {
				t.Errorf("%s on a nil *File: error %v; %s", c.name, err, msg)
			}
			if !wantPanic && c.name != "Fd" && !errors.Is(err, os.ErrInvalid) {
				t.Errorf("%s on a nil *File: error %v, want os.ErrInvalid", c.name, err)
			}
		})
	}
}

// TestCheckMode checks the modes CreateExecutable and Chmod take, and that
// a mode with stray bits is named in octal, with the way to say setuid,
// setgid and sticky (#13: 0o4755 printed as -rwxr-xr-x).
func TestCheckMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode fs.FileMode
		want []string // what the error says; nil: no error
	}{
		{0o755, nil},
		{0o100, nil},
		{0o711 | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky, nil},
		{0o644, []string{"safeexec: mode -rw-r--r-- has no execute bit"}},
		{0, []string{"has no execute bit"}},
		{0o4755, []string{"0o4000", "fs.ModeSetuid", "fs.ModeSetgid", "fs.ModeSticky"}},
		{0o1755, []string{"0o1000"}},
		{0o755 | fs.ModeDir, []string{"0o20000000000"}},
		{0o6644, []string{"0o6000"}},
	}
	for _, tt := range tests {
		err := checkMode(tt.mode)
		if tt.want == nil {
			if err != nil {
				t.Errorf("checkMode(%O) = %v, want nil", uint32(tt.mode), err)
			}
			continue
		}
		if err == nil {
			t.Errorf("checkMode(%O) = nil, want an error", uint32(tt.mode))
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("checkMode(%O) = %q, want it to say %q", uint32(tt.mode), err, w)
			}
		}
		if !strings.HasPrefix(err.Error(), "safeexec: ") {
			t.Errorf("checkMode(%O) = %q, want the prefix \"safeexec: \"", uint32(tt.mode), err)
		}
	}
}

// TestPathErr checks that pathErr names the file given and keeps the
// cause reachable.
func TestPathErr(t *testing.T) {
	t.Parallel()
	f := &File{name: "dir/prog", tmp: ".prog.safeexec-x"}
	if err := f.pathErr("close", nil); err != nil {
		t.Errorf("pathErr(close, nil) = %v, want nil", err)
	}
	boom := errors.New("boom")
	for _, tt := range []struct {
		name  string
		err   error
		cause error
	}{
		{"plain", boom, boom},
		{"errno", syscall.EIO, syscall.EIO},
		{"PathError", &fs.PathError{Op: "fsync", Path: "dir/.prog.safeexec-x", Err: syscall.EIO}, syscall.EIO},
		{"LinkError", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EXDEV}, syscall.EXDEV},
		{"wrapped", fmt.Errorf("context: %w", boom), boom},
	} {
		err := f.pathErr("sync", tt.err)
		pe, ok := err.(*fs.PathError)
		if !ok || pe.Op != "sync" || pe.Path != "dir/prog" || !errors.Is(err, tt.cause) {
			t.Errorf("%s: pathErr(sync, %v) = %#v, want an *fs.PathError{sync, dir/prog} that errors.Is %v", tt.name, tt.err, err, tt.cause)
		}
	}
	// An error on another file, as from ReadFrom's reader, stays as it is.
	other := &fs.PathError{Op: "read", Path: "elsewhere", Err: syscall.EIO}
	if err := f.osErr(other); err != other {
		t.Errorf("osErr(%v) = %v, want it unchanged", other, err)
	}
	if err := f.osErr(io.EOF); err != io.EOF {
		t.Errorf("osErr(io.EOF) = %v, want io.EOF itself", err)
	}
	tmp := &fs.PathError{Op: "write", Path: f.tmpPath(), Err: syscall.ENOSPC}
	if err, ok := f.osErr(tmp).(*fs.PathError); !ok || err.Op != "write" || err.Path != "dir/prog" || err.Err != syscall.ENOSPC {
		t.Errorf("osErr(%v) = %v, want write dir/prog: ENOSPC", tmp, err)
	}
}
