package main

import (
	"fmt"
	"strings"
	"time"
)

// The outcome of a run: what fails it, its exit status, and the project's
// goals.

// finish sums up rep once the scenarios have run, and returns the exit
// status.
func (rep *report) finish(cfg *config, begin time.Time, interrupted bool) int {
	rep.Complete = !interrupted
	rep.ElapsedS = time.Since(begin).Seconds()
	rep.LoadAfter = loadAverage()
	var gates []*gateDelta
	for _, sc := range []struct {
		name string
		res  []*stormResult
	}{{"s1", rep.S1}, {"s2", rep.S2}, {"s5", rep.S5}} {
		for _, s := range sc.res {
			gates = append(gates, s.Gate)
			rep.problem(s.st, sc.name, s.Failures, s.Cycles, s.Errors, s.SpawnFailures, s.Spawns, s.SpawnErrors)
		}
	}
	for _, s := range rep.S3 {
		gates = append(gates, s.Gate)
		rep.problem(s.st, "s3", s.Failures, s.Cycles, s.Errors, s.SpawnFailures, s.Spawns, s.SpawnErrors)
	}
	for _, f := range rep.S4 {
		rep.problem(f.st, fmt.Sprintf("s4 x%d", f.Goroutines), 0, 0, errorCounts{}, f.Failures, f.Cycles, f.Errors)
	}
	for _, g := range gates {
		if g != nil {
			rep.Closes.add(g.Closes)
		}
	}
	rep.ClosePath = rep.Closes.path()
	for _, pr := range rep.Probes {
		if pr.Problem {
			p := fmt.Sprintf("%s: probe %s %s", pr.Strategy, pr.Probe, pr.Outcome)
			if pr.Detail != "" {
				p += ": " + pr.Detail
			}
			rep.Problems = append(rep.Problems, p)
		}
	}
	// Plain os/exec failing every cycle, and never with ETXTBSY, means
	// it cannot run files here at all, as when the preflight fails.
	for _, res := range [][]*stormResult{rep.S1, rep.S2} {
		if ex := res; len(ex) > 0 && rep.ExecError == "" {
			if e := ex[0]; e.Cycles > 0 && e.Failures == e.Cycles && e.Errors.ETXTBSY == 0 {
				rep.ExecError = e.FirstError
			}
		}
	}
	if cfg.goals {
		rep.goals()
	}
	switch {
	case rep.ExecError != "":
		rep.ExitCode = 2
	case len(rep.Problems) > 0:
		rep.ExitCode = 1
	case interrupted:
		rep.ExitCode = 3
	}
	return rep.ExitCode
}

// problem records failures of a safeexec strategy in the scenario sc,
// which make racecheck exit 1: failed of its cycles, and spawnFailed of
// its spawners' starts, the counts that the tables show.
func (rep *report) problem(st *strategy, sc string, failed, cycles int64, errs errorCounts,
	spawnFailed, spawns int64, spawnErrs errorCounts) {
	if !st.safe || failed+spawnFailed == 0 {
		return
	}
	var parts []string
	if failed > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d cycles failed (%s)", failed, cycles, errs))
	}
	if spawnFailed > 0 {
		parts = append(parts, fmt.Sprintf("its spawners failed %d of %d starts (%s)", spawnFailed, spawns, spawnErrs))
	}
	first := errs.first
	if first == "" {
		first = spawnErrs.first
	}
	rep.Problems = append(rep.Problems, fmt.Sprintf("%s in %s: %s; first error: %s",
		st.name, sc, strings.Join(parts, ", and "), first))
}

func (rep *report) goals() {
	add := func(g string, target, got float64, unit string, met bool) {
		rep.Goals = append(rep.Goals, goal{g, target, got, unit, met})
	}
	if s := findStorm(rep.S1, "safeexec"); s != nil {
		add("S1 cycles/s, ratio to exec, at least", 0.95, s.Ratio, "ratio", s.Ratio >= 0.95)
		add("S1 mean Close, at most", 100, s.CloseMeanUs, "µs", s.CloseMeanUs <= 100)
	}
	for _, s := range rep.S3 {
		if s.Strategy == "safeexec" {
			add("S3 spawns during a slow write, ratio to without, at least", 0.95, s.Ratio, "ratio", s.Ratio >= 0.95)
		}
	}
	for _, f := range rep.S4 {
		if f.Strategy == "safeexec" {
			add(fmt.Sprintf("S4 x%d spawns/s, ratio to exec, at least", f.Goroutines), 0.97, f.Ratio, "ratio", f.Ratio >= 0.97)
		}
	}
}
