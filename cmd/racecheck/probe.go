package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/forkgate/forkgate/safeexec"
)

// A probe runs in a child process: racecheck runs itself with probeEnv
// set to the probe's name, with "+global" for the global gate, and
// probeDirEnv set to the directory to write in.
const (
	probeEnv    = "RACECHECK_PROBE"
	probeDirEnv = "RACECHECK_PROBE_DIR"
)

// probeTimeout is how long a probe may run before it counts as hung: far
// longer than any probe takes on a loaded machine (about a second), so
// that load cannot pass for a deadlock.
var probeTimeout = 30 * time.Second

// probe is a deadlock probe.
type probe struct {
	name string
	desc string
	fn   func(dir, truePath string) error
}

var probes = []probe{
	{"a", "run a command while a File is open, then Close", probeRunBeforeClose},
	{"b", "two Files open in one goroutine while another spawns", probeTwoFiles},
}

// probeResult is the outcome of one probe for one strategy.
type probeResult struct {
	Strategy string `json:"strategy"`
	Probe    string `json:"probe"`
	// Outcome is "ok", "deadlock" (all of the probe's goroutines
	// blocked), "deadlock (documented)" (the global gate's probe a),
	// "hung" (no exit after probeTimeout) or "failed".
	Outcome    string   `json:"outcome"`
	Documented bool     `json:"documented"`
	Problem    bool     `json:"problem"`
	DurationS  float64  `json:"durationS"`
	Detail     string   `json:"detail,omitempty"`
	Dump       []string `json:"dump,omitempty"` // first lines of the child's goroutine dump
}

// dumpLines is how many lines of a goroutine dump a report shows.
const dumpLines = 8

// runProbes runs every probe for every strategy it means something for,
// one at a time, each in its own child process, so that they do not slow
// each other down.
func (r *runner) runProbes() []*probeResult {
	var res []*probeResult
	exe, exeErr := os.Executable()
	for _, st := range r.cfg.strategies {
		if !st.safe {
			continue
		}
		for _, p := range probes {
			if r.ctx.Err() != nil {
				return res
			}
			pr := &probeResult{Strategy: st.name, Probe: p.name, Documented: st.global && p.name == "a"}
			res = append(res, pr)
			r.progress.show("probes", st.name+" "+p.name)
			if exeErr != nil {
				pr.Outcome, pr.Detail, pr.Problem = "failed", exeErr.Error(), true
				continue
			}
			r.runProbe(exe, st, pr)
		}
	}
	return res
}

// runProbe runs one probe in a child process and sets pr from how it
// ended. A child that does not exit within probeTimeout gets SIGQUIT, so
// that the Go runtime prints its goroutines, and the dump confirms the hang.
func (r *runner) runProbe(exe string, st *strategy, pr *probeResult) {
	ctx, cancel := context.WithTimeout(r.ctx, probeTimeout)
	defer cancel()
	name := pr.Probe
	if st.global {
		name += "+global"
	}
	dir := filepath.Join(r.dir, "probe-"+strings.ReplaceAll(name, "+", "-"))
	var stderr bytes.Buffer
	c := exec.CommandContext(ctx, exe)
	c.Env = append(os.Environ(), probeEnv+"="+name, probeDirEnv+"="+dir, "GOTRACEBACK=all")
	c.Stderr = &stderr
	c.Cancel = func() error { return c.Process.Signal(quitSignal) }
	c.WaitDelay = 5 * time.Second // time to print the dump, then kill
	begin := time.Now()
	err := os.Mkdir(dir, 0o755)
	if err == nil {
		err = c.Run()
	}
	pr.DurationS = time.Since(begin).Seconds()
	out := strings.TrimSpace(stderr.String())
	switch {
	case err == nil:
		pr.Outcome = "ok"
	case r.ctx.Err() != nil:
		pr.Outcome = "interrupted"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		pr.Outcome = "hung"
		pr.Detail = fmt.Sprintf("no exit after %v; SIGQUIT", probeTimeout)
		pr.Dump = dumpHead(out)
	case strings.Contains(out, probeDeadlock), strings.Contains(out, "all goroutines are asleep - deadlock"):
		pr.Outcome = "deadlock"
		pr.Dump = dumpHead(out)
	default:
		pr.Outcome = "failed"
		pr.Detail = fmt.Sprintf("%v: %s", err, firstLine(out))
	}
	switch {
	case pr.Outcome == "deadlock" && pr.Documented:
		pr.Outcome, pr.Dump = "deadlock (documented)", nil
	case pr.Outcome != "ok" && pr.Outcome != "interrupted":
		pr.Problem = true
	}
}

// dumpHead returns the first lines of the first goroutine of the probe in
// a goroutine dump, without the addresses a SIGQUIT dump adds.
func dumpHead(out string) []string {
	for _, g := range strings.Split(out, "\n\n") {
		if !strings.HasPrefix(g, "goroutine ") || !probeGoroutine(g) {
			continue
		}
		var lines []string
		for _, line := range strings.Split(g, "\n") {
			line = dumpAddrs.ReplaceAllString(line, "")
			lines = append(lines, line)
			if len(lines) == dumpLines {
				break
			}
		}
		return lines
	}
	return nil
}

// dumpAddrs matches what a SIGQUIT dump adds to a goroutine's header and
// frames.
var dumpAddrs = regexp.MustCompile(` (gp|m|mp|fp|sp|pc)=\S+`)

// probeGoroutine reports whether the goroutine g of a dump runs the
// probe's code: one with a frame of this package, other than the probe's
// supervisor.
func probeGoroutine(g string) bool {
	if strings.Contains(g, ".superviseProbe(") {
		return false
	}
	for _, line := range strings.Split(g, "\n")[1:] {
		if strings.HasPrefix(line, ownFrames) {
			return true
		}
	}
	return false
}

// ownFrames is how the frames of this package start in a goroutine dump:
// "main." in racecheck, its import path and a dot in its tests.
var ownFrames = func() string {
	name := runtime.FuncForPC(reflect.ValueOf(firstLine).Pointer()).Name()
	return name[:strings.LastIndex(name, ".")+1]
}()

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// runProbeChild runs the probe named by name in a child process and
// returns its exit status.
func runProbeChild(name string) int {
	base, global := strings.CutSuffix(name, "+global")
	var fn func(dir, truePath string) error
	for _, p := range probes {
		if p.name == base {
			fn = p.fn
		}
	}
	if fn == nil {
		fmt.Fprintf(os.Stderr, "racecheck probe: unknown probe %q\n", name)
		return 2
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		fmt.Fprintf(os.Stderr, "racecheck probe: %v\n", err)
		return 1
	}
	safeexec.SetGlobalGate(global)
	return superviseProbe(name, func() error { return fn(os.Getenv(probeDirEnv), truePath) })
}

// superviseProbe runs fn in a goroutine and watches it: it returns 0 if
// fn succeeds, 1 if it fails and 3 if it deadlocks, and prints why.
func superviseProbe(name string, fn func() error) int {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintf(os.Stderr, "racecheck probe %s: %v\n", name, err)
				return 1
			}
			return 0
		case <-tick.C:
			if dump, ok := deadlocked(); ok {
				fmt.Fprintf(os.Stderr, "racecheck probe %s: %s\n\n%s", name, probeDeadlock, dump)
				return 3
			}
		}
	}
}

// probeDeadlock is what a probe child prints when it finds itself
// deadlocked.
const probeDeadlock = "deadlock: every goroutine of the probe waits for a lock"

// deadlocked reports whether every goroutine of the probe is blocked on a
// lock or a WaitGroup at one instant, and returns their stacks. Only
// another goroutine of the probe could release them, so they never wake:
// the check the Go runtime makes for "all goroutines are asleep", which it
// cannot make itself while this watchdog ticks (or under the race
// detector).
func deadlocked() (string, bool) {
	buf := make([]byte, 1<<20)
	dump := string(buf[:runtime.Stack(buf, true)])
	var blocked []string
	for _, g := range strings.Split(dump, "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		switch {
		case strings.Contains(g, ".superviseProbe("):
			// The child's main goroutine, which runs this watchdog.
		case strings.Contains(header, "[sync."), strings.Contains(header, "[semacquire"):
			blocked = append(blocked, g)
		default:
			return "", false
		}
	}
	return strings.Join(blocked, "\n\n"), len(blocked) > 0
}

// probeRunBeforeClose creates an executable, runs true while it is still
// open, then closes and runs it. With the global gate the run waits for
// syscall.ForkLock, which the open File holds: the documented deadlock.
func probeRunBeforeClose(dir, truePath string) error {
	path := filepath.Join(dir, "a")
	f, err := safeexec.CreateExecutable(path, 0o755)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(script); err != nil {
		return err
	}
	if err := safeexec.Command(truePath).Run(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return safeexec.Command(path).Run()
}

// probeTwoFiles has one goroutine open two executables at once, again and
// again, while another goroutine starts true. With the global gate a
// second read lock on syscall.ForkLock would wait behind the spawner's
// fork, which waits for the first.
func probeTwoFiles(dir, truePath string) error {
	var done atomic.Bool
	spawnErr := make(chan error, 1)
	go func() {
		var err error
		for !done.Load() && err == nil {
			err = safeexec.Command(truePath).Run()
		}
		spawnErr <- err
	}()
	err := twoFiles(dir)
	done.Store(true)
	return errors.Join(err, <-spawnErr)
}

func twoFiles(dir string) error {
	for i := range 20 {
		if err := twoFilesOnce(dir, i); err != nil {
			return err
		}
	}
	return nil
}

func twoFilesOnce(dir string, i int) error {
	var files [2]*safeexec.File
	for j := range files {
		f, err := safeexec.CreateExecutable(filepath.Join(dir, fmt.Sprintf("b-%d-%d", i, j)), 0o755)
		if err != nil {
			return err
		}
		defer f.Abort()
		files[j] = f
		// Give the spawner time to queue a fork behind the first.
		time.Sleep(2 * time.Millisecond)
	}
	for _, f := range files {
		if _, err := f.Write(script); err != nil {
			return err
		}
	}
	// Both are closed before either runs: running one while the other is
	// open is probe a's deadlock.
	for _, f := range files {
		if err := f.Close(); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := safeexec.Command(f.Name()).Run(); err != nil {
			return err
		}
	}
	return nil
}
