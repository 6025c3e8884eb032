package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The probes run this binary again, as they run racecheck.
	if probe := os.Getenv(probeEnv); probe != "" {
		os.Exit(runProbeChild(probe))
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
		{name: "every flag", args: []string{"-cycles", "10", "-duration", "2s", "-rounds", "2", "-spawners", "3",
			"-dir", "/tmp", "-json", "-scenarios", "s1,S2", "-strategies", "safeexec"}},
		{name: "argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "negative cycles", args: []string{"-cycles", "-1"}, wantErr: "-cycles must not be negative"},
		{name: "zero duration", args: []string{"-duration", "0"}, wantErr: "-duration must be positive"},
		{name: "zero rounds", args: []string{"-rounds", "0"}, wantErr: "-rounds must be at least 1"},
		{name: "unknown scenario", args: []string{"-scenarios", "s9"}, wantErr: `unknown scenario "s9"`},
		{name: "unknown strategy", args: []string{"-strategies", "magic"}, wantErr: `unknown strategy "magic"`},
		{name: "no scenario", args: []string{"-scenarios", ","}, wantErr: "no scenario to run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFlags(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q) = %v, want nil", tt.args, err)
			}
			// exec is always measured, first: it is the base of the ratios.
			if len(cfg.strategies) == 0 || cfg.strategies[0].name != "exec" {
				t.Errorf("parseFlags(%q): strategies start with %v, want exec", tt.args, cfg.strategies)
			}
		})
	}
}

// TestRunShort runs every scenario and strategy briefly, as the tool runs
// them, and checks that safeexec let no ETXTBSY through and no probe hung.
func TestRunShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every scenario; skipped with -short")
	}
	// Under the test binary the Go runtime does not notice the global
	// gate's documented deadlock, so that probe runs to its timeout; the
	// others must not be taken for deadlocks on a slow machine.
	defer func(d time.Duration) { probeTimeout = d }(probeTimeout)
	probeTimeout = 10 * time.Second
	cfg, err := parseFlags([]string{"-duration", "100ms", "-rounds", "1", "-dir", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	os.Stdout = devnull // the table; the test checks the exit status
	defer func() { os.Stdout = stdout }()
	start := time.Now()
	if code := run(cfg); code != 0 {
		t.Errorf("run(%+v) = %d, want 0", cfg, code)
	}
	t.Logf("ran in %v", time.Since(start).Round(time.Millisecond))
}
