package safeexec

// Tests of File: what CreateExecutable, WriteExecutable and Close
// promise (issue #3).

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

// TestDrainBounded gives the File's writable descriptor to a child that
// never lets go: Close must give up after the retry budget with ETXTBSY,
// leave the old file in place and remove the temporary one.
func TestDrainBounded(t *testing.T) {
	const budget = 200 * time.Millisecond
	dir := t.TempDir()
	target := writeScript(t, dir, "prog", "exit 7")
	setRetryBudget(t, budget)
	f, err := CreateExecutable(target, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if _, err := f.WriteString(okScript); err != nil {
		t.Fatal(err)
	}
	release := startHolder(t, f.f)

	before := ReadStats()
	start := time.Now()
	within(t, 10*time.Second, "Close with a child holding the file", func() { err = f.Close() })
	elapsed := time.Since(start)
	d := delta(before, ReadStats())
	release()
	t.Logf("Close gave up after %v: %v; stats %+v", elapsed.Round(time.Microsecond), err, d)
	if !errors.Is(err, syscall.ETXTBSY) {
		t.Errorf("Close = %v, want errors.Is ETXTBSY", err)
	}
	if elapsed < budget {
		t.Errorf("Close gave up after %v, before the %v budget", elapsed, budget)
	}
	if d.FlockDrains != 1 || d.DrainWaits != 1 {
		t.Errorf("stats moved by %+v, want 1 drain that waited", d)
	}
	if got, err := os.ReadFile(target); err != nil || string(got) != "#!/bin/sh\nexit 7\n" {
		t.Errorf("after a failed Close, %s holds %q, %v; want the old script", target, got, err)
	}
	noTemps(t, dir)
}

// umask returns the process's umask without changing it, which would race
// with parallel tests.
func umask(t *testing.T) os.FileMode {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("requires /proc/self/status (%v)", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err != nil {
				t.Fatalf("parsing %q: %v", l, err)
			}
			return os.FileMode(m)
		}
	}
	t.Skip("requires the Umask line of /proc/self/status (Linux 4.7)")
	return 0
}

// TestFileWrite writes a File with each of its methods and checks what
// Close installs: content, and mode perm &^ umask.
func TestFileWrite(t *testing.T) {
	t.Parallel()
	mask := umask(t)
	for _, perm := range []os.FileMode{0o755, 0o700, 0o777, 0o750} {
		t.Run(perm.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			if err := os.WriteFile(src, []byte("echo three\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(dir, "prog")
			f, err := CreateExecutable(name, perm)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Abort()
			if f.Name() != name {
				t.Errorf("Name() = %q, want %q", f.Name(), name)
			}
			if n, err := f.Write([]byte("#!/bin/sh\necho one\n")); n != 19 || err != nil {
				t.Errorf("Write = %d, %v; want 19, nil", n, err)
			}
			if n, err := f.WriteString("echo two\n"); n != 9 || err != nil {
				t.Errorf("WriteString = %d, %v; want 9, nil", n, err)
			}
			r, err := os.Open(src)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if n, err := io.Copy(f, r); n != 11 || err != nil {
				t.Errorf("io.Copy from an *os.File = %d, %v; want 11, nil", n, err)
			}
			if err := f.Sync(); err != nil {
				t.Errorf("Sync: %v", err)
			}
			if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("before Close, Stat(%s) = %v, want not exist", name, err)
			}
			if err := f.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fi.Mode(), perm&^mask; got != want {
				t.Errorf("mode after Close = %v, want %v (%v &^ umask %03o)", got, want, perm, mask)
			}
			out, err := Command(name).Output()
			if string(out) != "one\ntwo\nthree\n" || err != nil {
				t.Errorf("Output() = %q, %v; want %q, nil", out, err, "one\ntwo\nthree\n")
			}
			noTemps(t, dir)
		})
	}
}

// TestFileReplace installs over an existing file and over a running
// program, which cannot be opened for writing.
func TestFileReplace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := writeScript(t, dir, "prog", "exit 7")
	if err := os.Chmod(name, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteExecutable(name, []byte("#!/bin/sh\necho new\n"), 0o700); err != nil {
		t.Fatalf("WriteExecutable over an existing file: %v", err)
	}
	if out, err := Command(name).Output(); string(out) != "new\n" || err != nil {
		t.Errorf("after replacing, Output() = %q, %v; want %q, nil", out, err, "new\n")
	}
	if fi, err := os.Stat(name); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("after replacing a 0644 file with a 0700 one, Stat = %v, %v", fi.Mode(), err)
	}

	// Install a copy of the test binary and run it as a helper.
	running := helperCommand(t, "gate-hold")
	src, err := os.Open(running.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f, err := CreateExecutable(name, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if _, err := io.Copy(f, src); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close of a copy of the test binary: %v", err)
	}
	running.Path = name
	stdin, err := running.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := running.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := running.Wait(); err != nil {
			t.Errorf("the replaced program: %v", err)
		}
	}()
	if w, err := os.OpenFile(name, os.O_WRONLY, 0); !errors.Is(err, syscall.ETXTBSY) {
		if err == nil {
			w.Close()
		}
		t.Fatalf("opening a running program for writing = %v, want ETXTBSY", err)
	}
	if err := WriteExecutable(name, []byte(okScript), 0o755); err != nil {
		t.Fatalf("WriteExecutable over a running program: %v", err)
	}
	if err := Command(name).Run(); err != nil {
		t.Errorf("running the replacement: %v", err)
	}
	noTemps(t, dir)
}

// TestFileClosed checks what a File does after Close and after Abort.
func TestFileClosed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "prog")
	old := writeScript(t, dir, "old", "exit 7")
	for _, how := range []string{"Close", "Abort"} {
		t.Run(how, func(t *testing.T) {
			target := name + how
			if how == "Abort" {
				target = old
			}
			f, err := CreateExecutable(target, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(okScript)
			if how == "Close" {
				err = f.Close()
			} else {
				err = f.Abort()
			}
			if err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("Close after %s = %v, want fs.ErrClosed", how, err)
			}
			if _, err := f.Write([]byte("x")); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("Write after %s = %v, want fs.ErrClosed", how, err)
			}
			if _, err := f.WriteString("x"); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("WriteString after %s = %v, want fs.ErrClosed", how, err)
			}
			if _, err := f.ReadFrom(strings.NewReader("x")); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("ReadFrom after %s = %v, want fs.ErrClosed", how, err)
			}
			if err := f.Sync(); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("Sync after %s = %v, want fs.ErrClosed", how, err)
			}
			if err := f.Abort(); err != nil {
				t.Errorf("Abort after %s = %v, want nil", how, err)
			}
			b, err := os.ReadFile(target)
			if how == "Close" && (err != nil || string(b) != okScript) {
				t.Errorf("after Close, %s holds %q, %v; want %q", target, b, err, okScript)
			}
			if how == "Abort" && (err != nil || string(b) != "#!/bin/sh\nexit 7\n") {
				t.Errorf("after Abort, %s holds %q, %v; want the old script", target, b, err)
			}
		})
	}
	noTemps(t, dir)
}

// TestFileFailedWrite checks that Close discards a file whose write failed
// and returns that error, leaving the old file in place.
func TestFileFailedWrite(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name  string
		write func(f *File) error
		want  error
	}{
		{"ReadFrom", func(f *File) error {
			_, err := f.ReadFrom(io.MultiReader(strings.NewReader("#!/bin/sh\n"), iotest.ErrReader(boom)))
			return err
		}, boom},
		{"Write", func(f *File) error {
			f.f.Close() // the descriptor fails under the File
			_, err := f.Write([]byte(okScript))
			return err
		}, fs.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			name := writeScript(t, dir, "prog", "exit 7")
			f, err := CreateExecutable(name, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Abort()
			if err := tt.write(f); !errors.Is(err, tt.want) {
				t.Errorf("%s = %v, want %v", tt.name, err, tt.want)
			}
			if err := f.Close(); !errors.Is(err, tt.want) {
				t.Errorf("Close after a failed %s = %v, want %v", tt.name, err, tt.want)
			}
			if b, err := os.ReadFile(name); err != nil || string(b) != "#!/bin/sh\nexit 7\n" {
				t.Errorf("after a failed write, %s holds %q, %v; want the old script", name, b, err)
			}
			noTemps(t, dir)
		})
	}
}

// TestCreateExecutableErrors checks names that cannot be created.
func TestCreateExecutableErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       error
	}{
		{"directory", sub, syscall.EISDIR},
		{"missing directory", filepath.Join(dir, "missing", "prog"), fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f, err := CreateExecutable(tt.path, 0o755); !errors.Is(err, tt.want) {
				if err == nil {
					f.Abort()
				}
				t.Errorf("CreateExecutable(%s) = %v, want %v", tt.path, err, tt.want)
			}
			if err := WriteExecutable(tt.path, []byte(okScript), 0o755); !errors.Is(err, tt.want) {
				t.Errorf("WriteExecutable(%s) = %v, want %v", tt.path, err, tt.want)
			}
		})
	}
	if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
		t.Errorf("Stat(%s) = %v, %v; want the directory unchanged", sub, fi, err)
	}
	noTemps(t, dir)
	noTemps(t, sub)
}

// TestLongName writes a file whose name is as long as a name may be: the
// temporary name beside it must fit too.
func TestLongName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, strings.Repeat("n", 255))
	if err := WriteExecutable(path, []byte(okScript), 0o755); err != nil {
		t.Fatalf("WriteExecutable(<255-byte name>) = %v, want nil", err)
	}
	if err := Command(path).Run(); err != nil {
		t.Errorf("running it: %v", err)
	}
	noTemps(t, dir)
}

// TestExecuteOnly writes files whose mode lets the owner execute but not
// read them. Close reopens the file read-only to drain it, so it creates
// the file readable and sets the mode last; as root, which CI runs as,
// only the final mode tells.
func TestExecuteOnly(t *testing.T) {
	t.Parallel()
	mask := umask(t)
	dir := t.TempDir()
	for _, perm := range []os.FileMode{0o100, 0o111, 0o311, 0o111 | os.ModeSetuid, 0o755 | os.ModeSetuid} {
		path := filepath.Join(dir, fmt.Sprintf("x%o", uint32(perm)))
		if err := WriteExecutable(path, []byte(okScript), perm); err != nil {
			t.Fatalf("WriteExecutable(%o) = %v, want nil", perm, err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		want := perm &^ mask
		if got := fi.Mode() & (os.ModePerm | os.ModeSetuid); got != want&(os.ModePerm|os.ModeSetuid) {
			t.Errorf("WriteExecutable(%o): mode %v, want %v", perm, got, want)
		}
	}
	noTemps(t, dir)
}

// TestCopyBuiltBinary builds testdata/hello.go, copies the binary into
// place with io.Copy into a File (the kernel's copy, through ReadFrom)
// while spawners run, and runs the copy at once, as a tool installer would.
func TestCopyBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("requires the go command (%v)", err)
	}
	dir := t.TempDir()
	built := filepath.Join(dir, "hello-built")
	if out, err := exec.Command(goTool, "build", "-o", built, filepath.Join("..", "testdata", "hello.go")).CombinedOutput(); err != nil {
		t.Fatalf("go build testdata/hello.go: %v\n%s", err, out)
	}
	tp := truePath(t)
	_, stop := spawnStorm(t, stormWorkers(), func() error { return Command(tp).Run() })
	defer stop()
	for i := range 20 {
		src, err := os.Open(built)
		if err != nil {
			t.Fatal(err)
		}
		f, err := CreateExecutable(filepath.Join(dir, "hello"), 0o755)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(f, src)
		src.Close()
		if err != nil {
			f.Abort()
			t.Fatalf("copy %d: %v", i, err)
		}
		if err := f.Close(); err != nil {
			t.Fatalf("Close %d: %v", i, err)
		}
		out, err := exec.Command(f.Name(), strconv.Itoa(i)).Output()
		if want := fmt.Sprintf("hello %d\n", i); err != nil || string(out) != want {
			t.Fatalf("run %d of the copy = %q, %v; want %q, nil", i, out, err, want)
		}
	}
	noTemps(t, dir)
}
