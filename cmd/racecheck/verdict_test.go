package main

import (
	"bytes"
	"strings"
	"testing"
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
			decided: true, say: "safeexec did NOT remove it: it failed once"},
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
