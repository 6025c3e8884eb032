package main

import (
	"fmt"
	"os"
	"time"

	"github.com/forkgate/forkgate/safeexec"
)

// S1 and S2: the storms, in rounds.

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

// storms runs s1 and s2, those chosen, in rounds. After each round it
// asks decided, and stops if it reports true. It returns the rounds run.
func (r *runner) storms(rep *report, decided func(roundsRun int) bool) int {
	var scens []string
	for _, sc := range r.cfg.scenarios {
		switch sc {
		case "s1":
			rep.S1 = r.newStorm()
		case "s2":
			rep.S2 = r.newStorm()
		default:
			continue
		}
		scens = append(scens, sc)
	}
	if len(scens) == 0 {
		return 0
	}
	rounds := r.cfg.rounds
	// exec and safeexec, which the verdict compares, get twice the time
	// of the others, so that the verdict comes sooner.
	weights := 0
	for _, st := range r.cfg.strategies {
		weights += weight(st)
	}
	slice := r.cfg.duration / time.Duration(rounds*len(scens)*weights)
	roundsRun := 0
	for round := range rounds {
		for _, sc := range scens {
			res := rep.S1
			if sc == "s2" {
				res = rep.S2
			}
			label := fmt.Sprintf("%s round %d/%d", sc, round+1, rounds)
			r.inRound(label, round, func(i int, st *strategy) {
				// With -cycles, round i runs its share of exactly n.
				n := int64(r.cfg.cycles*(round+1)/rounds - r.cfg.cycles*round/rounds)
				if r.cfg.cycles > 0 && n == 0 {
					return
				}
				withGate(st, func() { r.stormSlice(res[i], sc == "s2", slice*time.Duration(weight(st)), n) })
			})
		}
		if r.ctx.Err() != nil {
			break
		}
		roundsRun = round + 1
		if decided(roundsRun) {
			break
		}
	}
	for _, res := range [][]*stormResult{rep.S1, rep.S2} {
		if res != nil {
			finishStorm(res)
		}
	}
	return roundsRun
}

// weight returns st's share of the time of s1 and s2.
func weight(st *strategy) int {
	if st.name == "exec" || st.name == "safeexec" {
		return 2
	}
	return 1
}
