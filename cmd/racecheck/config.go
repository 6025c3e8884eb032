package main

import (
	"fmt"
	"time"
)

// The run's configuration, as the command line sets it.

type config struct {
	cycles     int
	duration   time.Duration
	perf       time.Duration
	rounds     int
	spawners   int
	dir        string
	json       bool
	goals      bool
	scenarios  []string
	strategies []*strategy

	notes []string // flags changed to what the machine can serve, and why
}

var allScenarios = []string{"s1", "s2", "s3", "s4", "s5", "probes"}

// The bounds of the flags. More spawners than maxSpawnersPerCPU per CPU
// only queue for the CPUs and the process table: the writer's cycles slow
// to a crawl, and the run measures nothing more. More rounds than
// maxRounds leave each strategy slices too short to measure.
const (
	maxSpawnersPerCPU = 256
	maxRounds         = 100
)

// clamp lowers -spawners to what cpus CPUs can serve, and notes it.
func (cfg *config) clamp(cpus int) {
	if most := maxSpawnersPerCPU * cpus; cfg.spawners > most {
		cfg.notes = append(cfg.notes, fmt.Sprintf("-spawners %d is more than %d CPUs can serve: clamped to %d (%d per CPU)",
			cfg.spawners, cpus, most, maxSpawnersPerCPU))
		cfg.spawners = most
	}
}
