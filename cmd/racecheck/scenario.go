package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/forkgate/forkgate/safeexec"
)

// script is what the writers of s1 and s2 write and run.
var script = []byte("#!/bin/sh\nexit 0\n")

// runner runs the scenarios and gathers their results.
type runner struct {
	cfg      *config
	ctx      context.Context
	dir      string
	truePath string
	progress *progress
	seq      atomic.Uint64 // numbers the files written
}

// errorCounts counts errors by kind.
type errorCounts struct {
	ETXTBSY    int64 `json:"etxtbsy"`
	Permission int64 `json:"permission"` // EACCES or EPERM: noexec, modes
	ExitStatus int64 `json:"exitStatus"` // the program ran and failed
	Other      int64 `json:"other"`

	first string // the first error, for the report
}

// add counts err, if it is not nil.
func (c *errorCounts) add(err error) {
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return
	case errors.Is(err, syscall.ETXTBSY):
		c.ETXTBSY++
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		c.Permission++
	case errors.As(err, &exitErr):
		c.ExitStatus++
	default:
		c.Other++
	}
	if c.first == "" {
		c.first = err.Error()
	}
}

// merge adds d to c.
func (c *errorCounts) merge(d errorCounts) {
	c.ETXTBSY += d.ETXTBSY
	c.Permission += d.Permission
	c.ExitStatus += d.ExitStatus
	c.Other += d.Other
	if c.first == "" {
		c.first = d.first
	}
}

// total returns the number of errors of every kind.
func (c errorCounts) total() int64 { return c.ETXTBSY + c.Permission + c.ExitStatus + c.Other }

// gateDelta is what safeexec's counters did while a strategy ran.
type gateDelta struct {
	SlowPaths   uint64  `json:"slowPaths"`
	GiveUps     uint64  `json:"giveUps"`
	FlockDrains uint64  `json:"flockDrains"`
	PipeDrains  uint64  `json:"pipeDrains"`
	Barriers    uint64  `json:"barriers"`
	DrainWaits  uint64  `json:"drainWaits"`
	WaitedMs    float64 `json:"waitedMs"`
}

func (d *gateDelta) add(before, after safeexec.Stats) {
	d.SlowPaths += after.SlowPaths - before.SlowPaths
	d.GiveUps += after.GiveUps - before.GiveUps
	d.FlockDrains += after.FlockDrains - before.FlockDrains
	d.PipeDrains += after.PipeDrains - before.PipeDrains
	d.Barriers += after.Barriers - before.Barriers
	d.DrainWaits += after.DrainWaits - before.DrainWaits
	d.WaitedMs += float64(after.Waited-before.Waited) / 1e6
}

// stormResult is the result of s1 or s2 for one strategy.
type stormResult struct {
	Strategy      string      `json:"strategy"`
	Cycles        int64       `json:"cycles"`
	Failures      int64       `json:"failures"`
	Errors        errorCounts `json:"errors"`
	WriteFailures int64       `json:"writeFailures"` // of Failures, in the write
	FirstError    string      `json:"firstError,omitempty"`
	Retried       *uint64     `json:"retried,omitempty"`
	Spawns        int64       `json:"spawns"`
	SpawnFailures int64       `json:"spawnFailures"`
	SpawnErrors   errorCounts `json:"spawnErrors"`
	DurationS     float64     `json:"durationS"`
	CyclesPerS    float64     `json:"cyclesPerS"`
	Ratio         float64     `json:"cyclesPerSRatioToExec"`
	WriteMeanUs   float64     `json:"writeMeanUs"`
	CloseMeanUs   float64     `json:"closeMeanUs"`
	Gate          *gateDelta  `json:"gate,omitempty"`

	st           *strategy
	write, close time.Duration
	perRound     []float64 // cycles per second in each round
}

// failed reports whether the strategy saw any error, its spawners'
// included.
func (s *stormResult) failed() bool { return s.Failures+s.SpawnFailures > 0 }

// writeScript writes script to path with st, as os.WriteFile or
// safeexec.WriteExecutable would, and adds up the time it takes.
func (acc *stormResult) writeScript(st *strategy, path string) error {
	begin := time.Now()
	w, err := st.create(path)
	if err != nil {
		return err
	}
	_, err = w.Write(script)
	closing := time.Now()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	end := time.Now()
	acc.write += end.Sub(begin)
	acc.close += end.Sub(closing)
	return err
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

// newStorm returns empty s1 or s2 results, one per strategy.
func (r *runner) newStorm() []*stormResult {
	var res []*stormResult
	for _, st := range r.cfg.strategies {
		s := &stormResult{Strategy: st.name, st: st}
		if st.retried != nil {
			s.Retried = new(uint64)
		}
		if st.safe {
			s.Gate = &gateDelta{}
		}
		res = append(res, s)
	}
	return res
}

// stormSlice runs one round of s1 or s2 (ungated) for acc's strategy:
// n cycles, or for d if n is 0.
func (r *runner) stormSlice(acc *stormResult, ungated bool, d time.Duration, n int64) {
	st := acc.st
	spawn := st.run
	if ungated {
		spawn = runExec
	}
	var retried0 uint64
	if st.retried != nil {
		retried0 = st.retried()
	}
	stats0 := safeexec.ReadStats()

	spawned, stop := spawners(r.ctx, r.cfg.spawners, spawn, r.truePath)
	begin := time.Now()
	deadline := begin.Add(d)
	var cycles int64
	for ; (n > 0 && cycles < n || n == 0 && time.Now().Before(deadline)) && r.ctx.Err() == nil; cycles++ {
		path := r.path("storm")
		err := acc.writeScript(st, path)
		wrote := err == nil
		if wrote {
			err = st.run(path)
		}
		os.Remove(path)
		if r.ctx.Err() != nil {
			break // the signal that ended the run may have killed the script
		}
		if err != nil {
			acc.Failures++
			if !wrote {
				acc.WriteFailures++
			}
		}
		acc.Errors.add(err)
	}
	elapsed := time.Since(begin)
	spawnErrs := stop()
	acc.SpawnErrors.merge(spawnErrs)
	acc.SpawnFailures += spawnErrs.total()

	acc.Cycles += cycles
	acc.DurationS += elapsed.Seconds()
	if cycles > 0 {
		acc.perRound = append(acc.perRound, float64(cycles)/elapsed.Seconds())
	}
	acc.Spawns += spawned.Load()
	if st.retried != nil {
		*acc.Retried += st.retried() - retried0
	}
	if acc.Gate != nil {
		acc.Gate.add(stats0, safeexec.ReadStats())
	}
}

// finishStorm sets the means and rates of s1 or s2.
func finishStorm(res []*stormResult) {
	for _, s := range res {
		if s.DurationS > 0 {
			s.CyclesPerS = float64(s.Cycles) / s.DurationS
		}
		if s.Cycles > 0 {
			s.WriteMeanUs = float64(s.write) / float64(s.Cycles) / 1e3
			s.CloseMeanUs = float64(s.close) / float64(s.Cycles) / 1e3
		}
		s.FirstError = s.Errors.first
		if s.FirstError == "" {
			s.FirstError = s.SpawnErrors.first
		}
		s.Ratio = medianRatio(s.perRound, res[0].perRound)
	}
}
