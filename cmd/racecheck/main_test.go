package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The probes run this binary again, as they run racecheck.
	if probe := os.Getenv(probeEnv); probe != "" {
		if fn := testProbes[probe]; fn != nil {
			os.Exit(superviseProbe(probe, fn))
		}
		os.Exit(runProbeChild(probe))
	}
	if os.Getenv(otherRunnerEnv) != "" {
		os.Exit(runOtherRunner())
	}
	goleak.VerifyTestMain(m)
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" for success
	}{
		{name: "defaults"},
		{name: "every flag", args: []string{"-cycles", "10", "-duration", "2s", "-perf", "50ms", "-rounds", "2",
			"-spawners", "3", "-dir", "/tmp", "-json", "-goals", "-scenarios", "s1,S2", "-strategies", "mutex"}},
		{name: "argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "negative cycles", args: []string{"-cycles", "-1"}, wantErr: "-cycles must not be negative"},
		{name: "zero duration", args: []string{"-duration", "0"}, wantErr: "-duration must be positive"},
		{name: "zero perf", args: []string{"-perf", "0"}, wantErr: "-perf must be positive"},
		{name: "zero rounds", args: []string{"-rounds", "0"}, wantErr: "-rounds must be at least 1"},
		{name: "too many rounds", args: []string{"-rounds", "101"}, wantErr: "-rounds must be at most 100"},
		{name: "negative spawners", args: []string{"-spawners", "-1"}, wantErr: "-spawners must be at least 1"},
		{name: "no spawners", args: []string{"-spawners", "0"}, wantErr: "-spawners must be at least 1"},
		{name: "unknown scenario", args: []string{"-scenarios", "s9"}, wantErr: `unknown scenario "s9"`},
		{name: "unknown strategy", args: []string{"-strategies", "magic"}, wantErr: `unknown strategy "magic"`},
		{name: "no scenario", args: []string{"-scenarios", ","}, wantErr: "no scenario to run"},
		{name: "bad flag", args: []string{"-bogus"}, wantErr: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" || tt.name == "bad flag" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFlags(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q) = %v, want nil", tt.args, err)
			}
			// exec and safeexec are always measured, exec first.
			var names []string
			for _, st := range cfg.strategies {
				names = append(names, st.name)
			}
			if len(names) < 2 || names[0] != "exec" || !strings.Contains(strings.Join(names, ","), "safeexec") {
				t.Errorf("parseFlags(%q): strategies %v, want exec first and safeexec", tt.args, names)
			}
		})
	}
}

// TestClamp checks that -spawners beyond what the machine can serve is
// lowered, and that the report says so (issue #14).
func TestClamp(t *testing.T) {
	most := maxSpawnersPerCPU * runtime.NumCPU()
	for _, n := range []int{most, most + 1, 100000} {
		cfg, err := parseFlags([]string{"-spawners", fmt.Sprint(n)}, io.Discard)
		if err != nil {
			t.Fatalf("parseFlags(-spawners %d) = %v", n, err)
		}
		if want := min(n, most); cfg.spawners != want || (len(cfg.notes) > 0) != (n > most) {
			t.Errorf("-spawners %d: %d spawners, notes %q; want %d, a note %v", n, cfg.spawners, cfg.notes, want, n > most)
		}
		rep := newReport(cfg, t.TempDir())
		var out bytes.Buffer
		printSetting(&out, rep, cfg)
		if n > most && !strings.Contains(out.String(), fmt.Sprintf("Note: -spawners %d is more than", n)) {
			t.Errorf("-spawners %d: the setting does not say it was clamped:\n%s", n, out.String())
		}
	}
}

// TestDurationBound checks that -duration bounds s1, s2 and s5, however
// many spawners, but for about one cycle (issue #14: 68s for 5s).
func TestDurationBound(t *testing.T) {
	const d = time.Second
	code, out := runFor(t, "-scenarios", "s1,s5", "-duration", d.String(), "-spawners", "32", "-json")
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	var rep struct {
		StormsS float64
		S5      []struct{ Strategy string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// A cycle takes milliseconds; a second covers a loaded machine.
	if got := time.Duration(rep.StormsS * float64(time.Second)); got > d+time.Second {
		t.Errorf("-duration %v: s1 and s5 took %v, want at most about %v", d, got, d)
	}
	if len(rep.S5) != 3 {
		t.Errorf("s5 ran %v, want exec, retry and safeexec", rep.S5)
	}
}

// TestUsage checks that -h describes every scenario and strategy.
func TestUsage(t *testing.T) {
	var out bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, &out); err != flag.ErrHelp {
		t.Fatalf("parseFlags(-h) = %v, want flag.ErrHelp", err)
	}
	usage := out.String()
	for _, sc := range allScenarios {
		if !strings.Contains(usage, "\n  "+sc+" ") {
			t.Errorf("usage does not describe scenario %s:\n%s", sc, usage)
		}
	}
	for _, st := range strategies {
		if !strings.Contains(usage, st.name+" ") || !strings.Contains(usage, st.desc) {
			t.Errorf("usage does not describe strategy %s:\n%s", st.name, usage)
		}
	}
	checkWidth(t, "usage", usage)
}

// runFor runs racecheck in this process with args, plus -dir in a
// temporary directory unless args name one, and returns the exit status
// and what it printed.
func runFor(t *testing.T, args ...string) (code int, stdout string) {
	t.Helper()
	if !strings.Contains(strings.Join(args, " "), "-dir") {
		args = append(args, "-dir", t.TempDir())
	}
	cfg, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(%q) = %v", args, err)
	}
	var out, progress bytes.Buffer
	code = run(cfg, &out, &progress)
	t.Logf("racecheck %s: exit status %d\n%s%s", strings.Join(args, " "), code, progress.String(), out.String())
	return code, out.String()
}

// checkWidth fails t if a line of out is wider than 100 columns or ends
// in a space.
func checkWidth(t *testing.T, what, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("%s: a line of %d columns, want at most 100: %q", what, n, line)
		}
		if strings.TrimRight(line, " \t") != line {
			t.Errorf("%s: a line with trailing space: %q", what, line)
		}
	}
}

// TestCyclesExact is a regression test for issue #8: -cycles 7 -rounds 5
// ran 10 cycles.
func TestCyclesExact(t *testing.T) {
	code, out := runFor(t, "-cycles", "7", "-rounds", "5", "-scenarios", "s1", "-strategies", "exec", "-json")
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	var rep struct {
		S1 []struct {
			Strategy string
			Cycles   int
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.S1) != 2 {
		t.Fatalf("s1 has %d strategies, want 2 (exec, safeexec)", len(rep.S1))
	}
	for _, s := range rep.S1 {
		if s.Cycles != 7 {
			t.Errorf("-cycles 7 -rounds 5: %s ran %d cycles, want 7", s.Strategy, s.Cycles)
		}
	}
}

// TestRunShort runs every scenario and strategy briefly, as the tool runs
// them, and checks that safeexec had no failure, no probe hung, and the
// report puts the verdict first and fits 100 columns.
func TestRunShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every scenario; skipped with -short")
	}
	code, out := runFor(t, "-duration", "1s", "-perf", "100ms", "-rounds", "2", "-goals")
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if !strings.HasPrefix(out, "Verdict: ") {
		t.Errorf("report starts with %q, want the verdict", firstLine(out))
	}
	for _, want := range []string{"S1 storm", "S2 ungated", "S3 slow write", "S4 fast path", "S5 other runner",
		"Why not just retry?", "Deadlock probes",
		"safeexec's Close there: ", "performance targets"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("report shows a failure")
	}
	checkWidth(t, "report", out)
}

// TestJSON checks that -json parses and carries counts as integers,
// measurements and load averages as numbers, and the verdict as booleans
// and numbers.
func TestJSON(t *testing.T) {
	code, out := runFor(t, "-json", "-cycles", "20", "-rounds", "2", "-perf", "50ms", "-scenarios", "s1,s2,s4")
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("-json printed what does not parse: %v\n%s", err, out)
	}
	isInt := func(what string, x any) {
		t.Helper()
		f, ok := x.(float64)
		if !ok || f != math.Trunc(f) {
			t.Errorf("%s = %v (%T), want an integer", what, x, x)
		}
	}
	isType := func(what string, x any, want string) {
		t.Helper()
		var ok bool
		switch want {
		case "number":
			_, ok = x.(float64)
		case "bool":
			_, ok = x.(bool)
		}
		if !ok {
			t.Errorf("%s = %v (%T), want a %s", what, x, x, want)
		}
	}
	for _, sc := range []string{"s1", "s2", "s4"} {
		rows, _ := rep[sc].([]any)
		if len(rows) == 0 {
			t.Fatalf("%s missing or empty", sc)
		}
		for _, r := range rows {
			row := r.(map[string]any)
			isInt(sc+".cycles", row["cycles"])
			isInt(sc+".failures", row["failures"])
			errs, _ := row["errors"].(map[string]any)
			for _, kind := range []string{"etxtbsy", "permission", "exitStatus", "other"} {
				isInt(sc+".errors."+kind, errs[kind])
			}
			isType(sc+".durationS", row["durationS"], "number")
			isType(sc+".cyclesPerS", row["cyclesPerS"], "number")
		}
	}
	if s1 := rep["s1"].([]any)[0].(map[string]any); s1["cycles"] != 20.0 {
		t.Errorf("s1 exec cycles = %v, want 20", s1["cycles"])
	}
	isType("s1.closeMeanUs", rep["s1"].([]any)[0].(map[string]any)["closeMeanUs"], "number")
	v, _ := rep["verdict"].(map[string]any)
	for _, k := range []string{"decided", "reproduced", "removed", "safeexecFailed"} {
		isType("verdict."+k, v[k], "bool")
	}
	isType("verdict.significant", v["significant"], "bool")
	for _, k := range []string{"alpha", "alphaPerLook", "pValue", "looks", "roundsRun"} {
		isType("verdict."+k, v[k], "number")
	}
	svs, _ := v["scenarios"].([]any)
	if len(svs) != 2 {
		t.Fatalf("verdict.scenarios = %v, want s1 and s2", v["scenarios"])
	}
	for _, k := range []string{"execCycles", "execEtxtbsy", "safeexecCycles", "safeexecFailures"} {
		isInt("verdict.scenarios[0]."+k, svs[0].(map[string]any)[k])
	}
	for _, k := range []string{"execRatePct", "execRatePctHigh", "safeexecRatePctHigh", "pValue"} {
		isType("verdict.scenarios[0]."+k, svs[0].(map[string]any)[k], "number")
	}
	isType("complete", rep["complete"], "bool")
	isType("elapsedS", rep["elapsedS"], "number")
	isInt("exitCode", rep["exitCode"])
	if load, ok := rep["loadBefore"].([]any); ok {
		for _, x := range load {
			isType("loadBefore", x, "number")
		}
	} else if _, err := os.Stat("/proc/loadavg"); err == nil {
		t.Errorf("loadBefore = %v, want three numbers", rep["loadBefore"])
	}
}
