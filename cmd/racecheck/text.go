package main

import (
	"fmt"
	"io"
	"strings"
)

// The text report fits 100 columns: the verdict first, then the setting,
// then one block per scenario.

// printText prints rep for a person.
func printText(w io.Writer, rep *report, cfg *config) {
	if !rep.Complete {
		fmt.Fprintln(w, "INCOMPLETE: interrupted; these are the numbers measured so far.")
	}
	printVerdict(w, rep, cfg)
	if n := len(rep.Problems); n > 0 && rep.ExecError == "" {
		fmt.Fprintf(w, "But this run fails (exit 1): %d problem(s) with safeexec, listed under FAIL at the end.\n", n)
	}
	fmt.Fprintln(w)
	printSetting(w, rep, cfg)
	if rep.S1 != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "S1 storm: %d goroutines start true through the strategy while a writer writes\n"+
			"a script and runs it through the strategy, again and again.\n", cfg.spawners)
		printStorm(w, rep.S1)
	}
	if rep.S2 != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "S2 ungated storm: as S1, but the %d spawners use plain os/exec.\n", cfg.spawners)
		printStorm(w, rep.S2)
	}
	if rep.S1 != nil || rep.S2 != nil {
		fmt.Fprintln(w, "failed: cycles whose write or run returned any error; rate: their share; ETXTBSY,")
		fmt.Fprintln(w, "other: the errors by kind; retried: Starts that met ETXTBSY and tried again;")
		fmt.Fprintln(w, "speed: cycles per second over exec's in the same rounds (median of the rounds);")
		fmt.Fprintln(w, "write, close: mean time of the whole write (create, Write, Close) and of Close.")
	}
	if rep.S3 != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "S3 slow write: one goroutine starts true through the strategy while a writer\n"+
			"writes 1 MiB over %v; spawns per second during the write and around it.\n", cfg.perf)
		printSlow(w, rep.S3)
	}
	if rep.S4 != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "S4 fast path: Start and Wait of true from 1 and from 4 goroutines, no writer;")
		fmt.Fprintln(w, "spawns per second, and the ratio to exec's.")
		printFast(w, rep.S4)
	}
	if rep.Probes != nil {
		fmt.Fprintln(w)
		printProbes(w, rep.Probes)
	}
	if cfg.goals {
		fmt.Fprintln(w)
		printGoals(w, rep.Goals)
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintln(w)
		for _, p := range rep.Problems {
			fmt.Fprintln(w, wrap("FAIL: "+p, 100, "      "))
		}
	}
}

// printVerdict prints the answer to the two questions racecheck asks.
func printVerdict(w io.Writer, rep *report, cfg *config) {
	v := rep.Verdict
	if rep.ExecError != "" {
		fmt.Fprintf(w, "Verdict: nothing to measure: plain os/exec cannot run a file written in\n%s:\n%s\n",
			rep.Dir, wrap("  "+rep.ExecError, 100, "  "))
		fmt.Fprintln(w, "Is the filesystem mounted noexec, or are its permissions too tight? Try another -dir.")
		return
	}
	if v == nil {
		fmt.Fprintln(w, "Verdict: none; it needs scenario s1 or s2 (-scenarios).")
		return
	}
	failures := int64(0)
	for _, sv := range v.Scenarios {
		failures += sv.SafeexecFailures + sv.SafeexecSpawnFailure
	}
	var say string
	switch {
	case v.Removed:
		say = "the race is real here, and safeexec removed it."
	case v.SafeexecFailed && v.Reproduced:
		say = fmt.Sprintf("the race is real here, and safeexec did NOT remove it: it failed %s.", times(failures))
	case v.SafeexecFailed:
		say = fmt.Sprintf("safeexec failed %s; plain os/exec never met ETXTBSY.", times(failures))
	case v.Reproduced:
		say = "the race is real here, but there is not enough evidence yet that safeexec\n" +
			"removed it: it never failed, but in too few cycles to tell that from luck."
	default:
		say = "not enough evidence: plain os/exec never met ETXTBSY, so there was no race\n" +
			"for safeexec to remove."
		if rep.GOOS == "darwin" {
			say += " macOS runs files open for writing, so the race cannot happen here."
		}
	}
	fmt.Fprintf(w, "Verdict: %s\n", say)
	for _, sv := range v.Scenarios {
		name := strings.ToUpper(sv.Scenario)
		fmt.Fprintf(w, "  %s: plain os/exec met ETXTBSY in %d of %d cycles, %.2f%% (95%% CI %.2f-%.2f%%);\n",
			name, sv.ExecETXTBSY, sv.ExecCycles, sv.ExecRatePct, sv.ExecRatePctLow, sv.ExecRatePctHigh)
		fmt.Fprintf(w, "      safeexec failed in %d of %d cycles (95%% CI up to %.2f%%).\n",
			sv.SafeexecFailures, sv.SafeexecCycles, sv.SafeexecRatePctHigh)
		if sv.SafeexecSpawnFailure > 0 {
			fmt.Fprintf(w, "      safeexec's spawners failed %s.\n", times(sv.SafeexecSpawnFailure))
		}
	}
	var alone []string
	for _, sv := range v.Scenarios {
		alone = append(alone, strings.ToUpper(sv.Scenario)+" alone "+pvalue(sv.PValue))
	}
	fmt.Fprintln(w, "  One-sided exact test that safeexec fails less often than plain os/exec (Fisher's,")
	fmt.Fprintf(w, "  stratified by scenario): p = %s", pvalue(v.PValue))
	if len(alone) > 1 {
		fmt.Fprintf(w, " (%s)", strings.Join(alone, ", "))
	}
	sig := "not significant"
	if v.Significant {
		sig = "significant"
	}
	if len(v.LookRounds) == 1 {
		fmt.Fprintf(w, ", %s:\n  it must be below %s, with one look at the data, at the end;", sig, num(v.AlphaPerLook))
	} else {
		fmt.Fprintf(w, ", %s:\n  it must be below %s, 0.05 split over %d looks at the data (after rounds %s);",
			sig, num(v.AlphaPerLook), len(v.LookRounds), joinInts(v.LookRounds))
	}
	switch {
	case v.Interrupted:
		fmt.Fprintf(w, "\n  %d made before the interrupt, in round %d.\n", v.Looks, v.RoundsRun+1)
	case v.Decided:
		fmt.Fprintf(w, "\n  decided at look %d of %d.\n", v.Looks, len(v.LookRounds))
	case len(v.LookRounds) == 1:
		fmt.Fprintln(w, "\n  not decided.")
	default:
		fmt.Fprintf(w, "\n  all %d made.\n", v.Looks)
	}
	switch {
	case v.SuggestCycles > 0:
		fmt.Fprintf(w, "  To decide, run more cycles: -cycles %d", v.SuggestCycles)
	case v.SuggestDurationS > 0:
		fmt.Fprintf(w, "  To decide, run longer: -duration %gs", v.SuggestDurationS)
	}
	if v.SuggestSpawners > 0 {
		fmt.Fprintf(w, " -spawners %d", v.SuggestSpawners)
	}
	switch {
	case v.SuggestCycles == 0 && v.SuggestDurationS == 0:
	case len(cfg.strategies) > 2:
		fmt.Fprintln(w, ";\n  -strategies exec,safeexec spends all of it on the two compared.")
	default:
		fmt.Fprintln(w, ".")
	}
}

// printSetting prints where and how the run was made.
func printSetting(w io.Writer, rep *report, cfg *config) {
	fmt.Fprintf(w, "%s/%s, %s, %d CPUs", rep.GOOS, rep.GOARCH, rep.GoVersion, rep.CPUs)
	if rep.LoadBefore != nil && rep.LoadAfter != nil {
		fmt.Fprintf(w, "; load average %s before, %s after", loads(rep.LoadBefore), loads(rep.LoadAfter))
	}
	fmt.Fprintln(w)
	fs := rep.FSType
	if rep.FSMagic != 0 {
		fs += fmt.Sprintf(" (statfs type %#x)", rep.FSMagic)
	}
	fmt.Fprintf(w, "-dir %s: %s\n", rep.Dir, fs)
	if rep.ClosePath != "" {
		c := rep.Closes
		fmt.Fprintf(w, "safeexec's Close there: %d flock drains, %d pipe drains, %d gate barriers\n",
			c.FlockDrains, c.PipeDrains, c.Barriers)
	}
	if v := rep.Verdict; v != nil {
		if cfg.cycles > 0 {
			fmt.Fprintf(w, "S1, S2: %d cycles per strategy in %d rounds", cfg.cycles, cfg.rounds)
		} else {
			fmt.Fprintf(w, "S1, S2: at most %v in %d rounds", cfg.duration, cfg.rounds)
		}
		fmt.Fprintf(w, ", %d rounds run, %d spawners; %.1fs in all\n", v.RoundsRun, cfg.spawners, rep.ElapsedS)
	} else {
		fmt.Fprintf(w, "%.1fs in all\n", rep.ElapsedS)
	}
}

func printStorm(w io.Writer, res []*stormResult) {
	rows := [][]string{{"strategy", "cycles", "failed", "rate", "ETXTBSY", "other", "retried", "speed", "write µs", "close µs"}}
	for _, s := range res {
		retried := "-"
		if s.Retried != nil {
			retried = fmt.Sprint(*s.Retried)
		}
		rows = append(rows, []string{s.Strategy, fmt.Sprint(s.Cycles), fmt.Sprint(s.Failures),
			pctString(pct(s.Failures, s.Cycles)), fmt.Sprint(s.Errors.ETXTBSY), fmt.Sprint(s.Errors.total() - s.Errors.ETXTBSY),
			retried, fmt.Sprintf("%.2f", s.Ratio), fmt.Sprintf("%.0f", s.WriteMeanUs), fmt.Sprintf("%.0f", s.CloseMeanUs)})
	}
	table(w, rows)
	fmt.Fprintf(w, "exec made %.0f cycles per second.\n", res[0].CyclesPerS)
	for _, s := range res {
		if s.SpawnFailures > 0 {
			fmt.Fprintf(w, "%s's spawners failed %s in %d starts (%s).\n", s.Strategy, times(s.SpawnFailures), s.Spawns, s.SpawnErrors)
		}
	}
	for _, s := range res {
		if s.FirstError != "" && s.Errors.total() > s.Errors.ETXTBSY {
			fmt.Fprintf(w, "%s's first error: %s\n", s.Strategy, clip(s.FirstError, 80))
		}
	}
}

func printSlow(w io.Writer, res []*slowResult) {
	rows := [][]string{{"strategy", "failed", "during", "around", "ratio"}}
	for _, s := range res {
		rows = append(rows, []string{s.Strategy, fmt.Sprint(s.Failures + s.SpawnFailures),
			fmt.Sprintf("%.0f", s.RateDuring), fmt.Sprintf("%.0f", s.RateWithout), fmt.Sprintf("%.2f", s.Ratio)})
	}
	table(w, rows)
	fmt.Fprintln(w, "failed: the write and run, and the spawner. safeexec+global stalls by design.")
}

func printFast(w io.Writer, res []*fastResult) {
	header := []string{"strategy"}
	for _, g := range fastGoroutines {
		header = append(header, fmt.Sprintf("x%d spawns/s", g), "failed", "ratio")
	}
	rows := [][]string{header}
	for i := 0; i < len(res); i += len(fastGoroutines) {
		row := []string{res[i].Strategy}
		for _, f := range res[i : i+len(fastGoroutines)] {
			row = append(row, fmt.Sprintf("%.0f", f.PerS), fmt.Sprint(f.Failures), fmt.Sprintf("%.2f", f.Ratio))
		}
		rows = append(rows, row)
	}
	table(w, rows)
}

func printProbes(w io.Writer, res []*probeResult) {
	fmt.Fprintf(w, "Deadlock probes, one at a time, each in a child process (hung: no exit in %v):\n", probeTimeout)
	for _, p := range probes {
		fmt.Fprintf(w, "  %s: %s\n", p.name, p.desc)
	}
	rows := [][]string{{"strategy", "probe<", "outcome<", "seconds"}}
	for _, pr := range res {
		rows = append(rows, []string{pr.Strategy, pr.Probe, pr.Outcome, fmt.Sprintf("%.2f", pr.DurationS)})
	}
	table(w, rows)
	for _, pr := range res {
		if len(pr.Dump) > 0 {
			fmt.Fprintf(w, "%s probe %s, first lines of the child's goroutine dump:\n", pr.Strategy, pr.Probe)
			for _, line := range pr.Dump {
				fmt.Fprintf(w, "  %s\n", clip(strings.TrimRight(line, " \t"), 96))
			}
		}
	}
}

func printGoals(w io.Writer, goals []goal) {
	fmt.Fprintln(w, "The project's performance targets for safeexec (issue #4). These are goals for")
	fmt.Fprintln(w, "safeexec's developers, not checks of your machine; they never change the exit status.")
	rows := [][]string{{"target", "goal", "this run", "<"}}
	for _, g := range goals {
		mark := "met"
		if !g.Met {
			mark = "not met"
		}
		f := "%.2f %s"
		if g.Unit == "µs" {
			f = "%.0f %s"
		}
		rows = append(rows, []string{g.Goal, fmt.Sprintf(f, g.Target, g.Unit), fmt.Sprintf(f, g.Got, g.Unit), mark})
	}
	table(w, rows)
}
