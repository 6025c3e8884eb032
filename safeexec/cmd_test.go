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

// TestWaitDelayKeepsFinishedPipes cancels a command whose copies by exec
// have all finished, then reads its StdoutPipe after WaitDelay: exec
// closes the pipes it made only if a copy is still running then, so the
// output the command wrote is still there to read.
func TestWaitDelayKeepsFinishedPipes(t *testing.T) {
	t.Parallel()
	path, argv, env := helperArgs(t, "cat")
	const delay = 100 * time.Millisecond
	for _, p := range pkgs {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := p.commandContext(ctx, path, argv[1:]...)
		*c.Env = quickExit(env)
		stderr := &copyDone{done: make(chan struct{})}
		*c.Stderr = stderr // copied by exec until cat is killed
		*c.WaitDelay = delay
		stdin, err := c.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatalf("%s: Start: %v", p.name, err)
		}
		io.WriteString(stdin, "hello\n")
		line := make([]byte, len("hello\n"))
		if _, err := io.ReadFull(stdout, line); err != nil {
			t.Fatalf("%s: reading the echo: %v", p.name, err)
		}
		cancelled := time.Now()
		cancel()
		select {
		case <-stderr.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the copy of stderr did not end within 10s of the kill", p.name)
		}
		if time.Since(cancelled) > delay/2 {
			t.Logf("%s: the copy ended %v after the kill, too close to WaitDelay to tell", p.name, time.Since(cancelled))
			c.Wait()
			continue
		}
		// A slow reader: past WaitDelay, whose end no event signals.
		time.Sleep(time.Until(cancelled.Add(3 * delay)))
		got, err := io.ReadAll(stdout)
		if len(got) != 0 || err != nil {
			t.Errorf("%s: ReadAll(StdoutPipe) after WaitDelay = %q, %v; want \"\", nil", p.name, got, err)
		}
		if err := c.Wait(); err == nil {
			t.Errorf("%s: Wait() = nil, want the kill", p.name)
		}
	}
}

// TestWaitDelayClosesPipesOfRunningCopy leaves an orphaned grandchild
// that writes to StdoutPipe and holds the stderr pipe exec copies from.
// When WaitDelay expires after the context is done, exec closes every pipe
// it made, the StdoutPipe included, because a copy is still running; that
// must hold whichever of exec's timer and safeexec's fires first, so the
// scenario runs several times.
func TestWaitDelayClosesPipesOfRunningCopy(t *testing.T) {
	t.Parallel()
	path, _, env := helperArgs(t, "orphan")
	for _, p := range pkgs {
		for i := range 10 {
			ctx, cancel := context.WithCancel(context.Background())
			c := p.commandContext(ctx, "sh", "-c", `"$0" 1 & wait`, path)
			*c.Env = quickExit(env)
			*c.Stderr = new(strings.Builder) // copied by exec while the orphan lives
			*c.WaitDelay = time.Millisecond
			stdout, err := c.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(); err != nil {
				t.Fatalf("%s: Start: %v", p.name, err)
			}
			ready := make([]byte, len("ready\n"))
			if _, err := io.ReadFull(stdout, ready); err != nil {
				t.Fatalf("%s: reading ready: %v", p.name, err)
			}
			cancel()
			// The orphan writes until the pipe is closed, or for
			// helperTimeout: only the close ends this read early.
			_, err = io.ReadAll(stdout)
			c.Wait()
			if !errors.Is(err, os.ErrClosed) {
				t.Errorf("%s, run %d: ReadAll(StdoutPipe) = %v, want the pipe closed after WaitDelay", p.name, i, err)
				break // each such run waits out the orphan's helperTimeout
			}
		}
	}
}

// copyDone is a writer that tells when a copy into it ends: io.Copy hands
// the copy to ReadFrom.
type copyDone struct {
	strings.Builder
	done chan struct{}
}

func (w *copyDone) ReadFrom(r io.Reader) (int64, error) {
	defer close(w.done)
	return io.Copy(&w.Builder, r)
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
