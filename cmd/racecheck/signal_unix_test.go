//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// watcher is an io.Writer that keeps what is written to it and tells
// when a string has appeared.
type watcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want map[string]chan struct{}
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for s, ch := range w.want {
		if strings.Contains(w.buf.String(), s) {
			close(ch)
			delete(w.want, s)
		}
	}
	return len(p), nil
}

// await returns a channel that is closed once s has been written.
func (w *watcher) await(s string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := make(chan struct{})
	if strings.Contains(w.buf.String(), s) {
		close(ch)
	} else {
		w.want[s] = ch
	}
	return ch
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestSignal runs racecheck as a command, with its progress on a terminal,
// stops it with signals in the middle of s1, and checks that it exits promptly, with status 3, and
// leaves no temporary directory behind (issue #8).
func TestSignal(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("requires the go command to build racecheck (%v)", err)
	}
	exe := filepath.Join(t.TempDir(), "racecheck")
	if out, err := exec.Command(goBin, "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tests := []struct {
		name    string
		args    []string
		await   string // the progress after which to signal
		signals []os.Signal
		group   bool // signal the whole process group, as Ctrl-C does
		report  bool // whether it must print what it measured
	}{
		{"SIGINT", nil, "s1 round", []os.Signal{os.Interrupt}, false, true},
		{"SIGTERM", nil, "s1 round", []os.Signal{syscall.SIGTERM}, false, true},
		// The first may already have stopped the run when the second
		// arrives, so either path may be taken; both must be prompt.
		{"SIGINT twice", nil, "s1 round", []os.Signal{os.Interrupt, os.Interrupt}, false, false},
		// The signal kills the spawners' commands too, a moment before
		// racecheck hears of it: no failure of anything (issue #14).
		{"SIGINT to the group in s1", []string{"-scenarios", "s1", "-spawners", "8"}, "s1 round",
			[]os.Signal{os.Interrupt}, true, true},
		{"SIGINT to the group in s5", []string{"-scenarios", "s5", "-spawners", "8"}, "s5 round",
			[]os.Signal{os.Interrupt}, true, true},
		// As the spawners start: 2000 once took 45s to stop (issue #14).
		{"SIGTERM with 2000 spawners", []string{"-scenarios", "s1", "-spawners", "2000"}, "s1 round",
			[]os.Signal{syscall.SIGTERM}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Progress goes to a terminal only: give it one, and watch it.
			ptm, tty := openPty(t)
			dir := t.TempDir()
			stderr := &watcher{want: map[string]chan struct{}{}}
			copied := make(chan struct{})
			go func() {
				io.Copy(stderr, ptm) // until ptm is closed, or racecheck and tty are
				close(copied)
			}()
			defer func() {
				ptm.Close()
				<-copied
			}()
			var stdout bytes.Buffer
			c := exec.Command(exe, append([]string{"-dir", dir, "-duration", "60s"}, tt.args...)...)
			c.Stdout, c.Stderr = &stdout, tty
			c.SysProcAttr = &syscall.SysProcAttr{Setpgid: tt.group}
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			tty.Close()
			done := make(chan error, 1)
			go func() { done <- c.Wait() }()
			var waited bool
			defer func() {
				if !waited {
					c.Process.Kill()
					<-done
				}
			}()

			select {
			case <-stderr.await(tt.await):
			case err := <-done:
				waited = true
				t.Fatalf("racecheck exited before s1: %v\n%s", err, stderr)
			case <-time.After(time.Minute):
				t.Fatalf("racecheck did not reach %s in a minute:\n%s", tt.await, stderr)
			}
			begin := time.Now()
			for _, sig := range tt.signals {
				if tt.group {
					syscall.Kill(-c.Process.Pid, sig.(syscall.Signal))
				} else {
					c.Process.Signal(sig)
				}
			}
			var err error
			select {
			case err = <-done:
				waited = true
			case <-time.After(10 * time.Second):
				t.Fatalf("racecheck still running 10s after %v:\n%s", tt.signals, stderr)
			}
			elapsed := time.Since(begin)
			t.Logf("exited %v after the signal: %v", elapsed.Round(time.Millisecond), err)
			// About a second is the goal; a loaded CI machine gets slack.
			if elapsed > 5*time.Second {
				t.Errorf("racecheck took %v to stop, want about a second", elapsed)
			}
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
				t.Errorf("racecheck ended with %v, want exit status 3", err)
			}
			if out := stdout.String(); tt.report && !strings.HasPrefix(out, "INCOMPLETE") {
				t.Errorf("report does not start with INCOMPLETE:\n%s", out)
			}
			if out := stdout.String(); strings.Contains(out, "FAIL") {
				t.Errorf("an interrupted run reports a failure:\n%s", out)
			}
			if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
				t.Errorf("-dir holds %v after the run (%v), want nothing", entries, err)
			}
		})
	}
}

// TestInterrupted checks which errors interrupted excuses: those of a
// command that died of a stop signal that stopped racecheck too, a moment
// later, and no others.
func TestInterrupted(t *testing.T) {
	defer func(d time.Duration) { signalGrace = d }(signalGrace)
	signalGrace = 300 * time.Millisecond
	killed := exec.Command("sh", "-c", "kill -INT $$").Run()
	shell := exec.Command("sh", "-c", "exit 130").Run() // a shell's status for SIGINT
	failed := exec.Command("sh", "-c", "exit 1").Run()
	tests := []struct {
		name    string
		err     error
		stopped bool // whether racecheck is stopped, a moment after err
		want    bool
	}{
		{"killed by SIGINT, racecheck stopped", killed, true, true},
		{"killed by SIGINT, racecheck running", killed, false, false},
		{"exit 130, racecheck stopped", shell, true, true},
		{"killed in the other runner, racecheck stopped", &remoteError{kindStopSignal, "signal: interrupt"}, true, true},
		{"failed, racecheck stopped later", failed, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.stopped {
				// The signal reaches racecheck's handler after the command.
				timer := time.AfterFunc(20*time.Millisecond, cancel)
				defer timer.Stop()
			}
			if got := interrupted(ctx, tt.err); got != tt.want {
				t.Errorf("interrupted(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
