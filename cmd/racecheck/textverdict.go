package main

import (
	"fmt"
	"io"
	"strings"
)

// The verdict block speaks plainly first (issue #22): the answer, the
// counts in words, the statistics in one line, what would decide an open
// question, why a retry is not enough, and the next step for the user's
// own code. The statistics in full come after the tables (printStatistics).

// nextStep is the verdict's last sentence when the race is real here:
// what to do in the user's own code.
const nextStep = "Next, in your code: run safeexecfix (README: Adopt it), which imports " +
	"github.com/forkgate/forkgate/safeexec under the name exec and writes the executables you run " +
	"with exec.WriteExecutable, or make the same change by hand (README: Quick start); then log " +
	"exec.ReadStats() to confirm: its retried= and waited= count the races it caught."

// nextStepNoRace is the verdict's last sentence when the race did not show.
const nextStepNoRace = "Next: the race did not show here, but it may where your code runs: run racecheck " +
	"there too (your CI machines), with -dir on the filesystem your program writes executables to."

// printVerdict prints the answer to the two questions racecheck asks.
func printVerdict(w io.Writer, rep *report, cfg *config) {
	v := rep.Verdict
	if rep.ExecError != "" {
		fmt.Fprintf(w, "Verdict: nothing to measure: plain os/exec cannot run a file written in\n%s:\n%s\n",
			rep.Dir, indented(rep.ExecError))
		fmt.Fprintln(w, "Is the filesystem mounted noexec, or are its permissions too tight? Try another -dir.")
		return
	}
	if v == nil {
		fmt.Fprintln(w, "Verdict: none; it needs scenario s1 or s2 (-scenarios).")
		printWhyNotRetry(w, rep.S5)
		printNext(w, rep, nil)
		return
	}
	var execFailed, execCycles, cycles, failed, spawnsFailed int64
	for _, sv := range v.Scenarios {
		execFailed += sv.ExecETXTBSY
		execCycles += sv.ExecCycles
		cycles += sv.SafeexecCycles
		failed += sv.SafeexecFailures
		spawnsFailed += sv.SafeexecSpawnFailure
	}
	// The counts of the tables: cycles, then starts of its spawners.
	failures := fmt.Sprintf("in %d of %d cycles", failed, cycles)
	if spawnsFailed > 0 {
		failures += fmt.Sprintf(", and its spawners failed %s", times(spawnsFailed))
	}
	var say string
	switch {
	case v.Removed:
		say = "the race is real here, and safeexec removed it."
	case v.SafeexecFailed && v.Reproduced:
		say = "the race is real here, and safeexec did NOT remove it: it failed\n" + failures + "."
	case v.SafeexecFailed:
		say = "safeexec failed " + failures + "; plain os/exec never met ETXTBSY."
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

	counts := fmt.Sprintf(`Plain os/exec failed with "text file busy" (ETXTBSY) in %d of %d cycles `+
		"of writing a script and running it while %s started commands; safeexec failed %s.",
		execFailed, execCycles, plural(cfg.spawners, "other goroutine"), failures)
	fmt.Fprintln(w, indented(counts))
	fmt.Fprintln(w, indented(statisticsLine(v)))
	printSuggestion(w, v, cfg)
	printWhyNotRetry(w, rep.S5)
	printNext(w, rep, v)
}

// statisticsLine says in one line which test decided and how.
func statisticsLine(v *verdict) string {
	line := "Statistics: Fisher's exact test, one-sided, p = " + pvalue(v.PValue)
	switch {
	case v.Significant:
		line += " < " + num(v.AlphaPerLook) + ": significant"
	case v.Interrupted:
		line += ": not judged, interrupted"
	default:
		line += " ≥ " + num(v.AlphaPerLook) + ": not significant"
	}
	return line + " (docs/results.md)."
}

// printSuggestion says how long a run would likely decide, if this one
// did not.
func printSuggestion(w io.Writer, v *verdict, cfg *config) {
	var s string
	switch {
	case v.SuggestCycles > 0:
		s = fmt.Sprintf("To decide, run more cycles: -cycles %d", v.SuggestCycles)
	case v.SuggestDurationS > 0:
		s = fmt.Sprintf("To decide, run longer: -duration %gs", v.SuggestDurationS)
	default:
		return
	}
	if v.SuggestSpawners > 0 {
		s += fmt.Sprintf(" -spawners %d", v.SuggestSpawners)
	}
	if len(cfg.strategies) > 2 {
		s += "; -strategies exec,safeexec spends all of it on the two compared"
	}
	fmt.Fprintln(w, indented(s+"."))
}

// printWhyNotRetry answers, from S5, why a retry on ETXTBSY is not enough.
func printWhyNotRetry(w io.Writer, res []*stormResult) {
	var parts []string
	for _, name := range []string{"exec", "retry", "safeexec"} {
		if s := findStorm(res, name); s != nil {
			parts = append(parts, fmt.Sprintf("%s in %d of %d", name, s.Failures, s.Cycles))
		}
	}
	if len(parts) == 0 {
		return
	}
	fmt.Fprintln(w, wrap("Why not just retry? In S5, where another process ran each file, cycles failed: "+
		strings.Join(parts, ", ")+"; a retry protects only the starts that go through it, while "+
		"safeexec's Close makes the file safe for every runner.", 100, "  "))
}

// printNext ends the verdict v, if any, with the next step: for the
// user's code, or, when this run failed, for the failure.
func printNext(w io.Writer, rep *report, v *verdict) {
	var s string
	switch n := len(rep.Problems); {
	case n > 0:
		s = fmt.Sprintf("But this run fails (exit 1): %d problem(s) with safeexec, listed under FAIL at "+
			"the end. Next: please report this to forkgate's developers, with this report.", n)
	case v != nil && v.SafeexecFailed:
		s = "Next: please report this to forkgate's developers, with this report."
	case v != nil && !v.Reproduced:
		s = nextStepNoRace
	default:
		s = nextStep
	}
	fmt.Fprintln(w, wrap(s, 100, "  "))
}

// indented returns s wrapped to 100 columns, every line indented by two
// spaces.
func indented(s string) string { return "  " + wrap(s, 98, "  ") }

// printStatistics prints the verdict's statistics in full, for readers of
// docs/results.md: each scenario's counts with their 95% intervals and
// p-value, and the looks at the data.
func printStatistics(w io.Writer, v *verdict, cfg *config) {
	fmt.Fprintln(w, "The verdict's statistics (docs/results.md explains them):")
	for _, sv := range v.Scenarios {
		name := strings.ToUpper(sv.Scenario)
		fmt.Fprintf(w, "  %s: plain os/exec met ETXTBSY in %d of %d cycles, %.2f%% (95%% CI %.2f-%.2f%%);\n",
			name, sv.ExecETXTBSY, sv.ExecCycles, sv.ExecRatePct, sv.ExecRatePctLow, sv.ExecRatePctHigh)
		fmt.Fprintf(w, "      safeexec failed in %d of %d cycles (95%% CI up to %.2f%%); p = %s.\n",
			sv.SafeexecFailures, sv.SafeexecCycles, sv.SafeexecRatePctHigh, pvalue(sv.PValue))
		if sv.SafeexecSpawnFailure > 0 {
			fmt.Fprintf(w, "      safeexec's spawners failed %s.\n", times(sv.SafeexecSpawnFailure))
		}
	}
	s := fmt.Sprintf("Together: p = %s, by a one-sided exact test that safeexec fails less often than "+
		"plain os/exec (Fisher's, stratified by scenario: the exact Cochran-Mantel-Haenszel test). ",
		pvalue(v.PValue))
	if len(v.LookRounds) == 1 {
		s += fmt.Sprintf("It must be below %s, with one look at the data, at the end", num(v.AlphaPerLook))
	} else {
		s += fmt.Sprintf("It must be below %s: 0.05 split over %d looks at the data (after rounds %s)",
			num(v.AlphaPerLook), len(v.LookRounds), joinInts(v.LookRounds))
	}
	switch {
	case v.Interrupted:
		s += fmt.Sprintf("; interrupted in round %d of %d, after %d of the %d looks.",
			v.RoundsRun+1, cfg.rounds, v.Looks, len(v.LookRounds))
	case v.Decided:
		s += fmt.Sprintf("; decided at look %d of %d.", v.Looks, len(v.LookRounds))
	case len(v.LookRounds) == 1:
		s += "; not decided."
	default:
		s += fmt.Sprintf("; all %d looks made.", v.Looks)
	}
	fmt.Fprintln(w, indented(s))
}
