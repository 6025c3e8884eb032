package main

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// testProbes are probes that misbehave on purpose, run by TestMain in the
// child process.
var testProbes = map[string]func() error{
	// hang blocks where no lock is involved, so only the timeout and
	// SIGQUIT can tell.
	"hang": func() error {
		select {}
	},
	// deadlock blocks two goroutines on each other's mutex.
	"deadlock": func() error {
		var a, b sync.Mutex
		var ready sync.WaitGroup
		ready.Add(2)
		lockBoth := func(first, second *sync.Mutex) {
			first.Lock()
			ready.Done()
			ready.Wait()
			second.Lock()
		}
		go lockBoth(&a, &b)
		lockBoth(&b, &a)
		return nil
	},
}

// TestProbeFailures checks that a probe that hangs is reported as hung,
// with the first lines of its goroutine dump, and one that deadlocks as a
// deadlock, with the stacks of the blocked goroutines.
func TestProbeFailures(t *testing.T) {
	// Cleanup, not defer: it must wait for the parallel subtests.
	t.Cleanup(func(d time.Duration) func() { return func() { probeTimeout = d } }(probeTimeout))
	// The hang is real, so the timeout need only cover the child's start,
	// which took more than a second under -race on a loaded machine.
	probeTimeout = 3 * time.Second
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("requires the test binary's path (%v)", err)
	}
	tests := []struct {
		probe, outcome, inDump string
	}{
		{"hang", "hung", "[select (no cases)]"},
		{"deadlock", "deadlock", "sync.(*Mutex).Lock"},
	}
	for _, tt := range tests {
		t.Run(tt.probe, func(t *testing.T) {
			t.Parallel()
			r := &runner{ctx: context.Background(), dir: t.TempDir()}
			pr := &probeResult{Strategy: "safeexec", Probe: tt.probe}
			r.runProbe(exe, lookupStrategy("safeexec"), pr)
			dump := strings.Join(pr.Dump, "\n")
			if pr.Outcome != tt.outcome || !pr.Problem || !strings.Contains(dump, tt.inDump) {
				t.Errorf("probe %s: outcome %q, problem %v, dump:\n%s\nwant %q, true, a dump with %q",
					tt.probe, pr.Outcome, pr.Problem, dump, tt.outcome, tt.inDump)
			}
			t.Logf("probe %s: %s, dump:\n%s", tt.probe, pr.Outcome, dump)
			if len(pr.Dump) > dumpLines {
				t.Errorf("probe %s: %d lines of dump, want at most %d", tt.probe, len(pr.Dump), dumpLines)
			}
		})
	}
}
