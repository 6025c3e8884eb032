package main

// S3 and S4: what the strategies cost when nothing races.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/forkgate/forkgate/safeexec"
)

// The slow write of s3: 1 MiB in 4 KiB chunks, a script that exits before
// the shell reads its padding.
const (
	slowSize  = 1 << 20
	slowChunk = 4 << 10
)

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

// slowResult is the result of s3 for one strategy.
type slowResult struct {
	Strategy      string      `json:"strategy"`
	Cycles        int64       `json:"cycles"` // slow writes made: 1, or 0 if interrupted
	Failures      int64       `json:"failures"`
	Errors        errorCounts `json:"errors"`
	FirstError    string      `json:"firstError,omitempty"`
	WriteS        float64     `json:"writeS"`
	SpawnsDuring  int64       `json:"spawnsDuringWrite"`
	RateDuring    float64     `json:"spawnsPerSDuringWrite"`
	RateWithout   float64     `json:"spawnsPerSWithoutWriter"`
	Ratio         float64     `json:"ratioDuringToWithout"`
	Spawns        int64       `json:"spawns"`
	SpawnFailures int64       `json:"spawnFailures"`
	SpawnErrors   errorCounts `json:"spawnErrors"`
	Gate          *gateDelta  `json:"gate,omitempty"`

	st *strategy
}

// slow runs s3: one slow write per strategy, with the spawn rate around
// it as the base.
func (r *runner) slow() []*slowResult {
	res := make([]*slowResult, len(r.cfg.strategies))
	data := slowScript()
	r.inRound("s3", 0, func(i int, st *strategy) {
		withGate(st, func() { res[i] = r.slowOne(st, data) })
	})
	var done []*slowResult
	for _, s := range res {
		if s != nil {
			done = append(done, s)
		}
	}
	return done
}

// slowOne writes data slowly with st while one goroutine starts true
// through st, and compares the spawn rate during the write with the rate
// just before and just after it.
func (r *runner) slowOne(st *strategy, data []byte) *slowResult {
	res := &slowResult{Strategy: st.name, st: st}
	if st.safe {
		res.Gate = &gateDelta{}
		stats0 := safeexec.ReadStats()
		defer func() { res.Gate.add(stats0, safeexec.ReadStats()) }()
	}
	base := r.cfg.perf / 4
	path := r.path("slow")
	spawned, stop := spawners(r.ctx, 1, st.run, r.truePath)
	defer func() {
		errs := stop()
		res.Spawns = spawned.Load()
		res.SpawnErrors, res.SpawnFailures = errs, errs.total()
		res.FirstError = res.Errors.first
		if res.FirstError == "" {
			res.FirstError = errs.first
		}
		os.Remove(path)
	}()

	r.sleep(50 * time.Millisecond) // let it get going
	t0, c0 := time.Now(), spawned.Load()
	r.sleep(base)
	t1, c1 := time.Now(), spawned.Load()
	w, err := st.create(path)
	if err != nil {
		res.Cycles, res.Failures = 1, 1
		res.Errors.add(err)
		return res
	}
	t2, c2 := time.Now(), spawned.Load()
	err = r.slowWrite(w, data, t2)
	t3, c3 := time.Now(), spawned.Load()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if r.ctx.Err() != nil {
		return res // the measurement is cut short: leave it out
	}
	t4, c4 := time.Now(), spawned.Load()
	r.sleep(base)
	t5, c5 := time.Now(), spawned.Load()

	if err == nil {
		err = st.run(path)
	}
	res.Cycles = 1
	if err != nil {
		res.Failures = 1
	}
	res.Errors.add(err)
	res.WriteS = t3.Sub(t2).Seconds()
	res.SpawnsDuring = c3 - c2
	res.RateDuring = float64(c3-c2) / t3.Sub(t2).Seconds()
	res.RateWithout = float64(c1-c0+c5-c4) / (t1.Sub(t0) + t5.Sub(t4)).Seconds()
	if res.RateWithout > 0 {
		res.Ratio = res.RateDuring / res.RateWithout
	}
	return res
}

// slowWrite writes data to w in chunks spread over -perf from begin.
func (r *runner) slowWrite(w io.Writer, data []byte, begin time.Time) error {
	chunks := len(data) / slowChunk
	for i := range chunks {
		if _, err := w.Write(data[i*slowChunk : (i+1)*slowChunk]); err != nil {
			return err
		}
		next := begin.Add(r.cfg.perf * time.Duration(i+1) / time.Duration(chunks))
		if !r.sleep(time.Until(next)) {
			return r.ctx.Err()
		}
	}
	return nil
}

// fastGoroutines are the goroutine counts of s4.
var fastGoroutines = []int{1, 4}

// fastResult is the result of s4 for one strategy and goroutine count.
type fastResult struct {
	Strategy   string      `json:"strategy"`
	Goroutines int         `json:"goroutines"`
	Cycles     int64       `json:"cycles"` // Start and Wait of true
	Failures   int64       `json:"failures"`
	Errors     errorCounts `json:"errors"`
	FirstError string      `json:"firstError,omitempty"`
	DurationS  float64     `json:"durationS"`
	PerS       float64     `json:"cyclesPerS"`
	Ratio      float64     `json:"cyclesPerSRatioToExec"`

	st       *strategy
	perRound []float64 // spawns per second in each round
}

// fast runs s4: each strategy's results, one per goroutine count.
func (r *runner) fast() [][]*fastResult {
	res := make([][]*fastResult, len(r.cfg.strategies))
	for i, st := range r.cfg.strategies {
		for _, g := range fastGoroutines {
			res[i] = append(res[i], &fastResult{Strategy: st.name, Goroutines: g, st: st})
		}
	}
	d := r.cfg.perf / time.Duration(r.cfg.rounds)
	for round := range r.cfg.rounds {
		r.inRound(fmt.Sprintf("s4 round %d/%d", round+1, r.cfg.rounds), round, func(i int, st *strategy) {
			withGate(st, func() {
				for _, fr := range res[i] {
					spawned, stop := spawners(r.ctx, fr.Goroutines, st.run, r.truePath)
					begin := time.Now()
					r.sleep(d)
					errs := stop()
					elapsed := time.Since(begin).Seconds()
					n := spawned.Load()
					fr.Errors.merge(errs)
					fr.Failures += errs.total()
					fr.DurationS += elapsed
					fr.Cycles += n
					fr.perRound = append(fr.perRound, float64(n)/elapsed)
				}
			})
		})
	}
	for _, frs := range res {
		for g, fr := range frs {
			if fr.DurationS > 0 {
				fr.PerS = float64(fr.Cycles) / fr.DurationS
			}
			fr.FirstError = fr.Errors.first
			fr.Ratio = medianRatio(fr.perRound, res[0][g].perRound)
		}
	}
	return res
}
