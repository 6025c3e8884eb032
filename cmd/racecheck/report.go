package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report is everything racecheck found, as -json prints it; the command's
// doc describes each field.
type report struct {
	Complete   bool      `json:"complete"`
	ExitCode   int       `json:"exitCode"`
	GOOS       string    `json:"goos"`
	GOARCH     string    `json:"goarch"`
	GoVersion  string    `json:"goVersion"`
	CPUs       int       `json:"cpus"`
	Dir        string    `json:"dir"`
	FSType     string    `json:"fsType"`
	FSMagic    uint64    `json:"fsMagic,omitempty"`
	ClosePath  string    `json:"closePath"`
	Closes     closes    `json:"closes"`
	ExecError  string    `json:"execError,omitempty"`
	Config     runConfig `json:"config"`
	ElapsedS   float64   `json:"elapsedS"`
	LoadBefore []float64 `json:"loadBefore,omitempty"`
	LoadAfter  []float64 `json:"loadAfter,omitempty"`

	Verdict  *verdict       `json:"verdict,omitempty"`
	S1       []*stormResult `json:"s1,omitempty"`
	S2       []*stormResult `json:"s2,omitempty"`
	S3       []*slowResult  `json:"s3,omitempty"`
	S4       []*fastResult  `json:"s4,omitempty"`
	Probes   []*probeResult `json:"probes,omitempty"`
	Goals    []goal         `json:"goals,omitempty"`
	Problems []string       `json:"problems"`
}

// runConfig is the command line, as numbers.
type runConfig struct {
	DurationS  float64  `json:"durationS"`
	PerfS      float64  `json:"perfS"`
	Cycles     int      `json:"cycles"`
	Rounds     int      `json:"rounds"`
	Spawners   int      `json:"spawners"`
	Scenarios  []string `json:"scenarios"`
	Strategies []string `json:"strategies"`
}

// closes counts safeexec's Closes by the path each used to make sure no
// child holds the file (safeexec.Stats).
type closes struct {
	FlockDrains uint64 `json:"flockDrains"`
	PipeDrains  uint64 `json:"pipeDrains"`
	Barriers    uint64 `json:"barriers"`
}

func (c *closes) add(d gateDelta) {
	c.FlockDrains += d.FlockDrains
	c.PipeDrains += d.PipeDrains
	c.Barriers += d.Barriers
}

// path names the paths the Closes took, the most used first.
func (c closes) path() string {
	type p struct {
		name string
		n    uint64
	}
	ps := []p{{"flock drain", c.FlockDrains}, {"pipe drain", c.PipeDrains}, {"gate barrier", c.Barriers}}
	slices.SortStableFunc(ps, func(a, b p) int { return int(b.n) - int(a.n) })
	var names []string
	for _, x := range ps {
		if x.n > 0 {
			names = append(names, x.name)
		}
	}
	return strings.Join(names, ", then ")
}

func newReport(cfg *config, dir string) *report {
	rep := &report{
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		GoVersion:  runtime.Version(),
		CPUs:       runtime.NumCPU(),
		Dir:        dir,
		LoadBefore: loadAverage(),
		Problems:   []string{},
		Config: runConfig{
			DurationS: cfg.duration.Seconds(),
			PerfS:     cfg.perf.Seconds(),
			Cycles:    cfg.cycles,
			Rounds:    cfg.rounds,
			Spawners:  cfg.spawners,
			Scenarios: cfg.scenarios,
		},
	}
	for _, st := range cfg.strategies {
		rep.Config.Strategies = append(rep.Config.Strategies, st.name)
	}
	rep.FSType, rep.FSMagic = fsType(dir)
	return rep
}

// runAll runs the chosen scenarios into rep.
func (r *runner) runAll(rep *report) {
	for _, sc := range r.cfg.scenarios {
		if r.ctx.Err() != nil {
			break
		}
		switch sc {
		case "s1", "s2":
			if rep.S1 == nil && rep.S2 == nil {
				r.storms(rep)
			}
		case "s3":
			rep.S3 = r.slow()
		case "s4":
			for _, frs := range r.fast() {
				rep.S4 = append(rep.S4, frs...)
			}
		case "probes":
			rep.Probes = r.runProbes()
		}
	}
}

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

// String lists the non-zero counts.
func (c errorCounts) String() string {
	var parts []string
	for _, x := range []struct {
		name string
		n    int64
	}{{"ETXTBSY", c.ETXTBSY}, {"permission", c.Permission}, {"exit status", c.ExitStatus}, {"other", c.Other}} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", x.name, x.n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// medianRatio returns the median of rates[i]/base[i], so that a burst of
// other load that hits one round does not decide a ratio.
func medianRatio(rates, base []float64) float64 {
	var ratios []float64
	for i := range min(len(rates), len(base)) {
		if base[i] > 0 {
			ratios = append(ratios, rates[i]/base[i])
		}
	}
	if len(ratios) == 0 {
		return 0
	}
	slices.Sort(ratios)
	n := len(ratios)
	if n%2 == 1 {
		return ratios[n/2]
	}
	return (ratios[n/2-1] + ratios[n/2]) / 2
}

// goal is one of the project's performance targets for safeexec (issue
// #4) and whether this run met it. They are development goals, shown
// only with -goals, and never decide the exit status.
type goal struct {
	Goal   string  `json:"goal"`
	Target float64 `json:"target"`
	Got    float64 `json:"got"`
	Unit   string  `json:"unit"`
	Met    bool    `json:"met"`
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

// loadAverage returns the system's load averages where /proc/loadavg
// tells them, and nil elsewhere.
func loadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return nil
	}
	var load []float64
	for _, s := range f[:3] {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil
		}
		load = append(load, x)
	}
	return load
}
