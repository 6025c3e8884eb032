package main

import (
	"fmt"
	"time"
)

// S4: the fast path, with no writer.

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
				}
			})
		})
	}
	for _, frs := range res {
		for _, fr := range frs {
			if fr.DurationS > 0 {
				fr.PerS = float64(fr.Cycles) / fr.DurationS
			}
		}
	}
	for _, frs := range res {
		for g, fr := range frs {
			fr.FirstError = fr.Errors.first
			fr.Ratio = ratio(fr.PerS, res[0][g].PerS)
		}
	}
	return res
}
