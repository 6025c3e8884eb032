package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// The deadlock probes' side in racecheck: run each in a child process and
// tell from how it ended whether it hung or deadlocked.

// probeTimeout is how long a probe may run before it counts as hung: far
// longer than any probe takes on a loaded machine (about a second), so
// that load cannot pass for a deadlock.
var probeTimeout = 30 * time.Second

// dumpLines is how many lines of a goroutine dump a report shows.
const dumpLines = 8

// runProbes runs every probe for every strategy it means something for,
// one at a time, each in its own child process, so that they do not slow
// each other down.
func (r *runner) runProbes() []*probeResult {
	var res []*probeResult
	exe, exeErr := os.Executable()
	for _, st := range r.cfg.strategies {
		if !st.safe {
			continue
		}
		for _, p := range probes {
			if r.ctx.Err() != nil {
				return res
			}
			pr := &probeResult{Strategy: st.name, Probe: p.name, Documented: st.global && p.name == "a"}
			res = append(res, pr)
			r.progress.show("probes", st.name+" "+p.name)
			if exeErr != nil {
				pr.Outcome, pr.Detail, pr.Problem = "failed", exeErr.Error(), true
				continue
			}
			r.runProbe(exe, st, pr)
		}
	}
	return res
}

// runProbe runs one probe in a child process and sets pr from how it
// ended. A child that does not exit within probeTimeout gets SIGQUIT, so
// that the Go runtime prints its goroutines, and the dump confirms the hang.
func (r *runner) runProbe(exe string, st *strategy, pr *probeResult) {
	ctx, cancel := context.WithTimeout(r.ctx, probeTimeout)
	defer cancel()
	name := pr.Probe
	if st.global {
		name += "+global"
	}
	dir := filepath.Join(r.dir, "probe-"+strings.ReplaceAll(name, "+", "-"))
	var stderr bytes.Buffer
	c := exec.CommandContext(ctx, exe)
	c.Env = append(os.Environ(), probeEnv+"="+name, probeDirEnv+"="+dir, "GOTRACEBACK=all")
	c.Stderr = &stderr
	c.Cancel = func() error { return c.Process.Signal(quitSignal) }
	c.WaitDelay = 5 * time.Second // time to print the dump, then kill
	begin := time.Now()
	err := os.Mkdir(dir, 0o755)
	if err == nil {
		err = c.Run()
	}
	pr.DurationS = time.Since(begin).Seconds()
	out := strings.TrimSpace(stderr.String())
	switch {
	case err == nil:
		pr.Outcome = "ok"
	case interrupted(r.ctx, err):
		pr.Outcome = "interrupted"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		pr.Outcome = "hung"
		pr.Detail = fmt.Sprintf("no exit after %v; SIGQUIT", probeTimeout)
		pr.Dump = dumpHead(out)
	case strings.Contains(out, probeDeadlock), strings.Contains(out, "all goroutines are asleep - deadlock"):
		pr.Outcome = "deadlock"
		pr.Dump = dumpHead(out)
	default:
		pr.Outcome = "failed"
		pr.Detail = fmt.Sprintf("%v: %s", err, firstLine(out))
	}
	switch {
	case pr.Outcome == "deadlock" && pr.Documented:
		pr.Outcome, pr.Dump = "deadlock (documented)", nil
	case pr.Outcome != "ok" && pr.Outcome != "interrupted":
		pr.Problem = true
	}
}

// dumpHead returns the first lines of the first goroutine of the probe in
// a goroutine dump, without the addresses a SIGQUIT dump adds.
func dumpHead(out string) []string {
	for _, g := range strings.Split(out, "\n\n") {
		if !strings.HasPrefix(g, "goroutine ") || !probeGoroutine(g) {
			continue
		}
		var lines []string
		for _, line := range strings.Split(g, "\n") {
			line = dumpAddrs.ReplaceAllString(line, "")
			lines = append(lines, line)
			if len(lines) == dumpLines {
				break
			}
		}
		return lines
	}
	return nil
}

// dumpAddrs matches what a SIGQUIT dump adds to a goroutine's header and
// frames.
var dumpAddrs = regexp.MustCompile(` (gp|m|mp|fp|sp|pc)=\S+`)

// probeGoroutine reports whether the goroutine g of a dump runs the
// probe's code: one with a frame of this package, other than the probe's
// supervisor.
func probeGoroutine(g string) bool {
	if strings.Contains(g, ".superviseProbe(") {
		return false
	}
	for _, line := range strings.Split(g, "\n")[1:] {
		if strings.HasPrefix(line, ownFrames) {
			return true
		}
	}
	return false
}

// ownFrames is how the frames of this package start in a goroutine dump:
// "main." in racecheck, its import path and a dot in its tests.
var ownFrames = func() string {
	name := runtime.FuncForPC(reflect.ValueOf(firstLine).Pointer()).Name()
	return name[:strings.LastIndex(name, ".")+1]
}()

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
