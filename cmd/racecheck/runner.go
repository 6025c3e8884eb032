package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forkgate/forkgate/safeexec"
)

// The measuring steps share a runner: the run's context, its directory and
// the spawners every scenario runs beside its writer.

// runner runs the scenarios and gathers their results.
type runner struct {
	cfg      *config
	ctx      context.Context
	dir      string
	truePath string
	progress *progress
	seq      atomic.Uint64 // numbers the files written
}

// withGate turns safeexec's global gate on for st while fn runs.
func withGate(st *strategy, fn func()) {
	if st.global {
		safeexec.SetGlobalGate(true)
		defer safeexec.SetGlobalGate(false)
	}
	fn()
}

// sleep waits for d or until the run is interrupted, and reports whether
// it waited the whole time.
func (r *runner) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// spawners starts n goroutines that run path with run until stop is
// called, which waits for them and returns what errors they saw. An error
// once ctx is done does not count: the signal that ended the run may have
// killed the command.
func spawners(ctx context.Context, n int, run func(string) error, path string) (spawned *atomic.Int64, stop func() errorCounts) {
	var (
		wg       sync.WaitGroup
		done     atomic.Bool
		mu       sync.Mutex
		failures errorCounts
	)
	spawned = new(atomic.Int64)
	for range n {
		wg.Go(func() {
			var c errorCounts
			for !done.Load() {
				err := run(path)
				if err != nil && ctx.Err() != nil {
					break
				}
				c.add(err)
				spawned.Add(1)
			}
			mu.Lock()
			failures.merge(c)
			mu.Unlock()
		})
	}
	return spawned, func() errorCounts {
		done.Store(true)
		wg.Wait()
		return failures
	}
}

// path returns a fresh name in the work directory.
func (r *runner) path(prefix string) string {
	return filepath.Join(r.dir, prefix+"-"+strconv.FormatUint(r.seq.Add(1), 10))
}

// preflight checks that plain os/exec can run a file written in the work
// directory, and writes one with safeexec to learn which path its Close
// takes there. It reports whether the scenarios can run.
func (r *runner) preflight(rep *report) bool {
	path := r.path("preflight-exec")
	err := os.WriteFile(path, script, 0o755)
	if err == nil {
		err = exec.Command(path).Run()
	}
	os.Remove(path)
	if err != nil {
		rep.ExecError = err.Error()
		return false
	}
	stats0 := safeexec.ReadStats()
	path = r.path("preflight-safeexec")
	err = safeexec.WriteExecutable(path, script, 0o755)
	if err == nil {
		err = safeexec.Command(path).Run()
	}
	os.Remove(path)
	var g gateDelta
	g.add(stats0, safeexec.ReadStats())
	rep.Closes.add(g)
	if err != nil {
		rep.Problems = append(rep.Problems, "safeexec could not write and run a script where plain os/exec could: "+err.Error())
	}
	return true
}

// inRound runs fn for every strategy, in an order that turns with the
// round, so that drift of the machine hits them all alike. It stops
// early when the run is interrupted.
func (r *runner) inRound(label string, round int, fn func(i int, st *strategy)) {
	sts := r.cfg.strategies
	for i := range sts {
		if r.ctx.Err() != nil {
			return
		}
		j := (i + round) % len(sts)
		r.progress.show(label, sts[j].name)
		fn(j, sts[j])
	}
}
