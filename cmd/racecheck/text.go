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
		fmt.Fprintf(w, "INCOMPLETE: stopped by %s after %.1fs (exit %d); below is what was measured until then.\n",
			rep.Signal, rep.ElapsedS, rep.ExitCode)
	}
	printVerdict(w, rep, cfg)
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
	if rep.S5 != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "S5 other runner: as S1, but another process runs each file the writer writes, with\n"+
			"plain os/exec and no retry, as a program the file is handed to would.\n")
		printStorm(w, rep.S5)
	}
	if rep.S1 != nil || rep.S2 != nil || rep.S5 != nil {
		fmt.Fprintln(w, "failed: cycles whose write or run returned any error; rate: their share; ETXTBSY,")
		fmt.Fprintln(w, "other: the errors by kind; retried: Starts that met ETXTBSY and tried again;")
		fmt.Fprintln(w, "speed: cycles per second over exec's; write, close: mean time of the whole write")
		fmt.Fprintln(w, "(create, Write, Close) and of Close.")
	}
	if rep.Verdict != nil && rep.ExecError == "" {
		fmt.Fprintln(w)
		printStatistics(w, rep.Verdict, cfg)
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
		fmt.Fprintf(w, "safeexec's Close there: %s\n", rep.Closes)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, wrap("Note: "+n+".", 100, "  "))
	}
	printStormsSetting(w, rep, cfg)
	fmt.Fprintf(w, "%.1fs in all\n", rep.ElapsedS)
}

// printStormsSetting prints how long the storms ran, against their bound.
func printStormsSetting(w io.Writer, rep *report, cfg *config) {
	var names []string
	for _, s := range []struct {
		name string
		res  []*stormResult
	}{{"S1", rep.S1}, {"S2", rep.S2}, {"S5", rep.S5}} {
		if s.res != nil {
			names = append(names, s.name)
		}
	}
	if len(names) == 0 {
		return
	}
	line := strings.Join(names, ", ") + ": " + plural(cfg.spawners, "spawner") + ", "
	if v := rep.Verdict; v != nil {
		line += fmt.Sprintf("%d of %d rounds", v.RoundsRun, cfg.rounds)
	} else {
		line += plural(cfg.rounds, "round")
	}
	if cfg.cycles > 0 {
		line += fmt.Sprintf(", %d cycles per strategy", cfg.cycles)
	} else {
		line += fmt.Sprintf(" in %.1fs (-duration %v bounds them)", rep.StormsS, cfg.duration)
	}
	fmt.Fprintln(w, wrap(line, 100, "  "))
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
	fmt.Fprintln(w, "failed: the write and run, and the spawner. safeexec+global stalls by design")
	fmt.Fprintln(w, "(documented at SetGlobalGate): it holds every fork while a File is open.")
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
		if pr.Documented && pr.Outcome != "ok" {
			fmt.Fprintln(w, "deadlock (documented): expected, and no failure: with the global gate a File holds")
			fmt.Fprintln(w, "every fork until Close, so running a command before Close waits forever (SetGlobalGate).")
			break
		}
	}
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
