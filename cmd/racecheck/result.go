package main

import (
	"time"
)

// The results of the scenarios, one per strategy, and the pure helpers
// that sum them up.

// stormResult is the result of s1 or s2 for one strategy.
type stormResult struct {
	Strategy      string      `json:"strategy"`
	Cycles        int64       `json:"cycles"`
	Failures      int64       `json:"failures"`
	Errors        errorCounts `json:"errors"`
	WriteFailures int64       `json:"writeFailures"` // of Failures, in the write
	FirstError    string      `json:"firstError,omitempty"`
	Retried       *uint64     `json:"retried,omitempty"`
	Spawns        int64       `json:"spawns"`
	SpawnFailures int64       `json:"spawnFailures"`
	SpawnErrors   errorCounts `json:"spawnErrors"`
	DurationS     float64     `json:"durationS"`
	CyclesPerS    float64     `json:"cyclesPerS"`
	Ratio         float64     `json:"cyclesPerSRatioToExec"`
	WriteMeanUs   float64     `json:"writeMeanUs"`
	CloseMeanUs   float64     `json:"closeMeanUs"`
	Gate          *gateDelta  `json:"gate,omitempty"`

	st           *strategy
	write, close time.Duration
}

// failed reports whether the strategy saw any error, its spawners'
// included.
func (s *stormResult) failed() bool { return s.Failures+s.SpawnFailures > 0 }

// slowResult is the result of s3 for one strategy.
type slowResult struct {
	Strategy      string      `json:"strategy"`
	Cycles        int64       `json:"cycles"` // slow writes made: 1, or 0 if interrupted
	Failures      int64       `json:"failures"`
	Errors        errorCounts `json:"errors"`
	FirstError    string      `json:"firstError,omitempty"`
	WriteS        float64     `json:"writeS"`
	SpawnsDuring  int64       `json:"spawnsDuringWrite"`
	RateDuring    float64     `json:"spawnsPerSDuringWrite"`
	RateWithout   float64     `json:"spawnsPerSWithoutWriter"`
	Ratio         float64     `json:"ratioDuringToWithout"`
	Spawns        int64       `json:"spawns"`
	SpawnFailures int64       `json:"spawnFailures"`
	SpawnErrors   errorCounts `json:"spawnErrors"`
	Gate          *gateDelta  `json:"gate,omitempty"`

	st *strategy
}

// fastGoroutines are the goroutine counts of s4.
var fastGoroutines = []int{1, 4}

// fastResult is the result of s4 for one strategy and goroutine count.
type fastResult struct {
	Strategy   string      `json:"strategy"`
	Goroutines int         `json:"goroutines"`
	Cycles     int64       `json:"cycles"` // Start and Wait of true
	Failures   int64       `json:"failures"`
	Errors     errorCounts `json:"errors"`
	FirstError string      `json:"firstError,omitempty"`
	DurationS  float64     `json:"durationS"`
	PerS       float64     `json:"cyclesPerS"`
	Ratio      float64     `json:"cyclesPerSRatioToExec"`

	st *strategy
}

// probeResult is the outcome of one probe for one strategy.
type probeResult struct {
	Strategy string `json:"strategy"`
	Probe    string `json:"probe"`
	// Outcome is "ok", "deadlock" (all of the probe's goroutines
	// blocked), "deadlock (documented)" (the global gate's probe a),
	// "hung" (no exit after probeTimeout) or "failed".
	Outcome    string   `json:"outcome"`
	Documented bool     `json:"documented"`
	Problem    bool     `json:"problem"`
	DurationS  float64  `json:"durationS"`
	Detail     string   `json:"detail,omitempty"`
	Dump       []string `json:"dump,omitempty"` // first lines of the child's goroutine dump
}

func pct(k, n int64) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(k) / float64(n)
}

// ratio returns rate over base, or 0 if base is 0: every ratio of speeds
// in the report is one of overall rates, so that it agrees with the rates
// shown beside it.
func ratio(rate, base float64) float64 {
	if base <= 0 {
		return 0
	}
	return rate / base
}

func findStorm(res []*stormResult, name string) *stormResult {
	for _, s := range res {
		if s.Strategy == name {
			return s
		}
	}
	return nil
}
