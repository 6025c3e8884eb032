package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// storm returns s1 or s2 results in which exec met ETXTBSY k times in n
// cycles and safeexec failed j times in m.
func storm(k, n, j, m int64) []*stormResult {
	return []*stormResult{
		{Strategy: "exec", st: strategies[0], Cycles: n, Failures: k, Errors: errorCounts{ETXTBSY: k}},
		{Strategy: "safeexec", st: lookupStrategy("safeexec"), Cycles: m, Failures: j, Errors: errorCounts{ETXTBSY: j}},
	}
}

func TestJudge(t *testing.T) {
	cfg := &config{rounds: 8, spawners: 2, duration: 55e9}
	tests := []struct {
		name        string
		s1, s2      []*stormResult
		rounds      int
		interrupted bool
		decided     bool
		removed     bool
		suggest     bool
		say         string // in the printed verdict
	}{
		{name: "removed", s1: storm(4, 400, 0, 400), s2: storm(3, 400, 0, 400), rounds: 2,
			decided: true, removed: true, say: "safeexec removed it"},
		{name: "too few", s1: storm(2, 400, 0, 400), s2: storm(1, 400, 0, 400), rounds: 8,
			suggest: true, say: "not enough evidence yet"},
		{name: "not at a look", s1: storm(10, 400, 0, 400), s2: storm(10, 400, 0, 400), rounds: 3,
			say: "not enough evidence yet"},
		{name: "interrupted", s1: storm(10, 400, 0, 400), s2: storm(10, 400, 0, 400), rounds: 4, interrupted: true,
			say: "not enough evidence yet"},
		{name: "safeexec failed", s1: storm(10, 400, 1, 400), s2: storm(10, 400, 0, 400), rounds: 2,
			decided: true, say: "safeexec did NOT remove it: it failed\nin 1 of 800 cycles."},
		{name: "no race", s1: storm(0, 400, 0, 400), s2: storm(0, 400, 0, 400), rounds: 8,
			suggest: true, say: "plain os/exec never met ETXTBSY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &report{S1: tt.s1, S2: tt.s2, Complete: !tt.interrupted}
			v := judge(rep, cfg, tt.rounds, tt.interrupted)
			if v.Decided != tt.decided || v.Removed != tt.removed || (v.SuggestDurationS > 0) != tt.suggest {
				t.Errorf("judge: decided %v, removed %v, suggested -duration %vs; want %v, %v, a suggestion %v",
					v.Decided, v.Removed, v.SuggestDurationS, tt.decided, tt.removed, tt.suggest)
			}
			rep.Verdict = v
			var out bytes.Buffer
			printVerdict(&out, rep, cfg)
			if !strings.Contains(out.String(), tt.say) {
				t.Errorf("verdict lacks %q:\n%s", tt.say, out.String())
			}
			checkWidth(t, "verdict", out.String())
		})
	}
}

// TestProblemsUnderVerdict checks that a run that fails for a reason
// outside S1 and S2, a hung probe, says so at the end of a verdict that
// reads well, in place of the next step for the user's code, and that its FAIL lines fit 100 columns, however long the
// paths in them (review of #8).
func TestProblemsUnderVerdict(t *testing.T) {
	cfg := &config{rounds: 8, spawners: 2, duration: 55e9}
	rep := &report{S1: storm(4, 400, 0, 400), S2: storm(3, 400, 0, 400), Complete: true,
		Dir: "/tmp", FSType: "ext4"}
	rep.Verdict = judge(rep, cfg, 2, false)
	rep.Problems = []string{"safeexec: probe b hung: no exit after 30s; its goroutine: " +
		strings.Repeat("/very/long/path/segment", 8) + " and more words after it to wrap"}
	var out bytes.Buffer
	printText(&out, rep, cfg)
	verdict := printed(rep, cfg)
	if !strings.HasPrefix(out.String(), verdict) || !strings.Contains(verdict, "removed it") ||
		!strings.Contains(verdict, "\nBut this run fails (exit 1): 1 problem(s) with safeexec, listed under FAIL") ||
		strings.Contains(verdict, "Next, in your code") {
		t.Errorf("the verdict does not end with the failure:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "FAIL: safeexec: probe b hung") {
		t.Errorf("no FAIL line:\n%s", out.String())
	}
	checkWidth(t, "report with a problem", out.String())
}

// printed returns what printVerdict prints for rep.
func printed(rep *report, cfg *config) string {
	var b bytes.Buffer
	printVerdict(&b, rep, cfg)
	return b.String()
}

// TestCountsAgree checks that the verdict, the tables and the FAIL lines
// give the same counts of safeexec's failures, cycles and spawner starts
// apart (issue #14: "failed 2 times" beside a table's 1).
func TestCountsAgree(t *testing.T) {
	cfg := &config{rounds: 8, spawners: 2, duration: 55e9, strategies: strategies}
	s1 := storm(10, 400, 1, 400)
	s1[1].Errors = errorCounts{ExitStatus: 1, first: "signal: killed"}
	s1[1].Spawns, s1[1].SpawnFailures, s1[1].SpawnErrors = 5000, 2, errorCounts{Other: 2}
	rep := &report{S1: s1, S2: storm(10, 400, 0, 400), Complete: true, Problems: []string{}}
	rep.Verdict = judge(rep, cfg, 2, false)
	if code := rep.finish(cfg, time.Now(), false); code != 1 {
		t.Errorf("finish = %d, want exit status 1", code)
	}
	var out bytes.Buffer
	printText(&out, rep, cfg)
	for _, want := range []string{
		"it failed\nin 1 of 800 cycles, and its spawners failed 2 times.",
		"safeexec failed in 1 of 400 cycles",
		"safeexec's spawners failed 2 times in 5000 starts (other 2).",
		"FAIL: safeexec in s1: 1 of 400 cycles failed (ran and failed 1), and its spawners failed 2 of 5000\n" +
			"      starts (other 2); first error: signal: killed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	row := false // safeexec's row of the S1 table: 400 cycles, 1 failed
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[0] == "safeexec" && f[1] == "400" {
			row = row || f[2] == "1"
		}
	}
	if !row {
		t.Errorf("no table row of safeexec with 400 cycles, 1 failed:\n%s", out.String())
	}
}

// TestVerdictWording checks that the verdict speaks plainly first (issue
// #22): the headline, the counts in words, the statistics in one line
// that names the test and points to docs/results.md, and last the next
// step, for the user's code or for a failure; the statistics in full come
// after the tables.
func TestVerdictWording(t *testing.T) {
	cfg := &config{rounds: 8, spawners: 2, duration: 55e9, strategies: strategies}
	tests := []struct {
		name     string
		s1, s2   []*stormResult
		rounds   int
		headline string
		counts   string
		stats    string
		last     string // the start of the verdict's last sentence
	}{
		{name: "removed", s1: storm(4, 250, 0, 242), s2: storm(4, 248, 0, 235), rounds: 4,
			headline: "Verdict: the race is real here, and safeexec removed it.",
			counts: `Plain os/exec failed with "text file busy" (ETXTBSY) in 8 of 498 cycles of writing a ` +
				"script and running it while 2 other goroutines started commands; safeexec failed in 0 of 477 cycles.",
			stats: "Statistics: Fisher's exact test, one-sided, p = 0.0045 < 0.0167: significant (docs/results.md).",
			last:  "Next, in your code: run safeexecfix (README: Adopt it), which imports github.com/forkgate/forkgate/safeexec"},
		{name: "not enough", s1: storm(2, 400, 0, 400), s2: storm(1, 400, 0, 400), rounds: 8,
			headline: "Verdict: the race is real here, but there is not enough evidence yet",
			counts:   "in 3 of 800 cycles",
			stats:    "p = 0.12 ≥ 0.0167: not significant (docs/results.md).",
			last:     "Next, in your code:"},
		{name: "no race", s1: storm(0, 400, 0, 400), s2: storm(0, 400, 0, 400), rounds: 8,
			headline: "Verdict: not enough evidence: plain os/exec never met ETXTBSY",
			counts:   "in 0 of 800 cycles",
			stats:    "p = 1 ≥ 0.0167: not significant",
			last:     "Next: the race did not show here, but it may where your code runs: run racecheck there"},
		{name: "safeexec failed", s1: storm(10, 400, 1, 400), s2: storm(10, 400, 0, 400), rounds: 2,
			headline: "Verdict: the race is real here, and safeexec did NOT remove it",
			counts:   "safeexec failed in 1 of 800 cycles.",
			stats:    "p = ",
			last:     "Next: please report this to forkgate's developers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &report{S1: tt.s1, S2: tt.s2, Complete: true, Dir: "/tmp", FSType: "ext4"}
			rep.Verdict = judge(rep, cfg, tt.rounds, false)
			verdict := printed(rep, cfg)
			// Sentences of the block, as the text wraps them at 100 columns.
			var paras []string
			for _, line := range strings.Split(strings.TrimSuffix(verdict, "\n"), "\n") {
				if len(paras) > 0 && !strings.HasSuffix(paras[len(paras)-1], ".") {
					paras[len(paras)-1] += " " + strings.TrimSpace(line)
				} else {
					paras = append(paras, strings.TrimSpace(line))
				}
			}
			if len(paras) < 4 || !strings.HasPrefix(strings.Join(paras, "\n"), strings.ReplaceAll(tt.headline, "\n", " ")) {
				t.Fatalf("verdict does not start with %q:\n%s", tt.headline, verdict)
			}
			if !strings.HasPrefix(paras[1], "Plain os/exec failed with") || !strings.Contains(paras[1], tt.counts) {
				t.Errorf("second sentence %q, want the counts in words, with %q", paras[1], tt.counts)
			}
			if !strings.HasPrefix(paras[2], "Statistics: Fisher's exact test") || !strings.Contains(paras[2], tt.stats) {
				t.Errorf("third sentence %q, want the statistics, with %q", paras[2], tt.stats)
			}
			stats := strings.Split(verdict, "\n")[strings.Count(strings.SplitN(verdict, "Statistics:", 2)[0], "\n")]
			if !strings.HasSuffix(stats, "(docs/results.md).") {
				t.Errorf("the statistics take more than one line:\n%s", verdict)
			}
			if last := paras[len(paras)-1]; !strings.HasPrefix(last, tt.last) {
				t.Errorf("last sentence %q, want the next step, %q", last, tt.last)
			}
			for _, jargon := range []string{"stratified", "looks", "split over", "% CI", "within -duration"} {
				if strings.Contains(verdict, jargon) {
					t.Errorf("the verdict says %q, which belongs in the statistics after the tables:\n%s", jargon, verdict)
				}
			}
			var out bytes.Buffer
			printText(&out, rep, cfg)
			if !strings.Contains(out.String(), "\nThe verdict's statistics (docs/results.md explains them):\n  S1: ") {
				t.Errorf("the report lacks the statistics in full:\n%s", out.String())
			}
			checkWidth(t, "report", out.String())
		})
	}
}
