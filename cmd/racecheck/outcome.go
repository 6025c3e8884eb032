package main

import (
	"fmt"
	"time"
)

// The outcome of a run: what fails it, its exit status, and the project's
// goals.

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
	}{{"s1", rep.S1}, {"s2", rep.S2}} {
		for _, s := range sc.res {
			gates = append(gates, s.Gate)
			rep.problem(s.st, "in "+sc.name, s.Failures+s.SpawnFailures, s.Errors, s.SpawnErrors)
		}
	}
	for _, s := range rep.S3 {
		gates = append(gates, s.Gate)
		rep.problem(s.st, "in s3", s.Failures+s.SpawnFailures, s.Errors, s.SpawnErrors)
	}
	for _, f := range rep.S4 {
		rep.problem(f.st, fmt.Sprintf("in s4 x%d", f.Goroutines), f.Failures, f.Errors, errorCounts{})
	}
	for _, g := range gates {
		if g != nil {
			rep.Closes.add(*g)
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

// problem records failures of a safeexec strategy, which make racecheck
// exit 1.
func (rep *report) problem(st *strategy, where string, n int64, errs ...errorCounts) {
	if !st.safe || n == 0 {
		return
	}
	var all errorCounts
	for _, e := range errs {
		all.merge(e)
	}
	rep.Problems = append(rep.Problems, fmt.Sprintf("%s failed %s %s (%s), first: %s",
		st.name, times(n), where, all.String(), all.first))
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
