package safeexec

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// gate is the fork gate. Every start attempt holds its shared side, so
// Starts run in parallel. Its exclusive side waits out every attempt in
// flight, whose children may still hold a copy of a descriptor that is
// being written: a Start that met ETXTBSY takes it for its first retry.
// Nothing holds either side across a sleep or while user code runs.
var gate sync.RWMutex

// nextBackoff returns the sleep that follows one of length d (zero for
// the first). A child lets go of an inherited descriptor when it finishes
// its exec, typically within a millisecond, so the first sleeps are short.
func nextBackoff(d time.Duration) time.Duration {
	const first, last = 25 * time.Microsecond, 50 * time.Millisecond
	return min(max(first, 2*d), last)
}

var retryBudget atomic.Int64 // nanoseconds

func init() { retryBudget.Store(int64(2 * time.Second)) }

// SetRetryBudget sets how long, process-wide, a Start may keep retrying
// when its executable is busy (ETXTBSY) and how long [File.Close] waits
// for the file to be closed everywhere. It returns the previous budget.
// The default is 2s. Zero allows a Start only the one retry under the
// gate's exclusive side. Close waits at least a second whatever the
// budget, since a child the process has just forked may need that long to
// reach exec on a loaded machine. SetRetryBudget panics if d is negative.
// [Cmd.SetRetryBudget] overrides it for one command, and a context with a
// deadline given to [File.CloseContext] for one Close.
func SetRetryBudget(d time.Duration) (was time.Duration) {
	if d < 0 {
		panic("safeexec: negative retry budget")
	}
	return time.Duration(retryBudget.Swap(int64(d)))
}

// Stats counts what the gate and the writers have done since the process
// started. Every count is a plural noun and only grows, except
// GlobalGateFiles, which is a current level.
type Stats struct {
	Starts    uint64 // calls to Start (also from Run, Output, CombinedOutput)
	Attempts  uint64 // start attempts, first ones and retries: Starts+Retries
	SlowPaths uint64 // Starts whose first attempt met ETXTBSY
	Retries   uint64 // attempts after a first one that met ETXTBSY
	GiveUps   uint64 // Starts that returned ETXTBSY after retrying

	// Each File.Close whose writable descriptor closed without error
	// counts under the one thing that told it nobody holds the file open
	// for writing any more (see the package documentation).
	LeaseCloses     uint64 // the kernel's own count, through a read lease: any process's writers
	FlockCloses     uint64 // a flock drain: this process's children only
	PipeCloses      uint64 // a pipe drain: this process's children only
	UncheckedCloses uint64 // nothing could tell: such a Close fails, but on Windows, which has no fork
	DrainWaits      uint64 // Closes that found the file still open for writing, and waited

	SlowPathTime  time.Duration // time Starts spent in slow paths
	DrainWaitTime time.Duration // time Closes spent waiting for the file to be released

	// GlobalGateFiles is how many Files hold syscall.ForkLock right now
	// (see SetGlobalGate); while it is non-zero, no Go fork can start.
	GlobalGateFiles int
}

var stats statsCounters

type statsCounters struct {
	starts, slowPaths, retries, giveUps atomic.Uint64
	closes                              [byPipe + 1]atomic.Uint64 // by vouch
	drainWaits                          atomic.Uint64
	slowPathTime, drainWaitTime         atomic.Int64 // nanoseconds
}

// count counts a Close under what vouched for it.
func (s *statsCounters) count(v vouch) { s.closes[v].Add(1) }

// ReadStats returns the gate's counters. Each counter is loaded once, so
// Attempts is always Starts+Retries; the counters are not read at one
// instant, so others may be a Start or a Close apart.
func ReadStats() Stats {
	s := Stats{
		Starts:          stats.starts.Load(),
		Retries:         stats.retries.Load(),
		SlowPaths:       stats.slowPaths.Load(),
		GiveUps:         stats.giveUps.Load(),
		LeaseCloses:     stats.closes[byLease].Load(),
		FlockCloses:     stats.closes[byFlock].Load(),
		PipeCloses:      stats.closes[byPipe].Load(),
		UncheckedCloses: stats.closes[unchecked].Load(),
		DrainWaits:      stats.drainWaits.Load(),
		SlowPathTime:    time.Duration(stats.slowPathTime.Load()),
		DrainWaitTime:   time.Duration(stats.drainWaitTime.Load()),
		GlobalGateFiles: globalGateFiles(),
	}
	s.Attempts = s.Starts + s.Retries
	return s
}

// String returns s as one line for a log, for example
//
//	starts=1200 retried=3 (2.1ms) gave-up=0 closes: lease=40 flock=0 pipe=0 unchecked=0 waited=2 (1.4ms)
//
// where retried counts SlowPaths, with SlowPathTime; gave-up, GiveUps;
// the closes are counted by what vouched for each; and waited counts
// DrainWaits, with DrainWaitTime. A non-zero GlobalGateFiles ends the
// line as global-gate-files=N.
func (s Stats) String() string {
	line := fmt.Sprintf("starts=%d retried=%d (%v) gave-up=%d closes: lease=%d flock=%d pipe=%d unchecked=%d waited=%d (%v)",
		s.Starts, s.SlowPaths, short(s.SlowPathTime), s.GiveUps,
		s.LeaseCloses, s.FlockCloses, s.PipeCloses, s.UncheckedCloses,
		s.DrainWaits, short(s.DrainWaitTime))
	if s.GlobalGateFiles != 0 {
		line += fmt.Sprintf(" global-gate-files=%d", s.GlobalGateFiles)
	}
	return line
}

// short rounds d to three significant digits (or whole seconds), for
// reading.
func short(d time.Duration) time.Duration {
	for _, unit := range []time.Duration{time.Second, time.Millisecond, time.Microsecond} {
		switch {
		case d >= 100*unit:
			return d.Round(unit)
		case d >= 10*unit:
			return d.Round(unit / 10)
		case d >= unit:
			return d.Round(unit / 100)
		}
	}
	return d
}

// startGated makes c's first start attempt under the gate's shared side
// and, if the executable is busy, retries it as the package doc describes.
func (c *Cmd) startGated() (*exec.Cmd, error) {
	stats.starts.Add(1)
	x, err := c.attemptGated(false)
	if !errors.Is(err, syscall.ETXTBSY) {
		return x, err
	}
	return c.retryBusy(err)
}

// attemptGated makes one attempt under the gate's shared side, or under
// its exclusive side if exclusive is set.
func (c *Cmd) attemptGated(exclusive bool) (*exec.Cmd, error) {
	if exclusive {
		gate.Lock()
		defer gate.Unlock()
	} else {
		gate.RLock()
		defer gate.RUnlock()
	}
	return c.attempt()
}

// retryBusy is the slow path: busy is the ETXTBSY of the first attempt.
func (c *Cmd) retryBusy(busy error) (*exec.Cmd, error) {
	stats.slowPaths.Add(1)
	begin := time.Now()
	defer func() { stats.slowPathTime.Add(int64(time.Since(begin))) }()

	budget := time.Duration(retryBudget.Load())
	if c.hasBudget {
		budget = c.budget
	}
	var sleep time.Duration
	for attempts := 2; ; attempts++ {
		// The first retry waits out every Start in flight, whose children
		// may hold our file; later ones wait for other holders to let go.
		stats.retries.Add(1)
		x, err := c.attemptGated(attempts == 2)
		if !errors.Is(err, syscall.ETXTBSY) {
			if err != nil && c.ctx != nil && errors.Is(err, c.ctx.Err()) {
				// The context ended while the attempt waited for the
				// gate, and exec did not try: the file was still busy.
				return nil, gaveUp(attempts-1, begin, fmt.Errorf("%w: %w", busy, err))
			}
			return x, err
		}
		busy = err
		left := budget - time.Since(begin)
		if left <= 0 {
			return nil, gaveUp(attempts, begin, busy)
		}
		sleep = nextBackoff(sleep)
		if err := c.pause(min(sleep, left)); err != nil {
			return nil, gaveUp(attempts, begin, fmt.Errorf("%w: %w", busy, err))
		}
	}
}

// gaveUp counts a Start that gave up on a busy file and returns its error.
func gaveUp(attempts int, begin time.Time, err error) error {
	stats.giveUps.Add(1)
	return fmt.Errorf("safeexec: gave up after %d attempts in %v: %w",
		attempts, time.Since(begin).Round(time.Microsecond), err)
}

// pause sleeps for d, or until c's context is done, and then returns the
// context's error.
func (c *Cmd) pause(d time.Duration) error {
	if c.ctx == nil {
		return pause(context.Background(), d)
	}
	return pause(c.ctx, d)
}

// pause sleeps for d, or until ctx is done, and then returns ctx's error.
func pause(ctx context.Context, d time.Duration) error {
	if d < time.Millisecond {
		// The runtime's timers have about 1ms resolution in an idle
		// process (see pollSleep); the short sleeps must be short.
		pollSleep(d)
		return ctx.Err()
	}
	if ctx.Done() == nil {
		time.Sleep(d)
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var globalGate atomic.Bool

// SetGlobalGate turns the global gate on or off and reports whether it was
// on. It is off by default, and it affects Files created after the call.
//
// While the global gate is on, every File holds the read side of
// [syscall.ForkLock] from CreateExecutable to Close, so no fork made by the
// Go runtime anywhere in the process, plain [os/exec] included, can copy
// its descriptor, and Close has nothing to wait for. That matters where
// the kernel refuses a lease on the file, so that only the drains that see
// this process's children can vouch for it (see the package
// documentation). Forks made by C code are still drained.
//
// It has two costs. Every fork in the process, through this package or
// not, waits while any such File is open, so a slow writer stalls every
// command the process starts. And a goroutine that starts a command, or
// waits for one to start, while a File it will close later is open,
// deadlocks: the fork waits for the Close, which waits for the fork.
// A Start that meets ETXTBSY meanwhile waits with them, beyond its retry
// budget, and a File that is never closed or aborted stops every fork for
// good. [Stats.GlobalGateFiles] tells how many Files hold the lock.
func SetGlobalGate(on bool) (was bool) {
	return globalGate.Swap(on)
}

// forkLockHolders counts the holders of ForkLock: Files under the global
// gate, and Creates moving a file above the pipe (see orderAbovePipe).
// They share one read lock, taken by the first and released by the last,
// so that a goroutine can hold two Files: a second RLock would wait behind
// a fork that waits for the first.
var forkLockHolders struct {
	sync.Mutex
	n     int          // shares of the read lock
	files atomic.Int64 // Files that hold a share for the global gate
}

// joinForkLock takes a share of the read lock on ForkLock, taking the lock
// if no File holds it.
func joinForkLock() {
	forkLockHolders.Lock()
	if forkLockHolders.n == 0 {
		syscall.ForkLock.RLock()
	}
	forkLockHolders.n++
	forkLockHolders.Unlock()
}

// releaseForkLock gives up f's share of the read lock on ForkLock, if any.
func (f *File) releaseForkLock() {
	if f.forkLocked {
		f.forkLocked = false
		forkLockHolders.files.Add(-1)
		leaveForkLock()
	}
}

// leaveForkLock gives up a share of the read lock on ForkLock, releasing
// the lock with the last share.
func leaveForkLock() {
	forkLockHolders.Lock()
	forkLockHolders.n--
	if forkLockHolders.n == 0 {
		syscall.ForkLock.RUnlock()
	}
	forkLockHolders.Unlock()
}

func globalGateFiles() int { return int(forkLockHolders.files.Load()) }
