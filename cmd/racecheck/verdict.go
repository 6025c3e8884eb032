package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// alpha is the verdict's false-positive rate: the chance that racecheck
// says safeexec removed the race when safeexec fails as often as plain
// os/exec does.
const alpha = 0.05

// verdict answers the two questions racecheck is for, from s1 and s2.
type verdict struct {
	Decided        bool               `json:"decided"`
	Reproduced     bool               `json:"reproduced"`
	Removed        bool               `json:"removed"`
	SafeexecFailed bool               `json:"safeexecFailed"`
	Alpha          float64            `json:"alpha"`
	AlphaPerLook   float64            `json:"alphaPerLook"`
	LookRounds     []int              `json:"lookRounds"`
	PValue         float64            `json:"pValue"`
	Significant    bool               `json:"significant"`
	Looks          int                `json:"looks"`
	RoundsRun      int                `json:"roundsRun"`
	Interrupted    bool               `json:"interrupted"` // by a signal, during s1 or s2
	Scenarios      []*scenarioVerdict `json:"scenarios"`

	// What to run next when the verdict is not decided; zero when it is.
	SuggestDurationS float64 `json:"suggestDurationS,omitempty"`
	SuggestCycles    int64   `json:"suggestCycles,omitempty"`
	SuggestSpawners  int     `json:"suggestSpawners,omitempty"`
}

// scenarioVerdict compares safeexec with plain os/exec in s1 or s2.
type scenarioVerdict struct {
	Scenario             string  `json:"scenario"`
	ExecCycles           int64   `json:"execCycles"`
	ExecETXTBSY          int64   `json:"execEtxtbsy"`
	ExecRatePct          float64 `json:"execRatePct"`
	ExecRatePctLow       float64 `json:"execRatePctLow"`
	ExecRatePctHigh      float64 `json:"execRatePctHigh"`
	SafeexecCycles       int64   `json:"safeexecCycles"`
	SafeexecFailures     int64   `json:"safeexecFailures"`
	SafeexecSpawnFailure int64   `json:"safeexecSpawnFailures"`
	SafeexecRatePct      float64 `json:"safeexecRatePct"`
	SafeexecRatePctHigh  float64 `json:"safeexecRatePctHigh"`
	PValue               float64 `json:"pValue"` // this scenario alone
}

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

func findStorm(res []*stormResult, name string) *stormResult {
	for _, s := range res {
		if s.Strategy == name {
			return s
		}
	}
	return nil
}

func pct(k, n int64) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(k) / float64(n)
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
		v.SuggestSpawners = 2 * max(cfg.spawners, 2)
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

// storms runs s1 and s2, those chosen, in rounds, and stops at the first
// look at which the verdict is decided.
func (r *runner) storms(rep *report) {
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
		return
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
		if v := judge(rep, r.cfg, roundsRun, false); v.Decided && slices.Contains(v.LookRounds, roundsRun) {
			break
		}
	}
	for _, res := range [][]*stormResult{rep.S1, rep.S2} {
		if res != nil {
			finishStorm(res)
		}
	}
	rep.Verdict = judge(rep, r.cfg, roundsRun, r.ctx.Err() != nil)
}

// weight returns st's share of the time of s1 and s2.
func weight(st *strategy) int {
	if st.name == "exec" || st.name == "safeexec" {
		return 2
	}
	return 1
}
