package main

import (
	"bytes"
	"io"
	"os"
	"time"

	"github.com/forkgate/forkgate/safeexec"
)

// S3: a slow write beside one spawner.

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
		err = st.run(r.ctx, path)
	}
	if err != nil && interrupted(r.ctx, err) {
		return res
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
