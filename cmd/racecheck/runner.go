package main

import (
	"context"
	"os"
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

// spawners starts n goroutines that run path with run, again and again,
// until stop is called or ctx is done; stop returns what errors they saw.
// They wait for each other before their first run, so that a large n
// does not delay the first runs behind the starting of the others, and
// stop kills the commands still running, so that it returns at once
// whatever n. An error that interrupted excuses does not count.
func spawners(ctx context.Context, n int, run func(context.Context, string) error, path string) (spawned *atomic.Int64, stop func() errorCounts) {
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures errorCounts
	)
	spawned = new(atomic.Int64)
	begin := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-begin
			var c errorCounts
			for ctx.Err() == nil {
				err := run(ctx, path)
				if err != nil && interrupted(ctx, err) {
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
	close(begin)
	return spawned, func() errorCounts {
		cancel()
		wg.Wait()
		return failures
	}
}

// signalGrace is how long interrupted waits for the run to be stopped
// after a command died of a stop signal: the signal that reached the
// command's whole process group, as a terminal's Ctrl-C does, reaches
// racecheck's handler a moment later, later still on a loaded machine.
var signalGrace = 2 * time.Second

// interrupted reports whether err is due to the end of the run or of a
// scenario rather than to the strategy: ctx is done, or the command died
// of one of stopSignals and ctx is done within signalGrace, because the
// same signal stopped racecheck. Such an error is no failure of anything.
func interrupted(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	if errorKind(err) != kindStopSignal {
		return false
	}
	t := time.NewTimer(signalGrace)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return true
	case <-t.C:
		return false
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
		err = runExec(r.ctx, path)
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
		err = runSafe(r.ctx, path)
	}
	os.Remove(path)
	var g gateDelta
	g.add(stats0, safeexec.ReadStats())
	rep.Closes.add(g.Closes)
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
