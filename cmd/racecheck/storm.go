package main

import (
	"fmt"
	"os"
	"time"

	"github.com/forkgate/forkgate/safeexec"
)

// S1, S2 and S5: the storms, in rounds. A writer writes a script and runs
// it, over and over, while spawners start true.

// stormScenarios are the storms, in the order they run.
var stormScenarios = []string{"s1", "s2", "s5"}

// inStorm reports whether st runs in the storm sc. S5 is about who runs
// the file, so it keeps only plain os/exec, the retry and safeexec: the
// mutex and the global gate would tell nothing more.
func inStorm(sc string, st *strategy) bool {
	return sc != "s5" || st.name == "exec" || st.name == "retry" || st.name == "safeexec"
}

// weight returns st's share of the time of the storm sc: exec and
// safeexec, which the verdict compares, get twice the time of the others,
// and so does the retry in S5, which S5 is there to show.
func weight(sc string, st *strategy) int {
	if st.name == "exec" || st.name == "safeexec" || sc == "s5" && st.name == "retry" {
		return 2
	}
	return 1
}

// newStorm returns empty results of the storm sc, one per strategy in it.
func (r *runner) newStorm(sc string) []*stormResult {
	var res []*stormResult
	for _, st := range r.cfg.strategies {
		if !inStorm(sc, st) {
			continue
		}
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

// storms runs the storms res holds, in -rounds rounds, until deadline or
// with -cycles; other runs the files of S5. After each round it asks
// decided, and stops if it reports true. It returns the rounds run.
//
// Each slice of a round (one strategy in one storm) gets its weight's
// share of the time left, so a slice that overran, by finishing its last
// cycle, shortens the ones after it: the storms end at deadline, plus at
// most about one cycle.
func (r *runner) storms(res map[string][]*stormResult, other *otherRunner, deadline time.Time,
	decided func(roundsRun int) bool) int {
	var scens []string
	units := 0 // the weights of the slices left
	for _, sc := range stormScenarios {
		if res[sc] != nil {
			scens = append(scens, sc)
			for _, s := range res[sc] {
				units += r.cfg.rounds * weight(sc, s.st)
			}
		}
	}
	rounds, roundsRun := r.cfg.rounds, 0
	for round := range rounds {
		for _, sc := range scens {
			label := fmt.Sprintf("%s round %d/%d", sc, round+1, rounds)
			r.inRound(label, round, func(_ int, st *strategy) {
				acc := findStorm(res[sc], st.name)
				if acc == nil {
					return
				}
				w := weight(sc, st)
				d := time.Until(deadline) * time.Duration(w) / time.Duration(max(units, 1))
				units -= w
				// With -cycles, round i runs its share of exactly n.
				n := int64(r.cfg.cycles*(round+1)/rounds - r.cfg.cycles*round/rounds)
				if r.cfg.cycles > 0 && n == 0 || r.cfg.cycles == 0 && d <= 0 {
					return
				}
				withGate(st, func() { r.stormSlice(acc, sc, other, d, n) })
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
	for _, sc := range scens {
		finishStorm(res[sc])
	}
	return roundsRun
}

// stormSlice runs one slice of the storm sc for acc's strategy: n cycles,
// or for d if n is 0. In S1 the spawners use the strategy, in S2 plain
// os/exec; in S5 they use the strategy, and other, another process that
// does not retry, runs the file.
func (r *runner) stormSlice(acc *stormResult, sc string, other *otherRunner, d time.Duration, n int64) {
	st := acc.st
	spawn, run := st.run, st.run
	switch sc {
	case "s2":
		spawn = runExec
	case "s5":
		run = other.run
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
			err = run(r.ctx, path)
		}
		os.Remove(path)
		if err != nil && interrupted(r.ctx, err) || r.ctx.Err() != nil {
			break // the signal that stopped the run may have killed the script
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
	acc.Spawns += spawned.Load()
	if st.retried != nil {
		*acc.Retried += st.retried() - retried0
	}
	if acc.Gate != nil {
		acc.Gate.add(stats0, safeexec.ReadStats())
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

// finishStorm sets the means and rates of a storm's results.
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
		s.Ratio = ratio(s.CyclesPerS, findStorm(res, "exec").CyclesPerS)
	}
}
