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
// outside S1 and S2, a hung probe, says so right under a verdict that
// reads well, and that its FAIL lines fit 100 columns, however long the
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
	if !strings.HasPrefix(out.String(), verdict+"But this run fails (exit 1): 1 problem") ||
		!strings.Contains(verdict, "removed it") {
		t.Errorf("the verdict is not followed by the failure:\n%s", out.String())
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
