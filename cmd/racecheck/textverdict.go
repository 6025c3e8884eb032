package main

import (
	"fmt"
	"io"
	"strings"
)

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
		printWhyNotRetry(w, rep.S5)
		return
	}
	var cycles, failed, spawnsFailed int64
	for _, sv := range v.Scenarios {
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
		fmt.Fprintf(w, "\n  interrupted in round %d of %d, after %d of the %d looks.\n",
			v.RoundsRun+1, cfg.rounds, v.Looks, len(v.LookRounds))
	case v.Decided:
		fmt.Fprintf(w, "\n  decided at look %d of %d.\n", v.Looks, len(v.LookRounds))
	case len(v.LookRounds) == 1:
		fmt.Fprintln(w, "\n  not decided.")
	default:
		fmt.Fprintf(w, "\n  all %d looks made.\n", v.Looks)
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
	printWhyNotRetry(w, rep.S5)
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
