package main

import (
	"os"
	"strconv"
	"strings"
)

// loadAverage returns the system's load averages where /proc/loadavg
// tells them, and nil elsewhere.
func loadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return nil
	}
	var load []float64
	for _, s := range f[:3] {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil
		}
		load = append(load, x)
	}
	return load
}
