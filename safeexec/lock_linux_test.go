package safeexec

// Tests of the fork gate and its ETXTBSY slow path under storms, slow
// writers, hazards and faults (issue #3); file_linux_test.go and
// global_linux_test.go hold the File and SetGlobalGate tests, and the
// helpers they share are here. Tests that change process-wide settings
// (SetRetryBudget, SetGlobalGate), hold the gate or assert exact counter
// deltas do not call t.Parallel: top-level parallel tests run only after
// every sequential one has finished, so none of them can see the change.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func init() {
	// gate-hold keeps whatever it inherited open until its stdin closes.
	helpers["gate-hold"] = func(args []string) int {
		io.Copy(io.Discard, os.Stdin)
		return 0
	}
}

const okScript = "#!/bin/sh\nexit 0\n"

// setRetryBudget sets the process-wide budget for the rest of the test.
func setRetryBudget(t *testing.T, d time.Duration) {
	was := SetRetryBudget(d)
	t.Cleanup(func() { SetRetryBudget(was) })
}

// setGlobalGate sets the global gate for the rest of the test.
func setGlobalGate(t *testing.T, on bool) {
	was := SetGlobalGate(on)
	t.Cleanup(func() { SetGlobalGate(was) })
}

// delta returns the counters that moved between a and b.
func delta(a, b Stats) Stats {
	return Stats{
		Starts:          b.Starts - a.Starts,
		Attempts:        b.Attempts - a.Attempts,
		SlowPaths:       b.SlowPaths - a.SlowPaths,
		Retries:         b.Retries - a.Retries,
		GiveUps:         b.GiveUps - a.GiveUps,
		LeaseCloses:     b.LeaseCloses - a.LeaseCloses,
		FlockCloses:     b.FlockCloses - a.FlockCloses,
		PipeCloses:      b.PipeCloses - a.PipeCloses,
		UncheckedCloses: b.UncheckedCloses - a.UncheckedCloses,
		DrainWaits:      b.DrainWaits - a.DrainWaits,
		SlowPathTime:    b.SlowPathTime - a.SlowPathTime,
		DrainWaitTime:   b.DrainWaitTime - a.DrainWaitTime,
		GlobalGateFiles: b.GlobalGateFiles,
	}
}

// noTemps fails the test if dir holds a File's temporary file.
func noTemps(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".safeexec-") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

// within runs fn and fails the test if it does not return within d, so
// that a deadlock fails the test rather than hanging it. fn must not call
// t.Fatal.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v; goroutines:\n%s", what, d, stacks())
	}
}

func stacks() []byte {
	buf := make([]byte, 1<<20)
	return buf[:runtime.Stack(buf, true)]
}

// waitUntil polls cond, which watches another goroutine, and fails the
// test if it does not hold within 10s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s; goroutines:\n%s", what, stacks())
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// blockedIn reports whether a goroutine is waiting in one of the states
// with fn on its stack.
func blockedIn(fn string, states ...string) bool {
	for _, g := range bytes.Split(stacks(), []byte("\n\n")) {
		header, _, _ := bytes.Cut(g, []byte("\n"))
		for _, s := range states {
			if bytes.Contains(header, []byte("["+s)) && bytes.Contains(g, []byte(fn)) {
				return true
			}
		}
	}
	return false
}

// openForWrite opens path for writing, as a second writer would, and
// closes it when the test ends if the test has not.
func openForWrite(t *testing.T, path string) *os.File {
	t.Helper()
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// startHolder starts gate-hold with files as its descriptors 3 and up, and
// returns a function that makes it exit and waits for it.
func startHolder(t *testing.T, files ...*os.File) (release func()) {
	t.Helper()
	c := helperExecCommand(t, "gate-hold")
	c.ExtraFiles = files
	stdin, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			stdin.Close()
			if err := c.Wait(); err != nil {
				t.Errorf("gate-hold: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// A storm writes a tiny script and runs it, cycle after cycle, while
// spawners start true as fast as they can.
type storm struct {
	spawn func() error            // what each spawner runs, over and over
	write func(path string) error // writes okScript to path
	run   func(path string) error // runs the script once
}

// loop runs up to cycles cycles, for at most limit, and returns how many ran
// and how many failed.
func (s storm) loop(t *testing.T, cycles int, limit time.Duration) (n, failed int, spawns int64) {
	t.Helper()
	return s.loopIn(t, t.TempDir(), cycles, limit)
}

// loopIn is loop with the scripts in a new directory in fs, a directory on
// the filesystem under test.
func (s storm) loopIn(t *testing.T, fs string, cycles int, limit time.Duration) (n, failed int, spawns int64) {
	t.Helper()
	dir, err := os.MkdirTemp(fs, "storm")
	if err != nil {
		t.Fatal(err)
	}
	_, stop := spawnStorm(t, stormWorkers(), s.spawn)
	var firstErr error
	deadline := time.Now().Add(limit)
	for n = 0; n < cycles && time.Now().Before(deadline); n++ {
		path := filepath.Join(dir, "s"+strconv.Itoa(n))
		err := s.write(path)
		if err == nil {
			err = s.run(path)
		}
		if err != nil {
			if failed == 0 {
				firstErr = err
			}
			failed++
		}
	}
	spawns = stop()
	if firstErr != nil {
		t.Logf("first failure: %v", firstErr)
	}
	noTemps(t, dir)
	return n, failed, spawns
}

func writeScriptFile(path string) error { return os.WriteFile(path, []byte(okScript), 0o755) }
func writeExecutable(path string) error { return WriteExecutable(path, []byte(okScript), 0o755) }
func runSafe(path string) error         { return Command(path).Run() }
func runExec(path string) error         { return exec.Command(path).Run() }
func runShell(path string) error        { return exec.Command("sh", "-c", path).Run() }

// stormCycles is how many write-then-run cycles TestStorm must run through
// safeexec, and the time it may take. The other storms run an eighth or a
// quarter as many. By default they are few, so that go test ./... takes
// about a minute on two cores (a cycle takes 2-10 ms): enough to run every
// path, not to measure a rate. The long storms, with FORKGATE_LONG=1, run
// ten times as many, as .ci/run does.
func stormCycles() (int, time.Duration) {
	switch {
	case longTests():
		return 2000, 90 * time.Second
	case testing.Short():
		return 80, 30 * time.Second
	}
	return 200, 30 * time.Second // 2-4 s on an idle machine, under -race too
}

// stormLimit bounds the shorter storms. They run their cycles in about 4s
// on an idle 2-core machine; the bound is generous, so that a loaded one
// (another package's tests beside them) still reaches minStormCycles.
const stormLimit = 15 * time.Second

// minStormCycles is the least a storm cut short by its deadline must run
// to say anything.
const minStormCycles = 100

// TestStorm is the race of go.dev/issue/22315: spawners start true while a
// loop writes scripts and runs them. Through safeexec no cycle may fail; the
// same loop through plain os/exec is the control and only logged.
func TestStorm(t *testing.T) {
	tp := truePath(t)
	cycles, limit := stormCycles()
	safe := storm{
		spawn: func() error { return Command(tp).Run() },
		write: writeExecutable,
		run:   runSafe,
	}
	before := ReadStats()
	start := time.Now()
	n, failed, spawns := safe.loop(t, cycles, limit)
	d := delta(before, ReadStats())
	t.Logf("safeexec: %d/%d cycles failed in %v beside %d spawns; %v",
		failed, n, time.Since(start).Round(time.Millisecond), spawns, d)
	if failed > 0 {
		t.Errorf("safeexec: %d of %d write-then-run cycles failed, want 0", failed, n)
	}
	if n < cycles {
		t.Errorf("safeexec: only %d of %d cycles ran within %v", n, cycles, limit)
	}

	control := storm{
		spawn: func() error { return exec.Command(tp).Run() },
		write: writeScriptFile,
		run:   runExec,
	}
	start = time.Now()
	n, failed, spawns = control.loop(t, cycles/2, 10*time.Second)
	t.Logf("control, plain os/exec: %d/%d cycles failed (%.2f%%) in %v beside %d spawns",
		failed, n, 100*float64(failed)/float64(max(n, 1)), time.Since(start).Round(time.Millisecond), spawns)
}

// TestStormOtherRunners runs the written file with something other than
// safeexec, beside spawners that use safeexec ("gated") or plain os/exec
// ("ungated"). The drain in Close alone must keep every run from failing.
func TestStormOtherRunners(t *testing.T) {
	tp := truePath(t)
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skipf("requires sh (%v)", err)
	}
	cycles, _ := stormCycles()
	spawners := []struct {
		name  string
		spawn func() error
	}{
		{"gated", func() error { return Command(tp).Run() }},
		{"ungated", func() error { return exec.Command(tp).Run() }},
	}
	runners := []struct {
		name string
		run  func(string) error
	}{
		{"safeexec", runSafe},
		{"exec", runExec},
		{"sh", runShell},
	}
	for _, sp := range spawners {
		for _, r := range runners {
			if sp.name == "gated" && r.name == "safeexec" {
				continue // TestStorm
			}
			t.Run(sp.name+"/"+r.name, func(t *testing.T) {
				// The ungated storm run through safeexec gets a quarter of
				// TestStorm's cycles, the rest an eighth; the same loops
				// through plain os/exec fail 1-13% of cycles here.
				want, limit := cycles/8, stormLimit
				if r.name == "safeexec" {
					want, limit = cycles/4, 2*stormLimit
				}
				s := storm{spawn: sp.spawn, write: writeExecutable, run: r.run}
				start := time.Now()
				n, failed, spawns := s.loop(t, want, limit)
				t.Logf("%d/%d cycles failed in %v beside %d spawns (%d cycles wanted, at most %v)",
					failed, n, time.Since(start).Round(time.Millisecond), spawns, want, limit)
				if failed > 0 {
					t.Errorf("%d of %d write-then-run cycles failed, want 0", failed, n)
				}
				if n < min(want, minStormCycles) {
					t.Errorf("only %d cycles ran within %v, want at least %d", n, limit, min(want, minStormCycles))
				}
			})
		}
	}
}

// mixedStorm is the storm of issue #7 in one: its spawners start true
// through safeexec and through plain os/exec by turns, and it runs the
// written file through safeexec, plain os/exec and sh -c by turns. v is
// the drain the writers are made to use. The flock and pipe drains see a
// child let go of the file a moment before the kernel counts it gone (see
// drainPipe, and the README's Caveats), so a run that does not retry may
// still meet ETXTBSY after them, rarely: such runs are counted in the
// residual it returns, not as failures. A run through safeexec, which
// retries, and any run after the lease, which is exact, must never fail.
func mixedStorm(t *testing.T, write func(string) error, v vouch) (storm, *atomic.Int64) {
	tp := truePath(t)
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skipf("requires sh (%v)", err)
	}
	var spawns, runs, residual atomic.Int64
	runners := []func(string) error{runSafe, runExec, runShell}
	return storm{
		spawn: func() error {
			if spawns.Add(1)%2 == 0 {
				return Command(tp).Run()
			}
			return exec.Command(tp).Run()
		},
		write: write,
		run: func(path string) error {
			i := runs.Add(1) % 3
			err := runners[i](path)
			if i != 0 && (v == byFlock || v == byPipe) && busy(err) {
				residual.Add(1)
				return nil
			}
			return err
		},
	}, &residual
}

// busy reports whether err is a run's ETXTBSY: exec's own, or sh's exit
// status 126, with which it reports that it could not run the file.
func busy(err error) bool {
	var exit *exec.ExitError
	return errors.Is(err, syscall.ETXTBSY) || errors.As(err, &exit) && exit.ExitCode() == 126
}

// TestForcedDrains runs the mixed storm, with runners that do not retry,
// with writers made to use each drain: the lease, as where the kernel
// grants one; flock, as where it does not; and the pipe, as where flock
// is emulated by POSIX locks too.
func TestForcedDrains(t *testing.T) {
	cycles, _ := stormCycles()
	for _, tt := range vias {
		t.Run(tt.name, func(t *testing.T) {
			setForceVia(t, tt.via)
			s, residual := mixedStorm(t, writeExecutable, tt.via)
			before := ReadStats()
			start := time.Now()
			n, failed, spawns := s.loop(t, cycles/8, stormLimit)
			d := delta(before, ReadStats())
			t.Logf("%d/%d cycles failed in %v beside %d spawns (%d plain runs met ETXTBSY after a drain that sees only children); stats %+v",
				failed, n, time.Since(start).Round(time.Millisecond), spawns, residual.Load(), d)
			if failed > 0 {
				t.Errorf("%d of %d write-then-run cycles failed, want 0", failed, n)
			}
			if n < min(cycles/8, minStormCycles) {
				t.Errorf("only %d cycles ran, want at least %d", n, min(cycles/8, minStormCycles))
			}
			if !closedBy(d, tt.via, uint64(n)) {
				t.Errorf("stats moved by %+v, want %d Closes vouched for by the %s only", d, n, tt.name)
			}
		})
	}
}

// TestPipeDrainPlainRuns measures how often a file that Close drained with
// the pipe still meets ETXTBSY when plain os/exec runs it beside plain
// os/exec spawners: when two children hold the file, one may let go of the
// pipe last while the other still holds the file (see drainPipe). It
// logs the rate and fails only if it reaches the control's, os.WriteFile
// with no drain, in the same test, which would mean the drain did nothing.
func TestPipeDrainPlainRuns(t *testing.T) {
	if !longTests() {
		t.Skip("a measurement; runs with FORKGATE_LONG=1")
	}
	tp := truePath(t)
	spawn := func() error { return exec.Command(tp).Run() }
	cycles, _ := stormCycles()
	setForceVia(t, byPipe)
	s := storm{spawn: spawn, write: writeExecutable, run: runExec}
	n, failed, _ := s.loop(t, cycles/4, 2*stormLimit)
	control := storm{spawn: spawn, write: writeScriptFile, run: runExec}
	cn, cfailed, _ := control.loop(t, cycles/8, stormLimit)
	t.Logf("pipe drain: %d/%d plain runs failed (%.2f%%); control: %d/%d (%.2f%%)",
		failed, n, 100*float64(failed)/float64(max(n, 1)), cfailed, cn, 100*float64(cfailed)/float64(max(cn, 1)))
	if n < minStormCycles || cn < minStormCycles {
		t.Fatalf("only %d and %d cycles ran, want at least %d each", n, cn, minStormCycles)
	}
	if cfailed > 0 && float64(failed)/float64(n) >= float64(cfailed)/float64(cn) {
		t.Errorf("the pipe drain failed as often as no drain at all")
	}
}

// setForceVia makes the Files created in the rest of the test use v to
// tell that nobody holds them open for writing (chosen: what Close
// chooses).
func setForceVia(t *testing.T, v vouch) {
	was := forceVia
	forceVia = v
	t.Cleanup(func() { forceVia = was })
}

// vias are the ways a Close can be vouched for, for table tests.
var vias = []struct {
	name string
	via  vouch
}{{"lease", byLease}, {"flock", byFlock}, {"pipe", byPipe}}

// closedBy reports whether the Closes counted in d are n vouched for by v,
// and none by anything else.
func closedBy(d Stats, v vouch, n uint64) bool {
	got := map[vouch]uint64{byLease: d.LeaseCloses, byFlock: d.FlockCloses, byPipe: d.PipeCloses, unchecked: d.UncheckedCloses}
	for w, c := range got {
		if want := map[bool]uint64{true: n}[w == v]; c != want {
			return false
		}
	}
	return true
}

// TestSlowWriter checks that a File being written slowly does not hold up
// Starts: they must keep completing while it is open.
func TestSlowWriter(t *testing.T) {
	tp := truePath(t)
	const minStarts = 50
	path := filepath.Join(t.TempDir(), "slow")
	f, err := CreateExecutable(path, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()

	workers := stormWorkers()
	started, stop := spawnStorm(t, workers, func() error { return Command(tp).Run() })
	defer stop()

	// Write about 50 KiB over about 1 s.
	begin := time.Now()
	if _, err := f.WriteString("#!/bin/sh\n"); err != nil {
		t.Fatal(err)
	}
	line := "# " + strings.Repeat("x", 1021) + "\n"
	for range 50 {
		if _, err := f.WriteString(line); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // a slow writer, not synchronisation
	}
	if _, err := f.WriteString("exit 0\n"); err != nil {
		t.Fatal(err)
	}
	during := started.Load()
	writing := time.Since(begin)
	// Progress, not speed: if the open File stalled Starts, this never holds.
	waitUntil(t, fmt.Sprintf("%d Starts completed while a File is open", minStarts),
		func() bool { return started.Load() >= minStarts })
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("%d Starts completed during a %v write (%.0f/s) with %d spawners",
		during, writing.Round(time.Millisecond), float64(during)/writing.Seconds(), workers)
	if err := Command(path).Run(); err != nil {
		t.Errorf("running the slowly written file: %v", err)
	}
}

// TestHazards runs patterns that deadlock a writer that holds a lock from
// open to close. None may hang.
func TestHazards(t *testing.T) {
	tp := truePath(t)
	tests := []struct {
		name string
		fn   func(t *testing.T, dir string)
	}{
		{"run while own File open", func(t *testing.T, dir string) {
			f, err := CreateExecutable(filepath.Join(dir, "a"), 0o755)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Abort()
			f.WriteString(okScript)
			if err := Command(tp).Run(); err != nil {
				t.Errorf("Run(true) with a File open: %v", err)
			}
			if out, err := Command("sh", "-c", "echo ok").Output(); err != nil || string(out) != "ok\n" {
				t.Errorf("Output(sh -c 'echo ok') with a File open = %q, %v", out, err)
			}
			if err := f.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := Command(f.Name()).Run(); err != nil {
				t.Errorf("Run(%s): %v", f.Name(), err)
			}
		}},
		{"two Files closed in order", func(t *testing.T, dir string) { twoFiles(t, dir, false) }},
		{"two Files closed in reverse", func(t *testing.T, dir string) { twoFiles(t, dir, true) }},
		{"File never closed", func(t *testing.T, dir string) {
			f, err := CreateExecutable(filepath.Join(dir, "never"), 0o755)
			if err != nil {
				t.Error(err)
				return
			}
			f.WriteString("#!/bin/sh\n")
			var wg sync.WaitGroup
			for i := range 4 {
				wg.Go(func() {
					p := filepath.Join(dir, "other"+strconv.Itoa(i))
					if err := WriteExecutable(p, []byte(okScript), 0o755); err != nil {
						t.Errorf("WriteExecutable beside an unclosed File: %v", err)
						return
					}
					if err := Command(p).Run(); err != nil {
						t.Errorf("Run(%s) beside an unclosed File: %v", p, err)
					}
					if err := Command(tp).Run(); err != nil {
						t.Errorf("Run(true) beside an unclosed File: %v", err)
					}
				})
			}
			wg.Wait()
			if err := f.Abort(); err != nil {
				t.Errorf("Abort: %v", err)
			}
			if _, err := os.Stat(f.Name()); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after Abort, Stat(%s) = %v, want not exist", f.Name(), err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			within(t, 20*time.Second, tt.name, func() { tt.fn(t, dir) })
			noTemps(t, dir)
		})
	}
}

// twoFiles opens two Files in one goroutine, closes them in either order
// and runs both.
func twoFiles(t *testing.T, dir string, reverse bool) {
	var files [2]*File
	for i := range files {
		f, err := CreateExecutable(filepath.Join(dir, "f"+strconv.Itoa(i)), 0o755)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Abort()
		if _, err := f.WriteString(okScript); err != nil {
			t.Error(err)
		}
		files[i] = f
	}
	if reverse {
		files[0], files[1] = files[1], files[0]
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			t.Errorf("Close(%s): %v", f.Name(), err)
		}
	}
	for _, f := range files {
		if err := Command(f.Name()).Run(); err != nil {
			t.Errorf("Run(%s): %v", f.Name(), err)
		}
	}
}

// busyScript writes a script with os.WriteFile, which no concurrent fork
// can race with here, and returns its path.
func busyScript(t *testing.T) string {
	return writeScript(t, t.TempDir(), "busy", "exit 0")
}

// TestBusyFileGivesUp holds a script open for writing in this process: Start
// must give up after its budget with an ETXTBSY error that says what it
// tried, and the counters must record the slow path.
func TestBusyFileGivesUp(t *testing.T) {
	const budget = 150 * time.Millisecond
	tests := []struct {
		name    string
		process time.Duration // process-wide budget
		cmd     time.Duration // Cmd.SetRetryBudget, if >= 0
		want    time.Duration // minimum time to give up
	}{
		{"Cmd budget", time.Hour, budget, budget},
		{"process budget", budget, -1, budget},
		{"zero budget", time.Hour, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := busyScript(t)
			openForWrite(t, path)
			setRetryBudget(t, tt.process)
			c := Command(path)
			if tt.cmd >= 0 {
				c.SetRetryBudget(tt.cmd)
			}
			before := ReadStats()
			start := time.Now()
			err := c.Start()
			elapsed := time.Since(start)
			d := delta(before, ReadStats())
			if err == nil {
				c.Wait()
				t.Fatalf("Start of a file open for writing succeeded")
			}
			t.Logf("gave up after %v: %v; stats %+v", elapsed.Round(time.Microsecond), err, d)
			if !errors.Is(err, syscall.ETXTBSY) {
				t.Errorf("Start error = %v, want errors.Is ETXTBSY", err)
			}
			if !strings.Contains(err.Error(), "attempts") {
				t.Errorf("Start error = %q, want it to mention the attempts", err)
			}
			if elapsed < tt.want || elapsed > tt.want+5*time.Second {
				t.Errorf("Start gave up after %v, want about %v", elapsed, tt.want)
			}
			if d.Starts != 1 || d.SlowPaths != 1 || d.GiveUps != 1 || d.Retries < 1 || d.Attempts != 1+d.Retries {
				t.Errorf("stats moved by %v, Attempts %d, Retries %d; want 1 Start, 1 slow path, 1 gave up, Attempts = 1 + Retries >= 2",
					d, d.Attempts, d.Retries)
			}
			if tt.want == 0 && d.Retries != 1 {
				t.Errorf("with a zero budget, Retries moved by %d, want 1", d.Retries)
			}
			if d.SlowPathTime < tt.want {
				t.Errorf("SlowPathTime moved by %v, want at least %v", d.SlowPathTime, tt.want)
			}
		})
	}
}

// TestBusyFileReleased has another process hold a script open for writing
// and lets it go once Start is on its slow path: Start must then succeed,
// with the Cmd's stdin reader and stdout pipe intact across the attempts.
func TestBusyFileReleased(t *testing.T) {
	path := writeScript(t, t.TempDir(), "busy", "cat")
	w := openForWrite(t, path)
	release := startHolder(t, w)
	w.Close() // only the holder has it now

	c := Command(path)
	c.SetRetryBudget(30 * time.Second)
	c.Stdin = strings.NewReader("hello\n")
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	before := ReadStats()
	returned := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		// Let go once the first attempt has failed, not after a sleep.
		for ReadStats().SlowPaths == before.SlowPaths {
			select {
			case <-returned:
				return
			case <-time.After(20 * time.Microsecond):
			}
		}
		release()
	})
	within(t, 20*time.Second, "Start of a file released during the slow path", func() {
		defer close(returned)
		err = c.Start()
	})
	if err != nil {
		t.Fatalf("Start after the holder let go: %v", err)
	}
	out, err := io.ReadAll(stdout)
	if err := c.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if string(out) != "hello\n" || err != nil {
		t.Errorf("stdout after a retried Start = %q, %v; want %q, nil", out, err, "hello\n")
	}
	d := delta(before, ReadStats())
	t.Logf("stats %+v", d)
	if d.Starts != 1 || d.SlowPaths != 1 || d.Retries < 1 || d.GiveUps != 0 {
		t.Errorf("stats moved by %v, Retries %d; want 1 Start, 1 slow path, some retries, none gave up", d, d.Retries)
	}
}

// busyCommand returns a Cmd, made with CommandContext and a minute's
// retry budget, for a script the test keeps open for writing, and the
// cancel of its context.
func busyCommand(t *testing.T) (*Cmd, context.CancelFunc) {
	t.Helper()
	path := busyScript(t)
	openForWrite(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := CommandContext(ctx, path)
	c.SetRetryBudget(time.Minute)
	return c, cancel
}

// startResult returns what a Start sent on errc, and fails the test if it
// sends nothing within 5s of the cancel.
func startResult(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("Start did not return within 5s of cancel")
		return nil
	}
}

// TestBusyFileCancel cancels a Start's context while it backs off: Start
// must return at once with an error that is both ETXTBSY and
// context.Canceled.
func TestBusyFileCancel(t *testing.T) {
	c, cancel := busyCommand(t)
	before := ReadStats()
	errc := make(chan error, 1)
	go func() { errc <- c.Start() }()

	// Cancel while it sleeps between attempts, once the sleeps are long
	// enough that the timer does not fire at the same moment.
	waitUntil(t, "Start backs off", func() bool {
		return ReadStats().Retries-before.Retries >= 10 &&
			blockedIn("safeexec.(*Cmd).retryBusy", "select")
	})
	canceled := time.Now()
	cancel()
	err := startResult(t, errc)
	t.Logf("returned %v after cancel: %v", time.Since(canceled).Round(time.Microsecond), err)
	if err == nil {
		c.Wait()
		t.Fatal("Start succeeded")
	}
	if !errors.Is(err, syscall.ETXTBSY) || !errors.Is(err, context.Canceled) {
		t.Errorf("Start error = %v, want errors.Is ETXTBSY and context.Canceled", err)
	}
	if d := delta(before, ReadStats()); d.GiveUps != 1 {
		t.Errorf("GiveUps moved by %d, want 1", d.GiveUps)
	}
}

// TestBusyFileCancelWaitingForGate cancels a Start's context while its
// retry waits for the gate's exclusive side. exec then refuses the attempt
// with the context's error alone; Start must still report the ETXTBSY that
// caused the retry, and count the give-up.
func TestBusyFileCancelWaitingForGate(t *testing.T) {
	c, cancel := busyCommand(t)
	before := ReadStats()

	gate.RLock() // an in-flight Start, as far as the retry can tell
	locked := true
	defer func() {
		if locked {
			gate.RUnlock()
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- c.Start() }()
	waitUntil(t, "the retry waits for the gate", func() bool {
		return blockedIn("safeexec.(*Cmd).retryBusy", "sync.RWMutex.Lock", "semacquire")
	})
	cancel()
	gate.RUnlock()
	locked = false

	err := startResult(t, errc)
	if err == nil {
		c.Wait()
		t.Fatal("Start succeeded")
	}
	d := delta(before, ReadStats())
	if !errors.Is(err, syscall.ETXTBSY) || !errors.Is(err, context.Canceled) || d.GiveUps != 1 {
		t.Errorf("Start error = %v, GiveUps moved by %d; want ETXTBSY and context.Canceled, 1", err, d.GiveUps)
	}
}

// TestStatsNormalStarts checks that Starts that meet no busy file leave the
// slow-path counters alone, and that writers use the drain.
func TestStatsNormalStarts(t *testing.T) {
	tp := truePath(t)
	dir := t.TempDir()
	fds := openFDs(t)
	before := ReadStats()
	const n = 20
	for i := range n {
		p := filepath.Join(dir, "p"+strconv.Itoa(i))
		if err := WriteExecutable(p, []byte(okScript), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := Command(p).Run(); err != nil {
			t.Fatal(err)
		}
		if _, err := Command(tp).Output(); err != nil {
			t.Fatal(err)
		}
	}
	d := delta(before, ReadStats())
	t.Logf("stats %+v", d)
	if d.Starts != 2*n || d.Attempts != 2*n || d.SlowPaths != 0 || d.Retries != 0 || d.GiveUps != 0 {
		t.Errorf("stats moved by %v, Attempts %d, Retries %d; want %d Starts and Attempts and no slow path",
			d, d.Attempts, d.Retries, 2*n)
	}
	if !closedBy(d, byLease, n) || d.DrainWaits != 0 {
		t.Errorf("stats moved by %+v, want %d Closes vouched for by the lease, which did not wait", d, n)
	}
	if got := openFDs(t); got != fds {
		t.Errorf("open descriptors: %d before, %d after", fds, got)
	}
}

// deadlockEnv makes TestGlobalGateDeadlockChild run, in a child process
// started by TestGlobalGateDeadlock: "off" is the control, "on" deadlocks.
const deadlockEnv = "SAFEEXEC_TEST_GATE_DEADLOCK"

// longEnv, set to anything, makes the storms long enough to measure a
// failure rate: ten times the default cycles, as .ci/run runs them.
const longEnv = "FORKGATE_LONG"

// longTests reports whether the long storms run.
func longTests() bool { return os.Getenv(longEnv) != "" }

// stormWorkers is how many spawners a storm test runs: GOMAXPROCS, at
// least 2, as os/exec's TestConcurrentExec scales.
func stormWorkers() int { return max(2, runtime.GOMAXPROCS(0)) }
