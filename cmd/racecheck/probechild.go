package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/forkgate/forkgate/safeexec"
)

// The deadlock probes' side in the child process.

// A probe runs in a child process: racecheck runs itself with probeEnv
// set to the probe's name, with "+global" for the global gate, and
// probeDirEnv set to the directory to write in.
const (
	probeEnv    = "RACECHECK_PROBE"
	probeDirEnv = "RACECHECK_PROBE_DIR"
)

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
