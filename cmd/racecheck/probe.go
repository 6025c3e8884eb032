package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

// probeTimeout is how long a probe may run before it counts as hung. The
// tests raise it, so that a probe slowed by a loaded machine is not taken
// for a deadlock.
var probeTimeout = 3 * time.Second

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
	Probe   string  `json:"probe"`
	Outcome string  `json:"outcome"` // ok, deadlock, deadlock (documented), failed
	Detail  string  `json:"detail,omitempty"`
	Seconds float64 `json:"seconds"`
	Problem bool    `json:"problem"`
}

// runProbes runs every probe for every strategy it means something for,
// all at once, each in its own child process.
func (r *runner) runProbes() map[*strategy][]*probeResult {
	res := make(map[*strategy][]*probeResult)
	exe, err := os.Executable()
	var wg sync.WaitGroup
	for _, st := range r.cfg.strategies {
		if !st.safe {
			continue
		}
		for _, p := range probes {
			pr := &probeResult{Probe: p.name}
			res[st] = append(res[st], pr)
			if err != nil {
				pr.Outcome, pr.Detail, pr.Problem = "failed", err.Error(), true
				continue
			}
			documented := st.global && p.name == "a"
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.runProbe(exe, p, st, documented, pr)
			}()
		}
	}
	r.progress.show("probes", "running")
	wg.Wait()
	return res
}

func (r *runner) runProbe(exe string, p probe, st *strategy, documented bool, pr *probeResult) {
	ctx, cancel := context.WithTimeout(r.ctx, probeTimeout)
	defer cancel()
	name := p.name
	if st.global {
		name += "+global"
	}
	dir := filepath.Join(r.dir, "probe-"+strings.ReplaceAll(name, "+", "-"))
	var stderr bytes.Buffer
	c := exec.CommandContext(ctx, exe)
	c.Env = append(os.Environ(), probeEnv+"="+name, probeDirEnv+"="+dir)
	c.Stderr = &stderr
	c.WaitDelay = time.Second
	begin := time.Now()
	err := os.Mkdir(dir, 0o755)
	if err == nil {
		err = c.Run()
	}
	pr.Seconds = time.Since(begin).Seconds()
	msg := strings.TrimSpace(stderr.String())
	switch {
	case err == nil:
		pr.Outcome = "ok"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		pr.Outcome = "deadlock"
		pr.Detail = fmt.Sprintf("no exit after %v", probeTimeout)
	case strings.Contains(msg, "all goroutines are asleep - deadlock"):
		pr.Outcome = "deadlock"
		pr.Detail = "the Go runtime found every goroutine asleep"
	default:
		pr.Outcome, pr.Problem = "failed", true
		pr.Detail = fmt.Sprintf("%v: %s", err, firstLine(msg))
	}
	if pr.Outcome == "deadlock" {
		if documented {
			pr.Outcome = "deadlock (documented)"
		} else {
			pr.Problem = true
		}
	}
}

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
	if err := fn(os.Getenv(probeDirEnv), truePath); err != nil {
		fmt.Fprintf(os.Stderr, "racecheck probe %s: %v\n", name, err)
		return 1
	}
	return 0
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
