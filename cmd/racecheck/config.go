package main

import "time"

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
}

var allScenarios = []string{"s1", "s2", "s3", "s4", "probes"}
