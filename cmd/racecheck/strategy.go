package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/forkgate/forkgate/safeexec"
)

// script is what the writers of s1 and s2 write and run.
var script = []byte("#!/bin/sh\nexit 0\n")

// A strategy is one way to write an executable and start commands.
type strategy struct {
	name string
	desc string // one line for -h

	// global makes the runner turn safeexec's global gate on while the
	// strategy runs.
	global bool

	// run starts path through the strategy and waits for it; the end of
	// ctx kills the command, as in exec.CommandContext.
	run func(ctx context.Context, path string) error

	// create opens an executable named path for writing; Close makes it
	// ready to run. Create, one Write and Close are what os.WriteFile
	// and safeexec.WriteExecutable do.
	create func(path string) (io.WriteCloser, error)

	// retried returns how many starts the strategy has retried so far,
	// or nil if it never retries.
	retried func() uint64

	// safe marks safeexec's strategies: a single failure of any kind
	// that gets through to their caller fails racecheck, and the
	// deadlock probes run for them only.
	safe bool
}

var strategies = []*strategy{
	{name: "exec", desc: "plain os/exec: os.WriteFile, then exec.Command",
		run: runExec, create: createFile},
	{name: "mutex", desc: "os/exec with one sync.Mutex held around every Start",
		run: runMutex, create: createFile},
	{name: "retry", desc: "os/exec; on ETXTBSY a fresh exec.Cmd after 100µs, doubling, 8 times",
		run: runRetry, create: createFile, retried: retryCount.Load},
	{name: "safeexec", desc: "safeexec.CreateExecutable and safeexec.Command",
		run: runSafe, create: createSafe, retried: safeSlowPaths, safe: true},
	{name: "safeexec+global", desc: "safeexec with SetGlobalGate(true)",
		global: true, run: runSafe, create: createSafe, retried: safeSlowPaths, safe: true},
}

func strategyNames() string {
	var names []string
	for _, st := range strategies {
		names = append(names, st.name)
	}
	return strings.Join(names, ",")
}

func lookupStrategy(name string) *strategy {
	for _, st := range strategies {
		if st.name == name {
			return st
		}
	}
	return nil
}

func runExec(ctx context.Context, path string) error {
	return exec.CommandContext(ctx, path).Run()
}

// createFile opens path as os.WriteFile does.
func createFile(path string) (io.WriteCloser, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
}

// startMu is the mutex strategy's lock: every Start holds it, so no fork
// can happen between a writer's close and its own Start. Forks made while
// the file is still open are not covered.
var startMu sync.Mutex

func runMutex(ctx context.Context, path string) error {
	c := exec.CommandContext(ctx, path)
	startMu.Lock()
	err := c.Start()
	startMu.Unlock()
	if err != nil {
		return err
	}
	return c.Wait()
}

// The retry strategy's bounds, in the spirit of cmd/go's loops around
// ETXTBSY, with a shorter first sleep: 100µs doubling, 8 retries, at
// most about 26ms of sleep in all.
const (
	retryFirst = 100 * time.Microsecond
	retryMax   = 8
)

var retryCount atomic.Uint64

func runRetry(ctx context.Context, path string) error {
	sleep := retryFirst
	for try := 0; ; try++ {
		// An exec.Cmd cannot be started twice, even after a failed Start.
		c := exec.CommandContext(ctx, path)
		err := c.Start()
		if err == nil {
			return c.Wait()
		}
		if !errors.Is(err, syscall.ETXTBSY) || try == retryMax {
			return err
		}
		retryCount.Add(1)
		t := time.NewTimer(sleep)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		sleep *= 2
	}
}

func runSafe(ctx context.Context, path string) error {
	return safeexec.CommandContext(ctx, path).Run()
}

func createSafe(path string) (io.WriteCloser, error) {
	return safeexec.CreateExecutable(path, 0o755)
}

func safeSlowPaths() uint64 { return safeexec.ReadStats().SlowPaths }
