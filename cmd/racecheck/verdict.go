package main

import (
	"math"
	"runtime"
	"slices"
)

// alpha is the verdict's false-positive rate: the chance that racecheck
// says safeexec removed the race when safeexec fails as often as plain
// os/exec does.
const alpha = 0.05

// lookRounds returns the rounds after which the verdict is checked: after
// a quarter, half and all of the rounds, or only at the end with -cycles.
func lookRounds(rounds int, fixed bool) []int {
	if fixed {
		return []int{rounds}
	}
	var ls []int
	for _, l := range []int{(rounds + 3) / 4, (rounds + 1) / 2, rounds} {
		if len(ls) == 0 || l > ls[len(ls)-1] {
			ls = append(ls, l)
		}
	}
	return ls
}

// judge computes the verdict from s1 and s2 as they stand after
// roundsRun rounds, or when a signal cut the run short. Only a planned
// look may find the difference significant.
func judge(rep *report, cfg *config, roundsRun int, interrupted bool) *verdict {
	looks := lookRounds(cfg.rounds, cfg.cycles > 0)
	v := &verdict{
		Alpha:        alpha,
		AlphaPerLook: alpha / float64(len(looks)),
		LookRounds:   looks,
		RoundsRun:    roundsRun,
		Interrupted:  interrupted,
	}
	for _, l := range looks {
		if l <= roundsRun {
			v.Looks++
		}
	}
	var strata []stratum
	for _, sc := range []struct {
		name string
		res  []*stormResult
	}{{"s1", rep.S1}, {"s2", rep.S2}} {
		if sc.res == nil {
			continue
		}
		ex, safe := sc.res[0], findStorm(sc.res, "safeexec")
		sv := &scenarioVerdict{
			Scenario:             sc.name,
			ExecCycles:           ex.Cycles,
			ExecETXTBSY:          ex.Errors.ETXTBSY,
			SafeexecCycles:       safe.Cycles,
			SafeexecFailures:     safe.Failures,
			SafeexecSpawnFailure: safe.SpawnFailures,
		}
		lo, hi := clopperPearson(ex.Errors.ETXTBSY, ex.Cycles, alpha)
		sv.ExecRatePct, sv.ExecRatePctLow, sv.ExecRatePctHigh = pct(ex.Errors.ETXTBSY, ex.Cycles), 100*lo, 100*hi
		_, hi = clopperPearson(safe.Failures, safe.Cycles, alpha)
		sv.SafeexecRatePct, sv.SafeexecRatePctHigh = pct(safe.Failures, safe.Cycles), 100*hi
		st := stratum{safe.Failures, safe.Cycles, ex.Errors.ETXTBSY, ex.Cycles}
		strata = append(strata, st)
		sv.PValue = exactLess(st)
		v.Reproduced = v.Reproduced || ex.Errors.ETXTBSY > 0
		v.SafeexecFailed = v.SafeexecFailed || safe.failed()
		v.Scenarios = append(v.Scenarios, sv)
	}
	if len(v.Scenarios) == 0 {
		return nil
	}
	v.PValue = exactLess(strata...)
	atLook := !interrupted && slices.Contains(looks, roundsRun)
	v.Significant = atLook && v.PValue < v.AlphaPerLook
	v.Removed = v.Reproduced && !v.SafeexecFailed && v.Significant
	v.Decided = v.Removed || v.SafeexecFailed
	if !v.Decided && !interrupted && roundsRun == cfg.rounds {
		v.suggest(cfg)
	}
	return v
}

// suggest works out how much longer a run would need to be to decide,
// from the rate of ETXTBSY plain os/exec showed: enough cycles that no
// failure of safeexec would be significant at the last look.
func (v *verdict) suggest(cfg *config) {
	var k, n int64
	for _, sv := range v.Scenarios {
		k += sv.ExecETXTBSY
		n += sv.ExecCycles
	}
	scale := 3.0
	if k == 0 {
		// No rate to go by: make the race likelier as well.
		if n := min(2*max(cfg.spawners, 2), maxSpawnersPerCPU*runtime.NumCPU()); n > cfg.spawners {
			v.SuggestSpawners = n
		}
	} else {
		rate := float64(k) / float64(n)
		for need := int64(1); need < 1000; need++ {
			cycles := int64(float64(need) / rate)
			if exactLess(stratum{0, cycles, need, cycles}) < v.AlphaPerLook {
				scale = max(1.25*float64(cycles)/float64(n), 1.5)
				break
			}
		}
	}
	if cfg.cycles > 0 {
		v.SuggestCycles = int64(math.Ceil(float64(cfg.cycles) * scale))
		return
	}
	v.SuggestDurationS = 10 * math.Ceil(cfg.duration.Seconds()*scale/10)
}
