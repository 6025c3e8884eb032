package safeexec

// Tests of the os.File methods a File passes through (issue #13), on
// files: each against an *os.File, on a closed File, Chmod and Stat, and
// writers that seek, in the storm.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// prelude is what each file of TestFileLikeOSFile holds before the call.
const prelude = "#!/bin/XX\necho 0123456789\n"

// TestFileLikeOSFile runs each call on a File and on an *os.File opened
// as os users open an executable they write, both holding prelude: the
// results and errors must be the same, but for the name the errors give,
// which must be the name each was opened with. Then it closes both: the
// File must install what the *os.File holds, with its mode, unless the
// call failed in a way that makes Close discard it.
func TestFileLikeOSFile(t *testing.T) {
	t.Parallel()
	srcPath := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(srcPath, []byte("# copied from a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := func() *os.File {
		s, err := os.Open(srcPath)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// The calls whose failure Close must discard the file for.
	discards := map[string]bool{
		"WriteAt negative":          true,
		"ReadFrom a failing reader": true,
		"Truncate negative":         true,
	}
	for _, c := range fileCalls(src) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			osName, name := filepath.Join(dir, "os-prog"), filepath.Join(dir, "prog")
			o, err := os.OpenFile(osName, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			f, err := CreateExecutable(name, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Abort()
			for _, w := range []osFile{o, f} {
				if _, err := w.WriteString(prelude); err != nil {
					t.Fatal(err)
				}
			}

			want, wantErr := c.call(o)
			got, err := c.call(f)
			want = strings.ReplaceAll(want, "os-prog", "prog")
			t.Logf("os.File: %q, %v", want, wantErr)
			if got != want {
				t.Errorf("%s = %q, want %q as from an *os.File", c.name, got, want)
			}
			if msg := sameError(err, name, wantErr, osName); msg != "" {
				t.Errorf("%s: error %v; %s", c.name, err, msg)
			}

			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
			wantB, _ := os.ReadFile(osName)
			wantFi, _ := os.Stat(osName)
			err = f.Close()
			b, rerr := os.ReadFile(name)
			if discards[c.name] {
				if err == nil || !errors.Is(rerr, fs.ErrNotExist) {
					t.Errorf("after a failed %s: Close = %v, and %s holds %q, %v; want an error and no file", c.name, err, name, b, rerr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Close after %s: %v", c.name, err)
			}
			if string(b) != string(wantB) {
				t.Errorf("after %s, Close installed %q, want %q as the *os.File holds", c.name, b, wantB)
			}
			if fi, err := os.Stat(name); err != nil || fi.Mode() != wantFi.Mode() {
				t.Errorf("after %s, Close installed mode %v (%v), want %v as the *os.File has", c.name, fi.Mode(), err, wantFi.Mode())
			}
		})
	}
}

// TestFileClosedLikeOSFile runs each call on a closed File and a closed
// *os.File: they must fail alike, with fs.ErrClosed on the name given. A
// File checks that it is open first, so where os.File looks at the
// arguments or the reader first, the File's error is fs.ErrClosed all the
// same; and its SyscallConn fails itself, where os.File's returns a
// connection that fails.
func TestFileClosedLikeOSFile(t *testing.T) {
	t.Parallel()
	own := map[string]bool{
		"WriteAt negative":          true,
		"ReadFrom a failing reader": true,
		"ReadAt negative":           true,
		"SyscallConn":               true,
	}
	dir := t.TempDir()
	osName, name := filepath.Join(dir, "os-prog"), filepath.Join(dir, "prog")
	o, err := os.OpenFile(osName, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	f, err := CreateExecutable(name, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(prelude)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	calls := append(fileCalls(nil), fileCall{"Name", func(f osFile) (string, error) { return f.Name(), nil }})
	for _, c := range calls {
		want, wantErr := c.call(o)
		want = strings.ReplaceAll(want, "os-prog", "prog")
		got, err := c.call(f)
		if own[c.name] {
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != name || !errors.Is(err, fs.ErrClosed) {
				t.Errorf("%s after Close: error %v, want an *fs.PathError on %s that errors.Is fs.ErrClosed", c.name, err, name)
			}
			continue
		}
		if got != want {
			t.Errorf("%s after Close = %q, want %q as from a closed *os.File", c.name, got, want)
		}
		if msg := sameError(err, name, wantErr, osName); msg != "" {
			t.Errorf("%s after Close: error %v; %s", c.name, err, msg)
		}
		if wantErr != nil && !errors.Is(err, fs.ErrClosed) {
			t.Errorf("%s after Close: error %v, want errors.Is fs.ErrClosed", c.name, err)
		}
	}
	// Close made the file; no call on the closed File may change it.
	if b, err := os.ReadFile(name); err != nil || string(b) != prelude {
		t.Errorf("after calls on the closed File, %s holds %q, %v; want %q", name, b, err, prelude)
	}
}

// TestFileChmod checks that Chmod sets the mode Close installs, exactly,
// without the umask, and that Stat reports it before Close; and that a
// mode CreateExecutable would refuse changes nothing.
func TestFileChmod(t *testing.T) {
	t.Parallel()
	mask := umask(t)
	tests := []struct {
		name string
		mode fs.FileMode
		want string // what the error says; "": no error
	}{
		{"0777, under any umask", 0o777, ""},
		{"execute only", 0o100, ""},
		{"setuid", 0o750 | fs.ModeSetuid, ""},
		{"no execute bit", 0o644, "has no execute bit"},
		{"stray setuid bit", 0o4755, "0o4000"},
		{"directory", 0o755 | fs.ModeDir, "fs.ModeSetuid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			name := filepath.Join(dir, "prog")
			f, err := CreateExecutable(name, 0o711)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Abort()
			f.WriteString("#!/bin/sh\nexit 0\n")
			created := 0o711 &^ mask
			want := created
			if tt.want == "" {
				want = tt.mode
			}
			err = f.Chmod(tt.mode)
			var pe *fs.PathError
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Chmod(%v) = %v, want nil", tt.mode, err)
			case tt.want != "" && (!errors.As(err, &pe) || pe.Op != "chmod" || pe.Path != name || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Chmod(%O) = %v, want an *fs.PathError{chmod, %s} that says %q", uint32(tt.mode), err, name, tt.want)
			}
			if fi, err := f.f.Stat(); err != nil || fi.Mode() != created {
				t.Errorf("before Close, the file's mode is %v (%v), want %v as created: Chmod waits for Close", fi.Mode(), err, created)
			}
			if fi, err := f.Stat(); err != nil || fi.Mode() != want {
				t.Errorf("Stat().Mode() = %v (%v), want %v, the mode Close will install", fi.Mode(), err, want)
			}
			if err := f.Close(); err != nil {
				t.Fatalf("Close after Chmod: %v", err)
			}
			if fi, err := os.Stat(name); err != nil || fi.Mode() != want {
				t.Errorf("after Close, mode %v (%v), want %v", fi.Mode(), err, want)
			}
		})
	}
}

// TestFileStat checks what Stat says of a File being written: the name's
// final element, the size so far, a regular file with the mode Close will
// install, and the file's own system data.
func TestFileStat(t *testing.T) {
	t.Parallel()
	mask := umask(t)
	name := filepath.Join(t.TempDir(), "prog")
	f, err := CreateExecutable(name, 0o755|fs.ModeSetgid)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	f.WriteString(prelude)
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	want := (0o755 | fs.ModeSetgid) &^ mask
	if fi.Name() != "prog" || fi.Size() != int64(len(prelude)) || fi.Mode() != want || fi.IsDir() || !fi.Mode().IsRegular() {
		t.Errorf("Stat() = %s, %d bytes, mode %v, dir %v; want prog, %d bytes, mode %v, a regular file",
			fi.Name(), fi.Size(), fi.Mode(), fi.IsDir(), len(prelude), want)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	tmp, err := f.f.Stat()
	if !ok || err != nil || st.Ino != tmp.Sys().(*syscall.Stat_t).Ino || st.Size != int64(len(prelude)) {
		t.Errorf("Stat().Sys() = %T, want the *syscall.Stat_t of the file written (%v)", fi.Sys(), err)
	}
}

// TestFileSync checks that a Sync that succeeds tells Close to make the
// rename durable, and that the errors of writes name the file given, down
// to Close's (#13: they named the temporary file).
func TestFileSync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "prog")
	f, err := CreateExecutable(name, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	f.WriteString(prelude)
	if f.synced {
		t.Errorf("synced before Sync")
	}
	if err := f.Sync(); err != nil || !f.synced {
		t.Errorf("Sync() = %v, synced %v; want nil, true", err, f.synced)
	}

	f.f.Close() // the descriptor fails under the File
	check := func(call string, err error) {
		t.Helper()
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != name || !errors.Is(err, fs.ErrClosed) {
			t.Errorf("%s = %v, want an *fs.PathError on %s that errors.Is fs.ErrClosed", call, err, name)
		}
	}
	_, err = f.Seek(0, io.SeekStart)
	check("Seek", err)
	if f.werr != nil {
		t.Errorf("a failed Seek was recorded: %v", f.werr)
	}
	_, err = f.Write([]byte("x"))
	check("Write", err)
	check("Close after a failed Write", f.Close())
	noTemps(t, dir)
}

// TestFileRead reads back what was written through the File, as a writer
// that fixes a checksum over its output would; the file is not open for
// reading otherwise.
func TestFileRead(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "prog")
	f, err := CreateExecutable(name, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	f.WriteString(prelude)
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	if string(b) != prelude || err != nil {
		t.Errorf("reading with ReadAt: %q, %v; want %q, nil", b, err, prelude)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err = io.ReadAll(f)
	if string(b) != prelude || err != nil {
		t.Errorf("reading with Read: %q, %v; want %q, nil", b, err, prelude)
	}
	if off, err := f.Seek(0, io.SeekCurrent); off != int64(len(prelude)) || err != nil {
		t.Errorf("after Read to the end, offset %d, %v; want %d", off, err, len(prelude))
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close after reads: %v", err)
	}
}

// writePatched returns a storm writer that writes okScript with a header
// patched after the body, by WriteAt or by Seek, and checks the patch by
// reading it back, as a writer that fills in a size or checksum would.
func writePatched(how string) func(path string) error {
	const (
		header = "#!/bin/XX\n# body XX\n" // XX: the shell, the body's size
		body   = "exit 0\n"
	)
	patch := fmt.Sprintf("#!/bin/sh\n# body %02d\n", len(body))
	return func(path string) error {
		f, err := CreateExecutable(path, 0o755)
		if err != nil {
			return err
		}
		defer f.Abort()
		if _, err := f.WriteString(header); err != nil {
			return err
		}
		if _, err := f.WriteString(body); err != nil {
			return err
		}
		switch how {
		case "WriteAt":
			_, err = f.WriteAt([]byte(patch), 0)
		case "Seek":
			if _, err = f.Seek(0, io.SeekStart); err == nil {
				_, err = f.WriteString(patch)
			}
			if err == nil {
				_, err = f.Seek(0, io.SeekEnd)
			}
		}
		if err != nil {
			return err
		}
		b := make([]byte, len(patch))
		if _, err := f.ReadAt(b, 0); err != nil || string(b) != patch {
			return fmt.Errorf("reading back the header: %q, %v; want %q", b, err, patch)
		}
		return f.Close()
	}
}

// TestStormPatched runs the storm with writers that patch the header after
// the body, and runs the file with plain os/exec, which does not retry:
// no cycle may fail, as for writers that only Write (#13).
func TestStormPatched(t *testing.T) {
	tp := truePath(t)
	cycles, _ := stormCycles()
	for _, how := range []string{"WriteAt", "Seek"} {
		t.Run(how, func(t *testing.T) {
			s := storm{
				spawn: func() error { return Command(tp).Run() },
				write: writePatched(how),
				run:   runExec,
			}
			n, failed, spawns := s.loop(t, cycles/8, stormLimit)
			t.Logf("%d/%d cycles failed beside %d spawns", failed, n, spawns)
			if failed > 0 {
				t.Errorf("%d of %d write-patch-run cycles failed, want 0", failed, n)
			}
			if n < min(cycles/8, minStormCycles) {
				t.Errorf("only %d cycles ran, want at least %d", n, min(cycles/8, minStormCycles))
			}
		})
	}
}
