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

	"golang.org/x/sys/unix"
)

// TestDrainBounded gives the File's writable descriptor to a child that
// never lets go, as a child that never execs would, with each drain: Close
// must give up with ETXTBSY after the retry budget, here below the drain's
// floor, so after the floor; leave the old file in place; and remove the
// temporary one. The issue is #7.
func TestDrainBounded(t *testing.T) {
	setRetryBudget(t, 0)
	for _, tt := range vias {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			target := writeScript(t, dir, "prog", "exit 7")
			setForceVia(t, tt.via)
			f, err := CreateExecutable(target, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Abort()
			if _, err := f.WriteString(okScript); err != nil {
				t.Fatal(err)
			}
			// A forked child holds both, as the pipe is made first.
			release := startHolder(t, f.f, f.pw)

			before := ReadStats()
			start := time.Now()
			within(t, 10*time.Second, "Close with a child holding the file", func() { err = f.Close() })
			elapsed := time.Since(start)
			d := delta(before, ReadStats())
			release()
			t.Logf("Close gave up after %v: %v; stats %+v", elapsed.Round(time.Microsecond), err, d)
			var pe *fs.PathError
			if !errors.Is(err, syscall.ETXTBSY) || !errors.As(err, &pe) || pe.Op != "close" || pe.Path != target {
				t.Errorf("Close = %v, want an *fs.PathError{close, %s} that satisfies errors.Is ETXTBSY", err, target)
			}
			if err != nil && (!strings.Contains(err.Error(), "still open for writing") || !strings.Contains(err.Error(), "a child")) {
				t.Errorf("Close = %q, want it to say the file is still open for writing, maybe by a child", err)
			}
			if elapsed < drainFloor {
				t.Errorf("Close gave up after %v, before the drain's floor of %v", elapsed, drainFloor)
			}
			if !closedBy(d, tt.via, 1) || d.DrainWaits != 1 {
				t.Errorf("stats moved by %+v, want 1 %s drain that waited", d, tt.name)
			}
			if got, err := os.ReadFile(target); err != nil || string(got) != "#!/bin/sh\nexit 7\n" {
				t.Errorf("after a failed Close, %s holds %q, %v; want the old script", target, got, err)
			}
			noTemps(t, dir)
		})
	}
}

// TestZeroBudgetStorm writes and runs scripts beside spawners with a zero
// retry budget: Close must still wait for this process's own children to
// finish their exec rather than fail (#7: 7 of 1023 failed before the
// drain had a floor).
func TestZeroBudgetStorm(t *testing.T) {
	tp := truePath(t)
	setRetryBudget(t, 0)
	cycles, _ := stormCycles()
	s := storm{
		spawn: func() error { return Command(tp).Run() },
		write: writeExecutable,
		run:   runExec,
	}
	before := ReadStats()
	n, failed, spawns := s.loop(t, cycles/8, stormLimit)
	d := delta(before, ReadStats())
	t.Logf("%d/%d cycles failed beside %d spawns; stats %+v", failed, n, spawns, d)
	if failed > 0 {
		t.Errorf("%d of %d write-then-run cycles failed with a zero budget, want 0", failed, n)
	}
	if n < min(cycles/8, minStormCycles) {
		t.Errorf("only %d cycles ran, want at least %d", n, min(cycles/8, minStormCycles))
	}
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

// TestCreateExecutableErrors checks names and modes that cannot be
// created: CreateExecutable and WriteExecutable must fail with an
// *fs.PathError on the name given, and create nothing (#7, #9).
func TestCreateExecutableErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		perm       os.FileMode
		want       error // nil: any error
	}{
		{"empty", "", 0o755, fs.ErrNotExist},
		{"directory", sub, 0o755, syscall.EISDIR},
		{"trailing separator", filepath.Join(dir, "prog") + "/", 0o755, syscall.EISDIR},
		{"dot", filepath.Join(sub, "."), 0o755, syscall.EISDIR},
		{"dot dot", filepath.Join(sub, ".."), 0o755, syscall.EISDIR},
		{"missing directory", filepath.Join(dir, "missing", "prog"), 0o755, fs.ErrNotExist},
		{"name too long", filepath.Join(dir, strings.Repeat("n", 256)), 0o755, syscall.ENAMETOOLONG},
		{"no execute bit", filepath.Join(dir, "prog"), 0o644, nil},
		{"not a file mode", filepath.Join(dir, "prog"), 0o755 | os.ModeDir, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(call string, err error) {
				t.Helper()
				var pe *fs.PathError
				if !errors.As(err, &pe) || pe.Path != tt.path || (tt.want != nil && !errors.Is(err, tt.want)) {
					t.Errorf("%s(%q, %v) = %v, want an *fs.PathError on %q (%v)", call, tt.path, tt.perm, err, tt.path, tt.want)
				}
			}
			f, err := CreateExecutable(tt.path, tt.perm)
			if err == nil {
				f.Abort()
			}
			check("CreateExecutable", err)
			check("WriteExecutable", WriteExecutable(tt.path, []byte(okScript), tt.perm))
		})
	}
	for _, d := range []string{dir, sub} {
		if ents, err := os.ReadDir(d); err != nil || len(ents) != map[string]int{dir: 1, sub: 0}[d] {
			t.Errorf("ReadDir(%s) = %v, %v; want nothing created", d, ents, err)
		}
	}
}

// TestFileErrors checks that the errors of a File's writes and of its
// Close name the file the caller named, with os's types and Op words, and
// that one cause gives one errors.Is target at Create and at Close (#13:
// a full disk named the temporary file, and a directory at the target
// gave EISDIR at Create but EEXIST at Close).
func TestFileErrors(t *testing.T) {
	t.Run("full filesystem", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("requires root, to mount a small tmpfs")
		}
		mnt := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt).CombinedOutput(); err != nil {
			t.Skipf("requires mounting tmpfs (%v: %s)", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", mnt).Run() })
		name := filepath.Join(mnt, "big")
		f, err := CreateExecutable(name, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		_, werr := f.Write(make([]byte, 1<<20))
		cerr := f.Close()
		for call, err := range map[string]error{"Write": werr, "Close": cerr} {
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Op != "write" || pe.Path != name || !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("%s on a full filesystem = %#v (%v), want *fs.PathError{write, %s, ENOSPC}", call, err, err, name)
			}
		}
		noTemps(t, mnt)
	})
	t.Run("directory at the target", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "prog")
		f := createWritten(t, name)
		if err := os.Mkdir(name, 0o755); err != nil {
			t.Fatal(err)
		}
		err := f.Close()
		var le *os.LinkError
		if !errors.As(err, &le) || le.New != name || !errors.Is(err, syscall.EISDIR) {
			t.Errorf("Close with a directory at the target = %v, want an *os.LinkError to %s, EISDIR as at Create", err, name)
		}
		_, err = CreateExecutable(name, 0o755)
		if !errors.Is(err, syscall.EISDIR) {
			t.Errorf("CreateExecutable of a directory = %v, want EISDIR", err)
		}
		noTemps(t, dir)
	})
}

// TestFileChdir creates a File under a relative name and changes the
// working directory before Close or Abort: the File works relative to its
// directory, so Close installs it where it was meant to go and Abort
// removes it from there (#7).
func TestFileChdir(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	for _, how := range []string{"Close", "Abort"} {
		t.Run(how, func(t *testing.T) {
			t.Chdir(dir)
			f, err := CreateExecutable("prog"+how, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Abort()
			if _, err := f.WriteString(okScript); err != nil {
				t.Fatal(err)
			}
			t.Chdir(elsewhere)
			if how == "Close" {
				err = f.Close()
			} else {
				err = f.Abort()
			}
			if err != nil {
				t.Fatalf("%s after Chdir: %v", how, err)
			}
			_, err = os.Stat(filepath.Join(dir, "prog"+how))
			if installed := err == nil; installed != (how == "Close") {
				t.Errorf("after %s, Stat(prog%s) in the first directory = %v", how, how, err)
			}
			noTemps(t, dir)
			if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
				t.Errorf("%s wrote into the new working directory: %v", how, ents)
			}
		})
	}
}

// TestFileTempSwapped replaces the temporary file with a symbolic link to
// an unrelated file before Close, which must then fail without touching
// that file's mode or the target, and leave no temporary name (#7: Close
// used to chmod the link's target setgid and install the link).
func TestFileTempSwapped(t *testing.T) {
	setForceNamed(t)
	for _, link := range []string{"relative", "absolute", "moved"} {
		t.Run(link, func(t *testing.T) {
			dir := t.TempDir()
			victim := writeScript(t, dir, "victim", "exit 3")
			if err := os.Chmod(victim, 0o644); err != nil {
				t.Fatal(err)
			}
			target := writeScript(t, dir, "prog", "exit 7")
			f, err := CreateExecutable(target, 0o755|os.ModeSetgid)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Abort()
			f.WriteString(okScript)
			tmp := filepath.Join(dir, f.tmp)
			to := map[string]string{"relative": "victim", "absolute": victim, "moved": filepath.Join(dir, "moved")}[link]
			if link == "moved" {
				// The file written, moved away and linked back: the link
				// leads to the right file, but is not it.
				err = os.Rename(tmp, to)
			} else {
				err = os.Remove(tmp)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(to, tmp); err != nil {
				t.Fatal(err)
			}
			err = f.Close()
			t.Logf("Close = %v", err)
			if err == nil || !strings.Contains(err.Error(), "no longer the file written") {
				t.Errorf("Close after the temporary name was swapped = %v, want an error saying so", err)
			}
			if fi, err := os.Stat(victim); err != nil || fi.Mode() != 0o644 {
				t.Errorf("Stat(victim) = %v, %v; want mode -rw-r--r--, untouched", fi.Mode(), err)
			}
			if fi, err := os.Lstat(target); err != nil || fi.Mode().Type() != 0 {
				t.Errorf("Lstat(target) = %v, %v; want the old regular file", fi.Mode(), err)
			}
			if b, err := os.ReadFile(target); err != nil || string(b) != "#!/bin/sh\nexit 7\n" {
				t.Errorf("target holds %q, %v; want the old script", b, err)
			}
			noTemps(t, dir)
		})
	}
}

// TestFileTempSwappedInClose swaps a named file's temporary name inside
// Close: after the writable descriptor is closed, and after the read-only
// reopen, when nothing but Close's own pin holds the file written. Close
// must fail and leave the target as it was, whatever took the name: a new
// file, which may get the freed inode's number where nothing pins it; a
// file someone holds open for writing; or a FIFO, whose open must not
// block Close.
func TestFileTempSwappedInClose(t *testing.T) {
	setForceNamed(t)
	dir := t.TempDir()
	// A first Close there makes the mount known to grant leases, so that
	// the read-only descriptor is opened in Close.
	if err := WriteExecutable(filepath.Join(dir, "first"), []byte(okScript), 0o755); err != nil {
		t.Fatal(err)
	}
	var holder *os.File
	t.Cleanup(func() {
		if holder != nil {
			holder.Close()
		}
	})
	tests := []struct {
		name string
		step string
		swap func(tmp string) error
	}{
		{"new file", "closed", func(tmp string) error {
			if err := os.Remove(tmp); err != nil {
				return err
			}
			return os.WriteFile(tmp, []byte("#!/bin/sh\necho impostor\n"), 0o755)
		}},
		{"held for writing", "reopened", func(tmp string) error {
			other := filepath.Join(dir, "other")
			var err error
			if holder, err = os.OpenFile(other, os.O_WRONLY|os.O_CREATE, 0o755); err != nil {
				return err
			}
			return os.Rename(other, tmp)
		}},
		{"fifo", "closed", func(tmp string) error {
			if err := os.Remove(tmp); err != nil {
				return err
			}
			return syscall.Mkfifo(tmp, 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := writeScript(t, dir, "prog", "exit 7")
			f, err := CreateExecutable(target, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Abort()
			f.WriteString(okScript)
			tmp := filepath.Join(dir, f.tmp)
			swapped := false
			testHook = func(step string) {
				if step == tt.step && !swapped {
					swapped = true
					if err := tt.swap(tmp); err != nil {
						t.Errorf("swapping %s: %v", tmp, err)
					}
				}
			}
			defer func() { testHook = nil }()
			done := make(chan error, 1)
			go func() { done <- f.Close() }()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("Close blocked for 10s after the temporary name was swapped at %q", tt.step)
			}
			t.Logf("Close = %v", err)
			if !swapped {
				t.Fatalf("Close passed no %q step", tt.step)
			}
			if err == nil || !strings.Contains(err.Error(), "no longer the file written") {
				t.Errorf("Close after the temporary name was swapped at %q = %v, want an error saying so", tt.step, err)
			}
			if b, err := os.ReadFile(target); err != nil || string(b) != "#!/bin/sh\nexit 7\n" {
				t.Errorf("target holds %q, %v; want the old script", b, err)
			}
			os.Remove(tmp)
		})
	}
}

// TestFlockTrusted checks the test Close makes of flock: refused between
// two open file descriptions of one file, as the kernel's flock does; and
// granted where the exclusive and shared locks do not conflict, which a
// second descriptor of the same description stands in for here, as POSIX
// record locks on NFS would behave.
func TestFlockTrusted(t *testing.T) {
	t.Parallel()
	path := writeScript(t, t.TempDir(), "f", "")
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := lockExclusive(w); err != nil {
		t.Fatal(err)
	}
	if !flockTrusted(r) {
		t.Errorf("flockTrusted(r) = false for two open file descriptions, want true")
	}
	same, err := syscall.Dup(int(w.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	w2 := os.NewFile(uintptr(same), path)
	defer w2.Close()
	if flockTrusted(w2) {
		t.Errorf("flockTrusted(dup of w) = true where the locks cannot conflict, want false")
	}
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

// TestFdAbove checks that fdAbove duplicates a file numbered below the
// pipe's write end above it, close-on-exec, and leaves one above it alone:
// a descriptor freed by another goroutine can give the file the lower
// number.
func TestFdAbove(t *testing.T) {
	t.Parallel()
	path := writeScript(t, t.TempDir(), "f", "")
	low, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer low.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	lowFd, _ := sysfd(low)
	pwFd, _ := sysfd(pw)
	if lowFd > pwFd {
		t.Skipf("the file got descriptor %d, above the pipe's %d", lowFd, pwFd)
	}
	above, err := fdAbove(low, pw)
	if err != nil || above == nil {
		t.Fatalf("fdAbove = %v, %v; want a duplicate", above, err)
	}
	defer above.Close()
	fd, _ := sysfd(above)
	if fd <= pwFd {
		t.Errorf("fdAbove: descriptor %d, want above the pipe's %d", fd, pwFd)
	}
	if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("fdAbove: descriptor flags %#x, %v; want close-on-exec", flags, err)
	}
	a, errA := above.Stat()
	b, errB := os.Stat(path)
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		t.Errorf("fdAbove returned another file: %v, %v", errA, errB)
	}
	if same, err := fdAbove(above, pw); err != nil || same != nil {
		t.Errorf("fdAbove of a file above the pipe = %v, %v; want nil", same, err)
	}
}

// setForceNamed makes the Files created in the rest of the test have a
// temporary name.
func setForceNamed(t *testing.T) {
	was := forceNamed
	forceNamed = true
	t.Cleanup(func() { forceNamed = was })
}

// TestLeaseKnown checks that once a Close has had a lease on a file of a
// mount, later Files there make no pipe for the pipe drain, and that the
// lease vouches for them, at its first try where no child holds them.
func TestLeaseKnown(t *testing.T) {
	dir := t.TempDir()
	if err := WriteExecutable(filepath.Join(dir, "first"), []byte(okScript), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := CreateExecutable(filepath.Join(dir, "second"), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if f.mount == 0 {
		t.Skip("requires STATX_MNT_ID_UNIQUE (Linux 6.8)")
	}
	if !knownMount(f.mount).lease || f.pw != nil {
		t.Errorf("after a lease in %s: known %+v, pipe %v; want the lease known and no pipe", dir, knownMount(f.mount), f.pw)
	}
	f.WriteString(okScript)
	before := ReadStats()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if d := delta(before, ReadStats()); !closedBy(d, byLease, 1) || d.DrainWaits != 0 {
		t.Errorf("stats moved by %+v, want 1 Close vouched for by the lease, with no wait", d)
	}
}
