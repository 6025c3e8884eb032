package safeexec

// Tests of Cmd beyond the parity table: error identity, races with
// String and Cancel, the shape of Cmd against exec.Cmd, and descriptor
// leaks (issue #2).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestErrorsAsIs checks that errors from safeexec answer errors.As and
// errors.Is with exec's types and sentinels.
func TestErrorsAsIs(t *testing.T) {
	t.Parallel()
	err := quickHelper(t, "exit", "7").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Errorf("Run() of a helper exiting 7 = %v; want an *exec.ExitError with code 7", err)
	}
	var se *ExitError
	if !errors.As(err, &se) {
		t.Errorf("errors.As(%v, *safeexec.ExitError) = false, want true", err)
	}
	err = Command("safeexec-test-no-such-program").Run()
	if !errors.Is(err, exec.ErrNotFound) || !errors.Is(err, ErrNotFound) {
		t.Errorf("Run() of a missing program = %v; want errors.Is exec.ErrNotFound", err)
	}
	var eerr *exec.Error
	if !errors.As(err, &eerr) || eerr.Name != "safeexec-test-no-such-program" {
		t.Errorf("Run() of a missing program = %v; want an *exec.Error naming the program", err)
	}
}

// TestStringDuringStart checks that String may run while Start does, as
// with exec, whose Start writes no field that String reads unless Path is
// empty (go.dev/issue/62596). Under -race, a write of Err by Start fails
// it.
func TestStringDuringStart(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"Run", "Output", "CombinedOutput"} {
		c := quickHelper(t, "echo")
		done := make(chan string)
		go func() { done <- c.String() + fmt.Sprint(c.Environ()) }()
		var err error
		switch method {
		case "Run":
			err = c.Run()
		case "Output":
			_, err = c.Output()
		case "CombinedOutput":
			_, err = c.CombinedOutput()
		}
		if err != nil {
			t.Errorf("%s() = %v, want nil", method, err)
		}
		<-done
	}
}

// TestCancelSeesProcess is a hammer test: a Cancel that reads the Cmd's
// Process must never see nil, however close to Start the context ends.
// exec may call Cancel as soon as its own Start returns, before Cmd.Start
// has set Process; run it under -race.
func TestCancelSeesProcess(t *testing.T) {
	t.Parallel()
	path, err := LookPath("true")
	if err != nil {
		t.Skipf("requires true (%v)", err)
	}
	procs := runtime.GOMAXPROCS(0)
	iters := max(400/procs, 20)
	if testing.Short() {
		iters = max(40/procs, 5)
	}
	var nilSeen, cancels, canceledStarts atomic.Int64
	var ready, wg sync.WaitGroup
	ready.Add(procs)
	for range procs {
		wg.Go(func() {
			ready.Done()
			ready.Wait()
			for i := range iters {
				ctx, cancel := context.WithCancel(context.Background())
				c := CommandContext(ctx, path)
				c.Cancel = func() error {
					cancels.Add(1)
					if c.Process == nil {
						nilSeen.Add(1)
						return errors.New("nil Process")
					}
					return c.Process.Kill()
				}
				// Cancel at different moments around Start.
				if i%2 == 0 {
					go cancel()
				}
				err := c.Start()
				if i%2 == 1 {
					cancel()
				}
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("Start() = %v, want nil or context.Canceled", err)
					}
					canceledStarts.Add(1)
					cancel()
					continue
				}
				c.Wait()
				cancel()
			}
		})
	}
	wg.Wait()
	t.Logf("%d runs: %d Starts canceled, %d Cancel calls", procs*iters, canceledStarts.Load(), cancels.Load())
	if n := nilSeen.Load(); n > 0 {
		t.Errorf("Cancel saw a nil Process %d times, want 0", n)
	}
	if cancels.Load() == 0 {
		t.Errorf("Cancel was never called in %d runs; the test did not test anything", procs*iters)
	}
}

// TestCmdMirrorsExec fails when exec.Cmd, in the Go version at hand, has
// an exported field or method that Cmd lacks or types differently.
func TestCmdMirrorsExec(t *testing.T) {
	t.Parallel()
	execType, safeType := reflect.TypeFor[exec.Cmd](), reflect.TypeFor[Cmd]()
	var execFields, safeFields []string
	for f := range execType.Fields() {
		if !f.IsExported() {
			continue
		}
		execFields = append(execFields, f.Name)
		g, ok := safeType.FieldByName(f.Name)
		switch {
		case !ok:
			t.Errorf("safeexec.Cmd lacks field %s %v of exec.Cmd", f.Name, f.Type)
		case g.Type != f.Type:
			t.Errorf("safeexec.Cmd.%s has type %v, want %v as in exec.Cmd", f.Name, g.Type, f.Type)
		}
	}
	for f := range safeType.Fields() {
		if _, ok := execType.FieldByName(f.Name); ok && f.IsExported() {
			safeFields = append(safeFields, f.Name)
		}
	}
	if !slices.Equal(safeFields, execFields) {
		t.Errorf("safeexec.Cmd fields in order %v, want %v as in exec.Cmd", safeFields, execFields)
	}

	execPtr, safePtr := reflect.PointerTo(execType), reflect.PointerTo(safeType)
	for m := range execPtr.Methods() {
		n, ok := safePtr.MethodByName(m.Name)
		if !ok {
			t.Errorf("*safeexec.Cmd lacks method %s %v of *exec.Cmd", m.Name, m.Type)
			continue
		}
		// The receivers differ; compare the rest of the signatures.
		if want, got := signature(m.Type), signature(n.Type); got != want {
			t.Errorf("(*safeexec.Cmd).%s has signature %s, want %s as in *exec.Cmd", m.Name, got, want)
		}
	}
}

// signature returns a method's signature without its receiver.
func signature(fn reflect.Type) string {
	in := make([]string, 0, fn.NumIn())
	for i := 1; i < fn.NumIn(); i++ {
		s := fn.In(i).String()
		if fn.IsVariadic() && i == fn.NumIn()-1 {
			s = "..." + fn.In(i).Elem().String()
		}
		in = append(in, s)
	}
	out := make([]string, 0, fn.NumOut())
	for o := range fn.Outs() {
		out = append(out, o.String())
	}
	return "func(" + strings.Join(in, ", ") + ") (" + strings.Join(out, ", ") + ")"
}

// TestNoDescriptorLeak counts the process's descriptors before and after
// runs that succeed, use pipes, fail to start or are retried after
// ETXTBSY. It counts the whole process, so it must not run in parallel
// with anything.
func TestNoDescriptorLeak(t *testing.T) {
	dir := t.TempDir()
	busy := writeScript(t, dir, "busy", "exit 0")
	batch := func() {
		t.Helper()
		if err := quickHelper(t, "echo").Run(); err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
		if out, err := quickHelper(t, "echo", "hi").Output(); err != nil || string(out) != "hi\n" {
			t.Errorf("Output() = %q, %v; want %q, nil", out, err, "hi\n")
		}

		c := quickHelper(t, "cat")
		stdin, err1 := c.StdinPipe()
		stdout, err2 := c.StdoutPipe()
		if err := errors.Join(err1, err2, c.Start()); err != nil {
			t.Fatalf("StdinPipe, StdoutPipe, Start: %v", err)
		}
		io.WriteString(stdin, "x")
		stdin.Close()
		if out, err := io.ReadAll(stdout); err != nil || string(out) != "x" {
			t.Errorf("reading StdoutPipe = %q, %v; want %q, nil", out, err, "x")
		}
		if err := c.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}

		if err := Command(filepath.Join(dir, "missing")).Run(); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Run() of a missing program = %v, want ErrNotExist", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c = CommandContext(ctx, "true")
		if _, err := c.StdoutPipe(); err != nil {
			t.Fatalf("StdoutPipe: %v", err)
		}
		if err := c.Start(); !errors.Is(err, context.Canceled) {
			t.Errorf("Start() with a done context = %v, want context.Canceled", err)
		}
		c = Command(filepath.Join(dir, "missing"))
		_, err1 = c.StdinPipe()
		_, err2 = c.StderrPipe()
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("StdinPipe, StderrPipe: %v", err)
		}
		if err := c.Start(); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Start() of a missing program with pipes = %v, want ErrNotExist", err)
		}

		// The script stays open for writing, so every attempt meets
		// ETXTBSY until the budget ends.
		w, err := os.OpenFile(busy, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for _, pipes := range []bool{false, true} {
			before := ReadStats().Retries
			c = Command(busy)
			c.SetRetryBudget(20 * time.Millisecond)
			if pipes {
				_, err1 = c.StdinPipe()
				_, err2 = c.StdoutPipe()
				if err := errors.Join(err1, err2); err != nil {
					t.Fatalf("StdinPipe, StdoutPipe: %v", err)
				}
			}
			if err := c.Run(); !errors.Is(err, syscall.ETXTBSY) {
				t.Errorf("Run() of a script open for writing = %v, want ETXTBSY", err)
			}
			if after := ReadStats().Retries; after <= before {
				t.Errorf("ReadStats().Retries = %d after a busy Run, want more than %d", after, before)
			}
		}
	}
	batch() // the first runs open descriptors that stay: netpoll, pidfd probe
	before := openFDs(t)
	for range 3 {
		batch()
	}
	if after := openFDs(t); after != before {
		t.Errorf("open descriptors: %d after the runs, want %d as before", after, before)
	}
}

// TestReadStatsConsistent checks that every snapshot taken while other
// goroutines start commands has Attempts == Starts+Retries, which a
// ReadStats that loaded a counter twice would break (issue #9). It does
// not run in parallel, so that its storm slows no other test.
func TestReadStatsConsistent(t *testing.T) {
	truth := truePath(t)
	spawned, stop := spawnStorm(t, 2, func() error { return Command(truth).Run() })
	snapshots := 0
	for spawned.Load() < 20 {
		s := ReadStats()
		if s.Attempts != s.Starts+s.Retries {
			t.Fatalf("ReadStats() = Attempts %d, Starts %d, Retries %d; want Attempts = Starts+Retries",
				s.Attempts, s.Starts, s.Retries)
		}
		snapshots++
	}
	stop()
	t.Logf("%d snapshots during 20 Starts", snapshots)
}

// TestStatsString checks the one line that Stats prints as.
func TestStatsString(t *testing.T) {
	tests := []struct {
		name string
		s    Stats
		want string
	}{
		{"zero", Stats{},
			"starts=0 retried=0 (0s) gave-up=0 closes: lease=0 flock=0 pipe=0 unchecked=0 waited=0 (0s)"},
		{"every field", Stats{
			Starts: 7, Attempts: 12, SlowPaths: 2, Retries: 5, GiveUps: 1,
			LeaseCloses: 3, FlockCloses: 4, PipeCloses: 5, UncheckedCloses: 6, DrainWaits: 8,
			SlowPathTime: 1234567891 * time.Nanosecond, DrainWaitTime: 98765 * time.Nanosecond,
			GlobalGateFiles: 9,
		}, "starts=7 retried=2 (1.23s) gave-up=1 closes: lease=3 flock=4 pipe=5 unchecked=6 waited=8 (98.8µs)" +
			" global-gate-files=9"},
		{"rounding", Stats{SlowPathTime: 153456 * time.Microsecond, DrainWaitTime: 999 * time.Nanosecond},
			"starts=0 retried=0 (153ms) gave-up=0 closes: lease=0 flock=0 pipe=0 unchecked=0 waited=0 (999ns)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.String(); got != tt.want {
				t.Errorf("Stats.String() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
