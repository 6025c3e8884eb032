package main

import (
	"cmp"
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
	ExitStatus int64 `json:"exitStatus"` // the program ran and failed, or was killed
	Other      int64 `json:"other"`

	first string // the first error, for the report
}

// The kinds of error, as errorKind names them.
const (
	kindETXTBSY    = "etxtbsy"
	kindPermission = "permission"
	kindExitStatus = "exitStatus"
	kindStopSignal = "stopSignal" // died of one of stopSignals
	kindOther      = "other"
)

// errorKind returns the kind of err.
func errorKind(err error) string {
	var (
		re      *remoteError
		exitErr *exec.ExitError
	)
	switch {
	case errors.As(err, &re):
		return re.kind
	case errors.Is(err, syscall.ETXTBSY):
		return kindETXTBSY
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return kindPermission
	case diedOfStopSignal(err):
		return kindStopSignal
	case errors.As(err, &exitErr):
		return kindExitStatus
	}
	return kindOther
}

// remoteError is an error that another process met, sent back as its kind
// and its text.
type remoteError struct{ kind, msg string }

func (e *remoteError) Error() string { return e.msg }

// add counts err, if it is not nil. A command that died of a stop signal
// that did not stop racecheck counts as one that ran and failed.
func (c *errorCounts) add(err error) {
	if err == nil {
		return
	}
	switch errorKind(err) {
	case kindETXTBSY:
		c.ETXTBSY++
	case kindPermission:
		c.Permission++
	case kindExitStatus, kindStopSignal:
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

// String lists the non-zero counts: "ETXTBSY 2, ran and failed 1".
func (c errorCounts) String() string {
	var parts []string
	for _, x := range []struct {
		name string
		n    int64
	}{{"ETXTBSY", c.ETXTBSY}, {"permission", c.Permission}, {"ran and failed", c.ExitStatus}, {"other", c.Other}} {
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
	SlowPaths  uint64  `json:"slowPaths"`
	GiveUps    uint64  `json:"giveUps"`
	Closes     closes  `json:"closes"`
	DrainWaits uint64  `json:"drainWaits"`
	WaitedMs   float64 `json:"waitedMs"`
}

func (d *gateDelta) add(before, after safeexec.Stats) {
	d.SlowPaths += after.SlowPaths - before.SlowPaths
	d.GiveUps += after.GiveUps - before.GiveUps
	d.Closes.add(closesOf(after).minus(closesOf(before)))
	d.DrainWaits += after.DrainWaits - before.DrainWaits
	d.WaitedMs += float64(after.SlowPathTime+after.DrainWaitTime-before.SlowPathTime-before.DrainWaitTime) / 1e6
}

// closesOf returns safeexec's Closes so far by what told each that nobody
// holds the file open for writing, in the order the report shows them. It
// is the one place that names those fields of safeexec.Stats.
func closesOf(s safeexec.Stats) closes {
	return closes{
		{"leaseCloses", "lease check", s.LeaseCloses},
		{"flockCloses", "flock drain", s.FlockCloses},
		{"pipeCloses", "pipe drain", s.PipeCloses},
		{"uncheckedCloses", "unchecked close", s.UncheckedCloses},
	}
}

// closes counts safeexec's Closes by path; the zero value counts none.
type closes []closePath

// closePath is the count of one path.
type closePath struct {
	key  string // in JSON
	name string // in text
	n    uint64
}

// add adds d to c.
func (c *closes) add(d closes) {
	if *c == nil {
		*c = closesOf(safeexec.Stats{})
	}
	for i := range d {
		(*c)[i].n += d[i].n
	}
}

// minus returns c less base, path by path.
func (c closes) minus(base closes) closes {
	d := slices.Clone(c)
	for i := range d {
		d[i].n -= base[i].n
	}
	return d
}

// MarshalJSON makes c an object, {"leaseCloses": 3, ...}, in its order.
func (c closes) MarshalJSON() ([]byte, error) {
	if c == nil {
		c = closesOf(safeexec.Stats{})
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range c {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%d", p.key, p.n)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// String lists the counts: "3 lease checks, 0 flock drains, ...".
func (c closes) String() string {
	var parts []string
	for _, p := range c {
		parts = append(parts, fmt.Sprintf("%d %ss", p.n, p.name))
	}
	return strings.Join(parts, ", ")
}

// path names the paths the Closes took, the most used first.
func (c closes) path() string {
	ps := slices.Clone(c)
	slices.SortStableFunc(ps, func(a, b closePath) int { return cmp.Compare(b.n, a.n) })
	var names []string
	for _, p := range ps {
		if p.n > 0 {
			names = append(names, p.name)
		}
	}
	return strings.Join(names, ", then ")
}
