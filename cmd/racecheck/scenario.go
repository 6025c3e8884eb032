package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
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

// The slow write of s3: 1 MiB in 4 KiB chunks, a script that exits before
// the shell reads its padding.
const (
	slowSize  = 1 << 20
	slowChunk = 4 << 10
)

// runner runs the scenarios and gathers their results.
type runner struct {
	cfg      *config
	ctx      context.Context
	dir      string
	truePath string
	progress *progress
	seq      atomic.Uint64 // numbers the files written
}

// counts are what callers saw: ETXTBSY and other errors.
type counts struct {
	Busy  int64 `json:"etxtbsy"`
	Other int64 `json:"other"`
}

func (c *counts) add(err error) {
	switch {
	case err == nil:
	case errors.Is(err, syscall.ETXTBSY):
		c.Busy++
	default:
		c.Other++
	}
}

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

// merge adds d to c.
func (c *counts) merge(d counts) {
	c.Busy += d.Busy
	c.Other += d.Other
}

// gateDelta is what safeexec's counters did during a scenario.
type gateDelta struct {
	SlowPaths   uint64  `json:"slowPaths"`
	GiveUps     uint64  `json:"giveUps"`
	FlockDrains uint64  `json:"flockDrains"`
	PipeDrains  uint64  `json:"pipeDrains"`
	Barriers    uint64  `json:"barriers"`
	DrainWaits  uint64  `json:"drainWaits"`
	WaitedMS    float64 `json:"waitedMs"`
}

func (d *gateDelta) add(before, after safeexec.Stats) {
	d.SlowPaths += after.SlowPaths - before.SlowPaths
	d.GiveUps += after.GiveUps - before.GiveUps
	d.FlockDrains += after.FlockDrains - before.FlockDrains
	d.PipeDrains += after.PipeDrains - before.PipeDrains
	d.Barriers += after.Barriers - before.Barriers
	d.DrainWaits += after.DrainWaits - before.DrainWaits
	d.WaitedMS += float64(after.Waited-before.Waited) / 1e6
}

// stormResult is the result of s1 or s2 for one strategy.
type stormResult struct {
	Cycles      int64      `json:"cycles"`
	Seconds     float64    `json:"seconds"`
	PerSec      float64    `json:"cyclesPerSec"`
	Ratio       float64    `json:"ratioToExec"`
	Failures    counts     `json:"failures"`
	Retried     uint64     `json:"retried"`
	Spawns      int64      `json:"spawns"`
	SpawnErrors counts     `json:"spawnerFailures"`
	WriteMeanUS float64    `json:"writeMeanUs"`
	CloseMeanUS float64    `json:"closeMeanUs"`
	Gate        *gateDelta `json:"gate,omitempty"`

	write, close time.Duration
	perRound     []float64 // cycles per second in each round
}

// slowResult is the result of s3 for one strategy.
type slowResult struct {
	WriteSeconds  float64    `json:"writeSeconds"`
	SpawnsDuring  int64      `json:"spawnsDuringWrite"`
	RateDuring    float64    `json:"spawnsPerSecDuringWrite"`
	RateWithout   float64    `json:"spawnsPerSecWithoutWriter"`
	Ratio         float64    `json:"ratioDuringToWithout"`
	Failures      counts     `json:"failures"`
	SpawnFailures counts     `json:"spawnerFailures"`
	Gate          *gateDelta `json:"gate,omitempty"`
}

// fastResult is the result of s4 for one strategy and goroutine count.
type fastResult struct {
	Goroutines int     `json:"goroutines"`
	Spawns     int64   `json:"spawns"`
	Seconds    float64 `json:"seconds"`
	PerSec     float64 `json:"spawnsPerSec"`
	Ratio      float64 `json:"ratioToExec"`
	Failures   counts  `json:"failures"`

	perRound []float64 // spawns per second in each round
}

// slice returns how long, or how many cycles, one round of s1 or s2
// runs for.
func (r *runner) slice() (time.Duration, int64) {
	d := r.cfg.duration / time.Duration(r.cfg.rounds)
	if r.cfg.cycles == 0 {
		return d, 0
	}
	return 0, int64((r.cfg.cycles + r.cfg.rounds - 1) / r.cfg.rounds)
}

// inRounds runs fn for every strategy in every round, each round in a
// different order, so that drift of the machine hits them all alike.
func (r *runner) inRounds(label string, rounds int, fn func(st *strategy)) {
	sts := r.cfg.strategies
	for round := range rounds {
		for i := range sts {
			if r.ctx.Err() != nil {
				return
			}
			st := sts[(i+round)%len(sts)]
			r.progress.show(fmt.Sprintf("%s round %d/%d", label, round+1, rounds), st.name)
			fn(st)
		}
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

// spawners starts n goroutines that run path with run until stop is
// called, which waits for them and returns how many runs they finished
// and what errors they saw.
func spawners(n int, run func(string) error, path string) (spawned *atomic.Int64, stop func() counts) {
	var (
		wg       sync.WaitGroup
		done     atomic.Bool
		mu       sync.Mutex
		failures counts
	)
	spawned = new(atomic.Int64)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c counts
			for !done.Load() {
				c.add(run(path))
				spawned.Add(1)
			}
			mu.Lock()
			failures.Busy += c.Busy
			failures.Other += c.Other
			mu.Unlock()
		}()
	}
	return spawned, func() counts {
		done.Store(true)
		wg.Wait()
		return failures
	}
}

// path returns a fresh name in the work directory.
func (r *runner) path(prefix string) string {
	return filepath.Join(r.dir, prefix+"-"+strconv.FormatUint(r.seq.Add(1), 10))
}

// storm runs s1 (ungated false) or s2 (ungated true).
func (r *runner) storm(label string, ungated bool) map[*strategy]*stormResult {
	res := make(map[*strategy]*stormResult)
	for _, st := range r.cfg.strategies {
		res[st] = &stormResult{}
		if st.safe {
			res[st].Gate = &gateDelta{}
		}
	}
	d, n := r.slice()
	r.inRounds(label, r.cfg.rounds, func(st *strategy) {
		withGate(st, func() { r.stormSlice(st, ungated, d, n, res[st]) })
	})
	for _, s := range res {
		if s.Seconds > 0 {
			s.PerSec = float64(s.Cycles) / s.Seconds
		}
		if s.Cycles > 0 {
			s.WriteMeanUS = float64(s.write) / float64(s.Cycles) / 1e3
			s.CloseMeanUS = float64(s.close) / float64(s.Cycles) / 1e3
		}
	}
	return res
}

// stormSlice runs one round of s1 or s2 for st, for d or n cycles.
func (r *runner) stormSlice(st *strategy, ungated bool, d time.Duration, n int64, acc *stormResult) {
	spawn := st.run
	if ungated {
		spawn = runExec
	}
	var retried0 uint64
	if st.retried != nil {
		retried0 = st.retried()
	}
	stats0 := safeexec.ReadStats()

	spawned, stop := spawners(r.cfg.spawners, spawn, r.truePath)
	begin := time.Now()
	deadline := begin.Add(d)
	var cycles int64
	for ; n > 0 && cycles < n || n == 0 && time.Now().Before(deadline); cycles++ {
		path := r.path("storm")
		err := acc.writeScript(st, path)
		if err == nil {
			err = st.run(path)
		}
		acc.Failures.add(err)
		os.Remove(path)
	}
	elapsed := time.Since(begin)
	acc.SpawnErrors.merge(stop())

	acc.Cycles += cycles
	acc.Seconds += elapsed.Seconds()
	acc.perRound = append(acc.perRound, float64(cycles)/elapsed.Seconds())
	acc.Spawns += spawned.Load()
	if st.retried != nil {
		acc.Retried += st.retried() - retried0
	}
	if acc.Gate != nil {
		acc.Gate.add(stats0, safeexec.ReadStats())
	}
}

// slowScript returns the 1 MiB file of s3.
func slowScript() []byte {
	var b bytes.Buffer
	b.Write(script)
	line := []byte("# padding that the shell never reads ...................................\n")
	for b.Len()+len(line) <= slowSize {
		b.Write(line)
	}
	for b.Len() < slowSize-1 {
		b.WriteByte('#')
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// slow runs s3: one slow write per strategy, with the spawn rate around
// it as the base.
func (r *runner) slow() map[*strategy]*slowResult {
	res := make(map[*strategy]*slowResult)
	data := slowScript()
	r.inRounds("s3", 1, func(st *strategy) {
		withGate(st, func() { res[st] = r.slowOne(st, data) })
	})
	return res
}

// slowOne writes data slowly with st while one goroutine starts true
// through st, and compares the spawn rate during the write with the rate
// just before and just after it.
func (r *runner) slowOne(st *strategy, data []byte) *slowResult {
	res := &slowResult{}
	if st.safe {
		res.Gate = &gateDelta{}
	}
	stats0 := safeexec.ReadStats()
	base := r.cfg.duration / 4
	path := r.path("slow")

	spawned, stop := spawners(1, st.run, r.truePath)
	time.Sleep(50 * time.Millisecond) // let it get going
	t0, c0 := time.Now(), spawned.Load()
	time.Sleep(base)
	t1, c1 := time.Now(), spawned.Load()

	w, err := st.create(path)
	if err != nil {
		res.Failures.add(err)
		res.SpawnFailures = stop()
		return res
	}
	t2, c2 := time.Now(), spawned.Load()
	chunks := len(data) / slowChunk
	for i := range chunks {
		if _, err = w.Write(data[i*slowChunk : (i+1)*slowChunk]); err != nil {
			break
		}
		time.Sleep(time.Until(t2.Add(r.cfg.duration * time.Duration(i+1) / time.Duration(chunks))))
	}
	t3, c3 := time.Now(), spawned.Load()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	t4, c4 := time.Now(), spawned.Load()
	time.Sleep(base)
	t5, c5 := time.Now(), spawned.Load()
	res.SpawnFailures = stop()

	if err == nil {
		err = st.run(path)
	}
	res.Failures.add(err)
	os.Remove(path)

	res.WriteSeconds = t3.Sub(t2).Seconds()
	res.SpawnsDuring = c3 - c2
	res.RateDuring = float64(c3-c2) / t3.Sub(t2).Seconds()
	res.RateWithout = float64(c1-c0+c5-c4) / (t1.Sub(t0) + t5.Sub(t4)).Seconds()
	if res.RateWithout > 0 {
		res.Ratio = res.RateDuring / res.RateWithout
	}
	if res.Gate != nil {
		res.Gate.add(stats0, safeexec.ReadStats())
	}
	return res
}

// fastGoroutines are the goroutine counts of s4.
var fastGoroutines = []int{1, 4}

// fast runs s4.
func (r *runner) fast() map[*strategy][]*fastResult {
	res := make(map[*strategy][]*fastResult)
	for _, st := range r.cfg.strategies {
		for _, g := range fastGoroutines {
			res[st] = append(res[st], &fastResult{Goroutines: g})
		}
	}
	d := r.cfg.duration / time.Duration(r.cfg.rounds)
	r.inRounds("s4", r.cfg.rounds, func(st *strategy) {
		withGate(st, func() {
			for _, fr := range res[st] {
				spawned, stop := spawners(fr.Goroutines, st.run, r.truePath)
				begin := time.Now()
				time.Sleep(d)
				fr.Failures.merge(stop())
				elapsed := time.Since(begin).Seconds()
				n := spawned.Load()
				fr.Seconds += elapsed
				fr.Spawns += n
				fr.perRound = append(fr.perRound, float64(n)/elapsed)
			}
		})
	})
	for _, frs := range res {
		for _, fr := range frs {
			if fr.Seconds > 0 {
				fr.PerSec = float64(fr.Spawns) / fr.Seconds
			}
		}
	}
	return res
}
