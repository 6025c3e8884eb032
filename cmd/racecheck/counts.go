package main

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"syscall"

	"github.com/forkgate/forkgate/safeexec"
)

// Counts that every scenario keeps: errors by kind, and what safeexec's
// counters did.

// errorCounts counts errors by kind.
type errorCounts struct {
	ETXTBSY    int64 `json:"etxtbsy"`
	Permission int64 `json:"permission"` // EACCES or EPERM: noexec, modes
	ExitStatus int64 `json:"exitStatus"` // the program ran and failed
	Other      int64 `json:"other"`

	first string // the first error, for the report
}

// add counts err, if it is not nil.
func (c *errorCounts) add(err error) {
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return
	case errors.Is(err, syscall.ETXTBSY):
		c.ETXTBSY++
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		c.Permission++
	case errors.As(err, &exitErr):
		c.ExitStatus++
	default:
		c.Other++
	}
	if c.first == "" {
		c.first = err.Error()
	}
}

// merge adds d to c.
func (c *errorCounts) merge(d errorCounts) {
	c.ETXTBSY += d.ETXTBSY
	c.Permission += d.Permission
	c.ExitStatus += d.ExitStatus
	c.Other += d.Other
	if c.first == "" {
		c.first = d.first
	}
}

// total returns the number of errors of every kind.
func (c errorCounts) total() int64 { return c.ETXTBSY + c.Permission + c.ExitStatus + c.Other }

// String lists the non-zero counts.
func (c errorCounts) String() string {
	var parts []string
	for _, x := range []struct {
		name string
		n    int64
	}{{"ETXTBSY", c.ETXTBSY}, {"permission", c.Permission}, {"exit status", c.ExitStatus}, {"other", c.Other}} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", x.name, x.n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// gateDelta is what safeexec's counters did while a strategy ran.
type gateDelta struct {
	SlowPaths   uint64  `json:"slowPaths"`
	GiveUps     uint64  `json:"giveUps"`
	FlockDrains uint64  `json:"flockDrains"`
	PipeDrains  uint64  `json:"pipeDrains"`
	Barriers    uint64  `json:"barriers"`
	DrainWaits  uint64  `json:"drainWaits"`
	WaitedMs    float64 `json:"waitedMs"`
}

func (d *gateDelta) add(before, after safeexec.Stats) {
	d.SlowPaths += after.SlowPaths - before.SlowPaths
	d.GiveUps += after.GiveUps - before.GiveUps
	d.FlockDrains += after.FlockDrains - before.FlockDrains
	d.PipeDrains += after.PipeDrains - before.PipeDrains
	d.Barriers += after.Barriers - before.Barriers
	d.DrainWaits += after.DrainWaits - before.DrainWaits
	d.WaitedMs += float64(after.Waited-before.Waited) / 1e6
}

// closes counts safeexec's Closes by the path each used to make sure no
// child holds the file (safeexec.Stats).
type closes struct {
	FlockDrains uint64 `json:"flockDrains"`
	PipeDrains  uint64 `json:"pipeDrains"`
	Barriers    uint64 `json:"barriers"`
}

func (c *closes) add(d gateDelta) {
	c.FlockDrains += d.FlockDrains
	c.PipeDrains += d.PipeDrains
	c.Barriers += d.Barriers
}

// path names the paths the Closes took, the most used first.
func (c closes) path() string {
	type p struct {
		name string
		n    uint64
	}
	ps := []p{{"flock drain", c.FlockDrains}, {"pipe drain", c.PipeDrains}, {"gate barrier", c.Barriers}}
	slices.SortStableFunc(ps, func(a, b p) int { return int(b.n) - int(a.n) })
	var names []string
	for _, x := range ps {
		if x.n > 0 {
			names = append(names, x.name)
		}
	}
	return strings.Join(names, ", then ")
}
