package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// usageError is a bad command line; main exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// scenarioDescs are the scenarios for -h, one line each.
var scenarioDescs = []string{
	"s1      storm: spawners start true while a writer writes a script and runs it",
	"s2      ungated storm: as s1, with the spawners on plain os/exec",
	"s3      slow writer: spawn rate while a writer writes 1 MiB over -perf",
	"s4      fast path: Start and Wait of true from 1 and 4 goroutines, no writer",
	"s5      other runner: as s1, but another process, which does not retry, runs the file",
	"probes  deadlock probes for the safeexec strategies, each in a child process",
}

func main() {
	if probe := os.Getenv(probeEnv); probe != "" {
		os.Exit(runProbeChild(probe))
	}
	if os.Getenv(otherRunnerEnv) != "" {
		os.Exit(runOtherRunner())
	}
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err == flag.ErrHelp {
		os.Exit(0)
	}
	if err != nil {
		// The flag package has already told what was wrong with a flag.
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(os.Stderr, "racecheck: %s\nrun 'racecheck -h' for usage\n", msg)
		}
		os.Exit(2)
	}
	os.Exit(run(cfg, os.Stdout, os.Stderr))
}

// parseFlags parses the command line; it writes usage and flag errors to
// out, and returns flag.ErrHelp for -h.
func parseFlags(args []string, out io.Writer) (*config, error) {
	fs := flag.NewFlagSet("racecheck", flag.ContinueOnError)
	fs.SetOutput(out)
	cfg := &config{}
	fs.IntVar(&cfg.cycles, "cycles", 0, "run exactly `n` cycles per strategy in each of s1 and s2 (0: use -duration)")
	fs.DurationVar(&cfg.duration, "duration", 55*time.Second, "the most time s1, s2 and s5 take together, plus about one cycle; s1 and s2\nstop once decided")
	fs.DurationVar(&cfg.perf, "perf", time.Second, "time per strategy in s4, per goroutine count; the slow write in s3")
	fs.IntVar(&cfg.rounds, "rounds", 8, fmt.Sprintf("rounds of s1, s2, s4 and s5, in which the strategies take turns (at most %d)", maxRounds))
	fs.IntVar(&cfg.spawners, "spawners", 2, fmt.Sprintf("spawner goroutines in s1, s2 and s5 (at most %d per CPU)", maxSpawnersPerCPU))
	fs.StringVar(&cfg.dir, "dir", "", "make the temporary directory in `dir`, to test its filesystem")
	fs.BoolVar(&cfg.json, "json", false, "print JSON instead of text")
	fs.BoolVar(&cfg.goals, "goals", false, "also show the project's performance targets (never the exit status)")
	scen := fs.String("scenarios", strings.Join(allScenarios, ","), "comma-separated `list` of scenarios")
	strat := fs.String("strategies", strategyNames(), "comma-separated `list` of strategies")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: racecheck [flags]\n\n"+
			"Racecheck tells whether writing an executable and running it fails with ETXTBSY\n"+
			"here, and whether safeexec removes that race. The verdict comes first, when the\n"+
			"run ends: in about a minute with the defaults.\n\nScenarios:\n")
		for _, d := range scenarioDescs {
			fmt.Fprintf(w, "  %s\n", d)
		}
		fmt.Fprintf(w, "\nStrategies (exec and safeexec always run: the verdict compares them):\n")
		for _, st := range strategies {
			fmt.Fprintf(w, "  %-16s %s\n", st.name, st.desc)
		}
		fmt.Fprintf(w, "\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nExit status: 0 no failure of safeexec; 1 safeexec failed or a probe hung;\n"+
			"2 usage, or plain os/exec cannot run files in -dir; 3 interrupted.\n")
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil, err
		}
		return nil, usageError{}
	}
	switch {
	case fs.NArg() > 0:
		return nil, usageError{fmt.Sprintf("unexpected arguments: %q", fs.Args())}
	case cfg.cycles < 0:
		return nil, usageError{"-cycles must not be negative"}
	case cfg.duration <= 0:
		return nil, usageError{"-duration must be positive"}
	case cfg.perf <= 0:
		return nil, usageError{"-perf must be positive"}
	case cfg.rounds < 1:
		return nil, usageError{"-rounds must be at least 1"}
	case cfg.rounds > maxRounds:
		return nil, usageError{fmt.Sprintf("-rounds must be at most %d", maxRounds)}
	case cfg.spawners < 1:
		return nil, usageError{"-spawners must be at least 1: without them there is no race"}
	}
	cfg.clamp(runtime.NumCPU())
	for _, s := range splitList(*scen) {
		if !slices.Contains(allScenarios, s) {
			return nil, usageError{fmt.Sprintf("unknown scenario %q (want some of %s)", s, strings.Join(allScenarios, ","))}
		}
		if !slices.Contains(cfg.scenarios, s) {
			cfg.scenarios = append(cfg.scenarios, s)
		}
	}
	if len(cfg.scenarios) == 0 {
		return nil, usageError{"no scenario to run"}
	}
	// exec and safeexec are always measured: exec is the base of every
	// ratio, and the verdict compares the two. The others keep the order
	// of the strategies table.
	want := map[*strategy]bool{strategies[0]: true, lookupStrategy("safeexec"): true}
	for _, name := range splitList(*strat) {
		st := lookupStrategy(name)
		if st == nil {
			return nil, usageError{fmt.Sprintf("unknown strategy %q (want some of %s)", name, strategyNames())}
		}
		want[st] = true
	}
	for _, st := range strategies {
		if want[st] {
			cfg.strategies = append(cfg.strategies, st)
		}
	}
	return cfg, nil
}

func splitList(s string) []string {
	var list []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			list = append(list, strings.ToLower(f))
		}
	}
	return list
}

// run runs the scenarios and prints the report to stdout and progress to
// stderr; it returns the exit status.
func run(cfg *config, stdout, stderr io.Writer) int {
	if runtime.GOOS == "windows" {
		fmt.Fprintln(stderr, "racecheck: Windows has no fork, so there is no race to show")
		return 0
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		fmt.Fprintf(stderr, "racecheck: requires a true program: %v\n", err)
		return 2
	}
	dir, err := os.MkdirTemp(cfg.dir, "racecheck-")
	if err != nil {
		fmt.Fprintf(stderr, "racecheck: %v\n", err)
		return 2
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	defer watchSignals(cancel, dir, stderr)()

	begin := time.Now()
	rep := newReport(cfg, dir)
	rep.Dir = filepath.Dir(dir)
	r := &runner{cfg: cfg, ctx: ctx, dir: dir, truePath: truePath, progress: newProgress(stderr, cfg)}
	if r.preflight(rep) {
		measure(r, rep)
	}
	r.progress.done()
	if ctx.Err() != nil {
		rep.Signal = context.Cause(ctx).Error()
	}
	code := rep.finish(cfg, begin, ctx.Err() != nil)
	if cfg.json {
		printJSON(stdout, stderr, rep)
	} else {
		printText(stdout, rep, cfg)
	}
	return code
}

// measure runs the chosen scenarios into rep, and judges s1 and s2.
// -duration bounds s1, s2 and s5 together: s5, if chosen, gets a fifth,
// and less if s1 and s2 overran their share.
func measure(r *runner, rep *report) {
	var storms time.Duration
	stormsFor := func(res map[string][]*stormResult, other *otherRunner, budget time.Duration, decided func(int) bool) int {
		begin := time.Now()
		defer func() { storms += time.Since(begin) }()
		return r.storms(res, other, begin.Add(budget), decided)
	}
	s5Share := time.Duration(0)
	if slices.Contains(r.cfg.scenarios, "s5") {
		s5Share = r.cfg.duration / 5
	}
	for _, sc := range r.cfg.scenarios {
		if r.ctx.Err() != nil {
			break
		}
		switch sc {
		case "s1", "s2":
			if rep.S1 != nil || rep.S2 != nil {
				continue // both ran already, in the same rounds
			}
			res := map[string][]*stormResult{}
			for _, sc := range r.cfg.scenarios {
				if sc == "s1" || sc == "s2" {
					res[sc] = r.newStorm(sc)
				}
			}
			rep.S1, rep.S2 = res["s1"], res["s2"]
			// Stop at the first look at which the verdict is decided.
			roundsRun := stormsFor(res, nil, r.cfg.duration-s5Share, func(roundsRun int) bool {
				v := judge(rep, r.cfg, roundsRun, false)
				return v.Decided && slices.Contains(v.LookRounds, roundsRun)
			})
			rep.Verdict = judge(rep, r.cfg, roundsRun, r.ctx.Err() != nil)
		case "s5":
			rep.S5 = r.newStorm("s5")
			budget := r.cfg.duration
			if slices.Contains(r.cfg.scenarios, "s1") || slices.Contains(r.cfg.scenarios, "s2") {
				budget = min(s5Share, r.cfg.duration-storms)
			}
			// S5's other runner serves every strategy: it depends on none.
			other, err := startOtherRunner(r.ctx)
			if err != nil {
				if !interrupted(r.ctx, err) {
					rep.Problems = append(rep.Problems, "s5: could not start the other runner: "+err.Error())
				}
				continue
			}
			stormsFor(map[string][]*stormResult{"s5": rep.S5}, other, budget, func(int) bool { return false })
			other.stop()
		case "s3":
			rep.S3 = r.slow()
		case "s4":
			for _, frs := range r.fast() {
				rep.S4 = append(rep.S4, frs...)
			}
		case "probes":
			rep.Probes = r.runProbes()
		}
	}
	rep.StormsS = storms.Seconds()
}

// watchSignals cancels the run at the first of stopSignals, with the
// signal's name as the cause; at a second one it removes dir and exits at
// once. It returns a function that stops watching.
func watchSignals(cancel context.CancelCauseFunc, dir string, stderr io.Writer) (stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "\nracecheck: %v: stopping; a second signal exits at once\n", sig)
			cancel(errors.New(signalName(sig)))
		case <-done:
			return
		}
		select {
		case <-sigs:
			os.RemoveAll(dir)
			os.Exit(3)
		case <-done:
		}
	})
	return func() {
		signal.Stop(sigs)
		close(done)
		wg.Wait()
	}
}
