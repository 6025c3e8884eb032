package safeexec

// Tests of SetGlobalGate: its stall, its release on every way a File
// ends, and its documented deadlock (issue #3).

import (
	"bufio"
	"errors"
	"fmt"
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

// TestGlobalGateStallsExec checks that with the global gate on, a plain
// os/exec Start waits until an open File is closed.
func TestGlobalGateStallsExec(t *testing.T) {
	tp := truePath(t)
	setGlobalGate(t, true)
	f, err := CreateExecutable(filepath.Join(t.TempDir(), "g"), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if n := ReadStats().GlobalGateFiles; n != 1 {
		t.Errorf("GlobalGateFiles = %d with one File open, want 1", n)
	}
	done := make(chan error, 1)
	go func() { done <- exec.Command(tp).Run() }()
	waitUntil(t, "the fork waits for ForkLock", func() bool {
		return blockedIn("syscall.acquireForkLock", "sync.RWMutex.Lock", "semacquire")
	})
	select {
	case err := <-done:
		t.Fatalf("exec.Command(true).Run() = %v while a File holds the global gate", err)
	case <-time.After(100 * time.Millisecond):
	}
	f.WriteString(okScript)
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exec.Command(true).Run() after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("exec.Command(true).Run() still blocked 10s after Close")
	}
	if n := ReadStats().GlobalGateFiles; n != 0 {
		t.Errorf("GlobalGateFiles = %d after Close, want 0", n)
	}
	if err := exec.Command(f.Name()).Run(); err != nil {
		t.Errorf("running the file: %v", err)
	}
}

// TestGlobalGateReleases checks that every way a File under the global gate
// can end, failures included, lets go of ForkLock.
func TestGlobalGateReleases(t *testing.T) {
	tp := truePath(t)
	setGlobalGate(t, true)
	dir := t.TempDir()
	tests := []struct {
		name string
		fn   func() error // fails when the File fails, as it should
	}{
		{"Close", func() error { return WriteExecutable(filepath.Join(dir, "ok"), []byte(okScript), 0o755) }},
		{"Abort", func() error {
			f, err := CreateExecutable(filepath.Join(dir, "abort"), 0o755)
			if err != nil {
				return err
			}
			f.WriteString(okScript)
			return f.Abort()
		}},
		{"failed write", func() error {
			f, err := CreateExecutable(filepath.Join(dir, "failed"), 0o755)
			if err != nil {
				return err
			}
			f.ReadFrom(iotest.ErrReader(errors.New("boom")))
			if err := f.Close(); err == nil {
				return errors.New("Close after a failed write succeeded")
			}
			return nil
		}},
		{"missing directory", func() error {
			if _, err := CreateExecutable(filepath.Join(dir, "missing", "p"), 0o755); err == nil {
				return errors.New("CreateExecutable in a missing directory succeeded")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		within(t, 10*time.Second, tt.name+" under the global gate", func() {
			if err := tt.fn(); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			if n := ReadStats().GlobalGateFiles; n != 0 {
				t.Errorf("after %s, GlobalGateFiles = %d, want 0", tt.name, n)
				return // the fork below would hang
			}
			if err := exec.Command(tp).Run(); err != nil {
				t.Errorf("after %s, exec.Command(true).Run(): %v", tt.name, err)
			}
		})
	}
	noTemps(t, dir)
}

// TestGlobalGateTwoFiles opens two Files in one goroutine under the global
// gate while a fork waits, and closes them in either order. A second
// ForkLock.RLock would queue behind the waiting fork, which waits for the
// first: the Files must share one read lock.
func TestGlobalGateTwoFiles(t *testing.T) {
	tp := truePath(t)
	setGlobalGate(t, true)
	for _, reverse := range []bool{false, true} {
		t.Run("reverse="+strconv.FormatBool(reverse), func(t *testing.T) {
			dir := t.TempDir()
			first, err := CreateExecutable(filepath.Join(dir, "first"), 0o755)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Abort()
			wait := forkWaiting(t, "exec.Command(true).Run()", exec.Command(tp).Run)
			within(t, 10*time.Second, "a second File and both Closes", func() {
				second, err := CreateExecutable(filepath.Join(dir, "second"), 0o755)
				if err != nil {
					t.Error(err)
					return
				}
				defer second.Abort()
				files := []*File{first, second}
				if reverse {
					files[0], files[1] = files[1], files[0]
				}
				for _, f := range files {
					f.WriteString(okScript)
					if err := f.Close(); err != nil {
						t.Errorf("Close(%s): %v", f.Name(), err)
					}
				}
			})
			wait()
			for _, name := range []string{"first", "second"} {
				if err := Command(filepath.Join(dir, name)).Run(); err != nil {
					t.Errorf("Run(%s): %v", name, err)
				}
			}
			noTemps(t, dir)
		})
	}
}

// TestGlobalGateMixedFiles closes a File made before the global gate was
// turned on, with the pipe drain (as on NFS), while a File made after it
// holds ForkLock and a safeexec Start waits for ForkLock under the gate's
// shared side. A Close that took the gate's exclusive side there, as the
// gate barrier did, would wait for that Start, which waits for the second
// File: a deadlock no doc mentions.
func TestGlobalGateMixedFiles(t *testing.T) {
	tp := truePath(t)
	dir := t.TempDir()
	setGlobalGate(t, false)
	forceVia = byPipe // a drain that reads, as the old gate barrier waited
	old, err := CreateExecutable(filepath.Join(dir, "old"), 0o755)
	forceVia = chosen
	if err != nil {
		t.Fatal(err)
	}
	defer old.Abort()
	setGlobalGate(t, true)
	held, err := CreateExecutable(filepath.Join(dir, "held"), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Abort()

	wait := forkWaiting(t, "Command(true).Run()", Command(tp).Run)
	within(t, 10*time.Second, "Close of the older File", func() {
		old.WriteString(okScript)
		if err := old.Close(); err != nil {
			t.Errorf("Close(old): %v", err)
		}
	})
	held.WriteString(okScript)
	if err := held.Close(); err != nil {
		t.Errorf("Close(held): %v", err)
	}
	wait()
	if err := Command(filepath.Join(dir, "old")).Run(); err != nil {
		t.Errorf("Run(old): %v", err)
	}
}

// TestGlobalGateDeadlock proves the documented deadlock of the global gate,
// a goroutine that starts a command while its own File is open, in a child
// process that it kills.
func TestGlobalGateDeadlock(t *testing.T) {
	truePath(t)
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("requires the test binary's path (%v)", err)
	}
	child := func(mode string) (*exec.Cmd, <-chan string) {
		c := exec.Command(exe, "-test.run=^TestGlobalGateDeadlockChild$", "-test.v", "-test.timeout=60s")
		c.Env = append(os.Environ(), deadlockEnv+"="+mode, "TMPDIR="+t.TempDir())
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		c.Stdout, c.Stderr = pw, pw
		if err := c.Start(); err != nil {
			t.Skipf("cannot run the test binary (%v)", err)
		}
		t.Cleanup(func() { c.Process.Kill() }) // in case the test fails first
		pw.Close()
		lines := make(chan string, 100)
		go func() {
			defer close(lines)
			defer pr.Close()
			s := bufio.NewScanner(pr)
			for s.Scan() {
				lines <- s.Text()
			}
		}()
		return c, lines
	}
	// waitLine returns once a line starts with prefix, or fails.
	waitLine := func(lines <-chan string, prefix string) string {
		timeout := time.After(30 * time.Second)
		var seen []string
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("child ended without printing %q; output:\n%s", prefix, strings.Join(seen, "\n"))
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
				seen = append(seen, l)
			case <-timeout:
				t.Fatalf("child printed no %q within 30s", prefix)
			}
		}
	}

	// The control: with the gate off the same steps finish.
	c, lines := child("off")
	if l := waitLine(lines, "ran:"); l != "ran: <nil>" {
		t.Errorf("control child: %s", l)
	}
	for range lines {
	}
	if err := c.Wait(); err != nil {
		t.Fatalf("control child: %v", err)
	}

	c, lines = child("on")
	waitLine(lines, "holding")
	// The child sees its own goroutine wait for ForkLock, which the File
	// it holds keeps: that, not silence, proves the deadlock.
	waitLine(lines, "blocked in acquireForkLock")
	exited := make(chan error, 1)
	go func() {
		for l := range lines {
			if strings.HasPrefix(l, "ran:") {
				t.Errorf("child with the global gate did not deadlock: %s", l)
			}
		}
		exited <- c.Wait()
	}()
	select {
	case err := <-exited:
		t.Fatalf("child with the global gate exited by itself (%v), want it deadlocked", err)
	case <-time.After(100 * time.Millisecond):
	}
	c.Process.Kill()
	err = <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("child ended with %v, want killed", err)
	}
}

// TestGlobalGateDeadlockChild is the child of TestGlobalGateDeadlock.
func TestGlobalGateDeadlockChild(t *testing.T) {
	mode := os.Getenv(deadlockEnv)
	if mode == "" {
		t.Skip("run by TestGlobalGateDeadlock in a child process")
	}
	SetGlobalGate(mode == "on")
	f, err := CreateExecutable(filepath.Join(t.TempDir(), "prog"), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	fmt.Println("holding")
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for !blockedIn("syscall.acquireForkLock", "sync.RWMutex.Lock", "semacquire") {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
		fmt.Println("blocked in acquireForkLock")
	}()
	// With the gate on, this fork waits for the Close below, forever.
	err = Command("true").Run()
	close(stop)
	<-watched
	fmt.Printf("ran: %v\n", err)
}

// TestCreateBesideGlobalFile creates a File, with the global gate off,
// while a global-gate File holds ForkLock and a Start waits for it. Create
// holds ForkLock for a moment, and taking a read lock of its own there
// would wait behind the waiting fork, which waits for the held File: the
// goroutine that holds it would never get to close it.
func TestCreateBesideGlobalFile(t *testing.T) {
	tp := truePath(t)
	dir := t.TempDir()
	setGlobalGate(t, true)
	held, err := CreateExecutable(filepath.Join(dir, "held"), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Abort()
	SetGlobalGate(false)

	wait := forkWaiting(t, "Command(true).Run()", Command(tp).Run)
	within(t, 10*time.Second, "CreateExecutable beside a held File", func() {
		if err := WriteExecutable(filepath.Join(dir, "new"), []byte(okScript), 0o755); err != nil {
			t.Errorf("WriteExecutable: %v", err)
		}
	})
	if n := ReadStats().GlobalGateFiles; n != 1 {
		t.Errorf("GlobalGateFiles = %d with one global-gate File open, want 1", n)
	}
	held.WriteString(okScript)
	if err := held.Close(); err != nil {
		t.Errorf("Close(held): %v", err)
	}
	wait()
}

// forkWaiting calls run, which starts a command, in a goroutine, and
// returns once its fork waits for ForkLock. The function it returns fails
// the test unless run then returns nil within 10s.
func forkWaiting(t *testing.T, what string, run func() error) (wait func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- run() }()
	waitUntil(t, what+" waits for ForkLock", func() bool {
		return blockedIn("syscall.acquireForkLock", "sync.RWMutex.Lock", "semacquire")
	})
	return func() {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s still blocked 10s later", what)
		}
	}
}
