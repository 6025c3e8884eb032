package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything racecheck found, as -json prints it.
type report struct {
	GOOS       string            `json:"goos"`
	GOARCH     string            `json:"goarch"`
	GoVersion  string            `json:"goVersion"`
	CPUs       int               `json:"cpus"`
	Spawners   int               `json:"spawners"`
	Duration   string            `json:"duration"`
	Cycles     int               `json:"cycles,omitempty"`
	Rounds     int               `json:"rounds"`
	Scenarios  []string          `json:"scenarios"`
	Seconds    float64           `json:"seconds"`
	LoadBefore string            `json:"loadBefore,omitempty"`
	LoadAfter  string            `json:"loadAfter,omitempty"`
	Strategies []*strategyReport `json:"strategies"`
	Goals      []goal            `json:"goals"`
	Problems   []string          `json:"problems"`
}

// strategyReport holds one strategy's results, one field per scenario.
type strategyReport struct {
	Name   string         `json:"name"`
	S1     *stormResult   `json:"s1,omitempty"`
	S2     *stormResult   `json:"s2,omitempty"`
	S3     *slowResult    `json:"s3,omitempty"`
	S4     []*fastResult  `json:"s4,omitempty"`
	Probes []*probeResult `json:"probes,omitempty"`

	st *strategy
}

// goal is one of safeexec's goals and whether this run met it.
type goal struct {
	Goal string `json:"goal"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

// runAll runs the chosen scenarios and returns the report.
func (r *runner) runAll() *report {
	begin := time.Now()
	rep := &report{
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		GoVersion:  runtime.Version(),
		CPUs:       runtime.NumCPU(),
		Spawners:   r.cfg.spawners,
		Duration:   r.cfg.duration.String(),
		Cycles:     r.cfg.cycles,
		Rounds:     r.cfg.rounds,
		Scenarios:  r.cfg.scenarios,
		Problems:   []string{},
		LoadBefore: loadAverage(),
	}
	byStrategy := make(map[*strategy]*strategyReport)
	for _, st := range r.cfg.strategies {
		sr := &strategyReport{Name: st.name, st: st}
		byStrategy[st] = sr
		rep.Strategies = append(rep.Strategies, sr)
	}
	for _, sc := range r.cfg.scenarios {
		if r.ctx.Err() != nil {
			break
		}
		switch sc {
		case "s1", "s2":
			for st, res := range r.storm(sc, sc == "s2") {
				if sc == "s1" {
					byStrategy[st].S1 = res
				} else {
					byStrategy[st].S2 = res
				}
			}
		case "s3":
			for st, res := range r.slow() {
				byStrategy[st].S3 = res
			}
		case "s4":
			for st, res := range r.fast() {
				byStrategy[st].S4 = res
			}
		case "probes":
			for st, res := range r.runProbes() {
				byStrategy[st].Probes = res
			}
		}
	}
	rep.Seconds = time.Since(begin).Seconds()
	rep.LoadAfter = loadAverage()
	rep.ratios()
	rep.check()
	return rep
}

// ratios sets the ratios to exec, the first strategy: the median over
// the rounds of the ratio within a round, so that a burst of other load
// that hits one round does not decide the result.
func (rep *report) ratios() {
	base := rep.Strategies[0]
	for _, sr := range rep.Strategies {
		if sr.S1 != nil && base.S1 != nil {
			sr.S1.Ratio = medianRatio(sr.S1.perRound, base.S1.perRound)
		}
		if sr.S2 != nil && base.S2 != nil {
			sr.S2.Ratio = medianRatio(sr.S2.perRound, base.S2.perRound)
		}
		for i, fr := range sr.S4 {
			fr.Ratio = medianRatio(fr.perRound, base.S4[i].perRound)
		}
	}
}

// medianRatio returns the median of rates[i]/base[i].
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

// check lists the problems that make racecheck fail, and the goals.
func (rep *report) check() {
	for _, sr := range rep.Strategies {
		if !sr.st.safe {
			continue
		}
		busy := func(sc string, writer, spawners counts) {
			if n := writer.Busy + spawners.Busy; n > 0 {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s let %d ETXTBSY through in %s", sr.Name, n, sc))
			}
		}
		if sr.S1 != nil {
			busy("s1", sr.S1.Failures, sr.S1.SpawnErrors)
		}
		if sr.S2 != nil {
			busy("s2", sr.S2.Failures, sr.S2.SpawnErrors)
		}
		if sr.S3 != nil {
			busy("s3", sr.S3.Failures, sr.S3.SpawnFailures)
		}
		for _, fr := range sr.S4 {
			busy(fmt.Sprintf("s4 x%d", fr.Goroutines), fr.Failures, counts{})
		}
		for _, pr := range sr.Probes {
			if pr.Problem {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s: probe %s: %s: %s", sr.Name, pr.Probe, pr.Outcome, pr.Detail))
			}
		}
	}
	rep.goals()
}

// goals compares the safeexec strategy with the goals of issue #4.
func (rep *report) goals() {
	rep.Goals = []goal{}
	var safe *strategyReport
	for _, sr := range rep.Strategies {
		if sr.Name == "safeexec" {
			safe = sr
		}
	}
	if safe == nil {
		return
	}
	base := rep.Strategies[0]
	add := func(g, got string, met bool) { rep.Goals = append(rep.Goals, goal{g, got, met}) }
	for _, s := range []struct {
		name string
		res  *stormResult
	}{{"s1", safe.S1}, {"s2", safe.S2}} {
		if s.res != nil {
			n := s.res.Failures.Busy + s.res.SpawnErrors.Busy
			add("no ETXTBSY in "+s.name, fmt.Sprintf("%d in %d cycles", n, s.res.Cycles), n == 0)
		}
	}
	if safe.S1 != nil {
		add("s1 cycles/s >= 0.95x exec", fmt.Sprintf("%.3fx", safe.S1.Ratio), safe.S1.Ratio >= 0.95)
		add("s1 mean Close <= 100µs", fmt.Sprintf("%.0fµs (exec's %.0fµs; whole write %.0fµs, exec's %.0fµs)",
			safe.S1.CloseMeanUS, base.S1.CloseMeanUS, safe.S1.WriteMeanUS, base.S1.WriteMeanUS), safe.S1.CloseMeanUS <= 100)
	}
	if safe.S3 != nil {
		got := fmt.Sprintf("%.3fx", safe.S3.Ratio)
		if base.S3 != nil {
			got += fmt.Sprintf(" (exec's own %.3fx)", base.S3.Ratio)
		}
		add("s3 spawns during a slow write >= 0.95x without", got, safe.S3.Ratio >= 0.95)
	}
	for _, fr := range safe.S4 {
		add(fmt.Sprintf("s4 x%d (goroutines) >= 0.97x exec", fr.Goroutines), fmt.Sprintf("%.3fx", fr.Ratio), fr.Ratio >= 0.97)
	}
	hangs, ran := 0, 0
	for _, sr := range rep.Strategies {
		for _, pr := range sr.Probes {
			ran++
			if pr.Problem {
				hangs++
			}
		}
	}
	if ran > 0 {
		add("no hang in the probes (documented deadlock excepted)", fmt.Sprintf("%d of %d failed", hangs, ran), hangs == 0)
	}
}

// printTable prints the report as a table, one row per strategy.
func printTable(w io.Writer, rep *report) {
	type column struct {
		group, name string
		cell        func(sr *strategyReport) string
	}
	var cols []column
	has := func(sc string) bool { return slices.Contains(rep.Scenarios, sc) }
	storm := func(sc string, get func(*strategyReport) *stormResult, write bool) {
		group := "S1 storm"
		if sc == "s2" {
			group = "S2 ungated"
		}
		cols = append(cols,
			column{group, "fail", func(sr *strategyReport) string {
				return failCell(get(sr).Failures, get(sr).SpawnErrors, get(sr).Cycles)
			}},
			column{"", "retried", func(sr *strategyReport) string { return retriedCell(sr.st, get(sr).Retried) }},
			column{"", "cycles/s", func(sr *strategyReport) string { return fmt.Sprintf("%.0f", get(sr).PerSec) }},
			column{"", "ratio", func(sr *strategyReport) string { return fmt.Sprintf("%.2f", get(sr).Ratio) }},
		)
		if write {
			cols = append(cols,
				column{"", "write µs", func(sr *strategyReport) string { return fmt.Sprintf("%.1f", get(sr).WriteMeanUS) }},
				column{"", "close µs", func(sr *strategyReport) string { return fmt.Sprintf("%.1f", get(sr).CloseMeanUS) }},
			)
		}
	}
	if has("s1") {
		storm("s1", func(sr *strategyReport) *stormResult { return sr.S1 }, true)
	}
	if has("s2") {
		storm("s2", func(sr *strategyReport) *stormResult { return sr.S2 }, false)
	}
	if has("s3") {
		cols = append(cols,
			column{"S3 slow write", "spawns/s", func(sr *strategyReport) string {
				return fmt.Sprintf("%.0f/%.0f", sr.S3.RateDuring, sr.S3.RateWithout)
			}},
			column{"", "ratio", func(sr *strategyReport) string { return fmt.Sprintf("%.2f", sr.S3.Ratio) }},
		)
	}
	if has("s4") {
		for i, g := range fastGoroutines {
			cols = append(cols,
				column{fmt.Sprintf("S4 x%d", g), "spawns/s", func(sr *strategyReport) string { return fmt.Sprintf("%.0f", sr.S4[i].PerSec) }},
				column{"", "ratio", func(sr *strategyReport) string { return fmt.Sprintf("%.2f", sr.S4[i].Ratio) }},
			)
		}
	}
	if has("probes") {
		for i, p := range probes {
			group := ""
			if i == 0 {
				group = "probes"
			}
			cols = append(cols, column{group, p.name, func(sr *strategyReport) string {
				if i >= len(sr.Probes) {
					return "-"
				}
				return sr.Probes[i].Outcome
			}})
		}
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(first string, cell func(column) string) {
		cells := []string{first}
		for _, c := range cols {
			cells = append(cells, cell(c))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	row("", func(c column) string { return c.group })
	row("strategy", func(c column) string { return c.name })
	for _, sr := range rep.Strategies {
		row(sr.Name, func(c column) string { return c.cell(sr) })
	}
	tw.Flush()

	fmt.Fprintf(w, "\n%s/%s, %s, %d CPUs, %d spawners, %d rounds, -duration %s, %.1fs in all.\n",
		rep.GOOS, rep.GOARCH, rep.GoVersion, rep.CPUs, rep.Spawners, rep.Rounds, rep.Duration, rep.Seconds)
	if rep.LoadBefore != "" {
		fmt.Fprintf(w, "load average (1, 5, 15 min): %s before, %s after; other load skews the ratios.\n", rep.LoadBefore, rep.LoadAfter)
	}
	fmt.Fprintln(w, "fail: ETXTBSY/other errors seen by the callers (writer and spawners), and their share of the cycles.")
	fmt.Fprintln(w, "retried: starts that met ETXTBSY and were retried (safeexec: slow paths).")
	fmt.Fprintln(w, "ratio: to exec, the median over the rounds of the ratio within a round.")
	if has("s1") {
		fmt.Fprintln(w, "write µs: mean time to create, write and close the script in S1 (os.WriteFile, WriteExecutable); close µs: of Close alone.")
	}
	if has("s3") {
		fmt.Fprintln(w, "S3 spawns/s: during the slow write / just before and after it. safeexec+global stalls by design.")
	}
	if has("probes") {
		for _, p := range probes {
			fmt.Fprintf(w, "probe %s: %s.\n", p.name, p.desc)
		}
	}
	if len(rep.Goals) > 0 {
		fmt.Fprintln(w, "\ngoals for safeexec:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, g := range rep.Goals {
			mark := "met"
			if !g.Met {
				mark = "MISSED"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", mark, g.Goal, g.Got)
		}
		tw.Flush()
	}
}

func failCell(writer, spawners counts, cycles int64) string {
	busy := writer.Busy + spawners.Busy
	other := writer.Other + spawners.Other
	pct := 0.0
	if cycles > 0 {
		pct = 100 * float64(busy+other) / float64(cycles)
	}
	return fmt.Sprintf("%d/%d (%.2f%%)", busy, other, pct)
}

func retriedCell(st *strategy, n uint64) string {
	if st.retried == nil {
		return "-"
	}
	return fmt.Sprint(n)
}

// loadAverage returns the system's load averages where /proc/loadavg
// tells them, and "" elsewhere.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
