// Racecheck tells whether the ETXTBSY race happens on this machine and
// filesystem, and whether safeexec removes it there.
//
// A program that writes an executable and runs it while other goroutines
// start commands can fail with ETXTBSY ("text file busy"): a child forked
// in between holds a copy of the writer's descriptor until it execs (see
// https://go.dev/issue/22315). Racecheck provokes the race with several
// strategies in one process, counts every failure the callers see, and
// measures what each strategy costs, relative to plain os/exec measured in
// the same run.
//
// Usage:
//
//	racecheck [flags]
//
// With no flags it runs every scenario with every strategy in at most
// about 85s, shows progress on standard error and prints the verdict
// first, then one block per scenario, on standard output.
//
// The strategies are:
//
//	exec             plain os/exec: os.WriteFile, then exec.Command
//	mutex            os/exec with one sync.Mutex held around every Start
//	retry            os/exec; on ETXTBSY a fresh exec.Cmd after a growing
//	                 sleep (100µs, doubling), at most 8 retries
//	safeexec         safeexec.CreateExecutable and safeexec.Command
//	safeexec+global  the same with safeexec.SetGlobalGate(true)
//
// exec and safeexec are always measured: the verdict compares them. The
// writers make the steps of os.WriteFile and WriteExecutable themselves
// (create, one Write, Close) so that Close can be timed apart.
//
// The scenarios are:
//
//	s1      storm: -spawners goroutines start true through the strategy
//	        while a writer writes a tiny #!/bin/sh script and runs it
//	        through the strategy, over and over.
//	s2      ungated storm: like s1, but the spawners use plain os/exec
//	        whatever the strategy.
//	s3      slow writer: one goroutine starts true through the strategy
//	        while a writer writes 1 MiB in 4 KiB chunks over -perf;
//	        the spawn rate during the write over the rate around it.
//	s4      fast path: Start and Wait of true, from 1 and from 4
//	        goroutines, no writer, for -perf per strategy.
//	probes  deadlock probes for the safeexec strategies, one at a time,
//	        each in a child process: (a) a goroutine runs a command while
//	        a File it created is open, then closes it; (b) a goroutine has
//	        two Files open while another starts commands. With the global
//	        gate, (a) is the deadlock documented at SetGlobalGate.
//
// Every error a writer or spawner sees counts as a failure of its
// strategy, split by kind: ETXTBSY, permission (EACCES, EPERM), exit
// status (the program ran and failed) and other.
//
// # The verdict
//
// The verdict answers two questions from s1 and s2. Did the race
// reproduce here? Yes if plain os/exec met ETXTBSY at all; racecheck gives
// its k failures in n cycles with an exact (Clopper–Pearson) 95% interval.
// Did safeexec remove it? No as soon as safeexec fails at all, with any
// error. Yes if it never failed (0 in m cycles, with the interval's upper
// bound) and a one-sided exact test finds its rate lower than plain
// os/exec's rate of ETXTBSY in the same rounds: Fisher's exact test,
// stratified by scenario (the exact Cochran–Mantel–Haenszel test), so
// that s1 and s2 add up their evidence without being taken for one rate.
// The p-value of each scenario alone is shown too.
//
// s1 and s2 run in -rounds rounds, in which every strategy takes its turn
// in an order that turns with the round, so that drift of the machine hits
// all alike; exec and safeexec get twice the time of the others. Racecheck
// looks at the data after a quarter, half and all of the rounds (rounded
// up), and stops at the first look at which the verdict is decided.
// Looking three times gives three chances of a false "removed", so each
// look tests at 0.05/3 (Bonferroni): the chance of a false "removed" in
// the whole run stays below 0.05. When safeexec never fails and runs as
// many cycles as plain os/exec, a look decides once plain os/exec has met
// ETXTBSY about 6 times. If the last look does not decide, racecheck says
// that the evidence is not enough, and proposes a -duration (or -cycles)
// and -spawners that would likely be.
//
// # Flags
//
//	-duration d
//		the most time s1 and s2 take together, over all strategies
//		(default 55s); they stop at an earlier look once decided
//	-cycles n
//		instead, run exactly n write and exec cycles per strategy in
//		each of s1 and s2, and look once, at the end
//	-rounds n
//		rounds of s1, s2 and s4 (default 8)
//	-spawners n
//		spawner goroutines in s1 and s2 (default 2)
//	-perf d
//		time per strategy in s4, for each goroutine count, and the
//		length of the slow write in s3 (default 1s)
//	-dir dir
//		make the temporary directory in dir, to test its filesystem
//		(default: the default temporary directory)
//	-json
//		print the report as JSON instead of text
//	-goals
//		also show the project's performance targets for safeexec; they
//		are goals for its developers and never change the exit status
//	-scenarios list
//		comma-separated scenarios to run (default s1,s2,s3,s4,probes)
//	-strategies list
//		comma-separated strategies to run (default all)
//
// A probe that does not exit within 30s gets SIGQUIT, and the report
// shows the first lines of its goroutine dump. SIGINT or SIGTERM stops a
// run within about a second, prints what was measured so far, marked
// incomplete, and removes the temporary directory; a second signal exits
// at once.
//
// # Exit status
//
//	0  the run ended and neither safeexec strategy had any failure; the
//	   verdict may still say that the evidence is not enough
//	1  safeexec or safeexec+global had a failure of any kind in any
//	   scenario, while plain os/exec could run files in -dir; or a probe
//	   hung, deadlocked where no deadlock is documented, or failed
//	2  a usage error, or nothing to measure: plain os/exec cannot run a
//	   file written in -dir (noexec, permissions), there is no true
//	   program, or the temporary directory cannot be made
//	3  interrupted by a signal, with no failure of safeexec so far
//
// # JSON
//
// With -json racecheck prints one object. Every measurement is a number
// whose key names its unit (S seconds, Ms milliseconds, Us microseconds,
// Pct percent, PerS per second); counts are integers.
//
//	complete    false if a signal cut the run short
//	exitCode    the exit status
//	goos, goarch, goVersion, cpus
//	dir         where the temporary directory was made
//	fsType      the filesystem's name; fsMagic its statfs f_type (Linux)
//	closePath   the paths safeexec's Close took, most used first
//	closes      {flockDrains, pipeDrains, barriers}: Closes by path
//	execError   why plain os/exec cannot run files in dir (exit 2)
//	config      {durationS, perfS, cycles, rounds, spawners, scenarios,
//	            strategies}
//	elapsedS    the whole run
//	loadBefore, loadAfter  load averages over 1, 5, 15 minutes (Linux)
//	verdict     {decided, reproduced, removed, safeexecFailed, alpha,
//	            alphaPerLook, lookRounds, pValue, significant, looks
//	            (made), roundsRun, interrupted (during s1 or s2),
//	            suggestDurationS, suggestCycles,
//	            suggestSpawners, scenarios: [{scenario, execCycles,
//	            execEtxtbsy, execRatePct, execRatePctLow,
//	            execRatePctHigh, safeexecCycles, safeexecFailures,
//	            safeexecSpawnFailures, safeexecRatePct,
//	            safeexecRatePctHigh, pValue (this scenario alone)}]}
//	s1, s2      per strategy: {strategy, cycles, failures, errors,
//	            writeFailures, firstError, retried, spawns, spawnFailures,
//	            spawnErrors, durationS, cyclesPerS, cyclesPerSRatioToExec,
//	            writeMeanUs, closeMeanUs, gate}
//	s3          per strategy: {strategy, cycles, failures, errors,
//	            firstError, writeS, spawnsDuringWrite,
//	            spawnsPerSDuringWrite, spawnsPerSWithoutWriter,
//	            ratioDuringToWithout, spawns, spawnFailures, spawnErrors,
//	            gate}
//	s4          per strategy and goroutine count: {strategy, goroutines,
//	            cycles, failures, errors, firstError, durationS,
//	            cyclesPerS, cyclesPerSRatioToExec}
//	probes      {strategy, probe, outcome, documented, problem,
//	            durationS, detail, dump (lines)}
//	goals       with -goals: {goal, target, got, unit, met}
//	problems    what made the exit status 1, as sentences
//
// errors and spawnErrors are {etxtbsy, permission, exitStatus, other};
// gate is what safeexec's counters did: {slowPaths, giveUps, flockDrains,
// pipeDrains, barriers, drainWaits, waitedMs}.
//
// The race needs fork and a kernel that refuses to run a file open for
// writing: Linux and the BSDs. On macOS racecheck runs but finds no race;
// Windows has no fork, and racecheck says so and exits.
package main

import (
	"context"
	"encoding/json"
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

	"github.com/forkgate/forkgate/safeexec"
)

// usageError is a bad command line; main exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

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

// scenarioDescs are the scenarios for -h, one line each.
var scenarioDescs = []string{
	"s1      storm: spawners start true while a writer writes a script and runs it",
	"s2      ungated storm: as s1, with the spawners on plain os/exec",
	"s3      slow writer: spawn rate while a writer writes 1 MiB over -perf",
	"s4      fast path: Start and Wait of true from 1 and 4 goroutines, no writer",
	"probes  deadlock probes for the safeexec strategies, each in a child process",
}

func main() {
	if probe := os.Getenv(probeEnv); probe != "" {
		os.Exit(runProbeChild(probe))
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
	fs.DurationVar(&cfg.duration, "duration", 55*time.Second, "the most time s1 and s2 take together; they stop once decided")
	fs.DurationVar(&cfg.perf, "perf", time.Second, "time per strategy in s4, per goroutine count; the slow write in s3")
	fs.IntVar(&cfg.rounds, "rounds", 8, "rounds of s1, s2 and s4, in which the strategies take turns")
	fs.IntVar(&cfg.spawners, "spawners", 2, "spawner goroutines in s1 and s2")
	fs.StringVar(&cfg.dir, "dir", "", "make the temporary directory in `dir`, to test its filesystem")
	fs.BoolVar(&cfg.json, "json", false, "print JSON instead of text")
	fs.BoolVar(&cfg.goals, "goals", false, "also show the project's performance targets (never the exit status)")
	scen := fs.String("scenarios", strings.Join(allScenarios, ","), "comma-separated `list` of scenarios")
	strat := fs.String("strategies", strategyNames(), "comma-separated `list` of strategies")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: racecheck [flags]\n\n"+
			"Racecheck tells whether writing an executable and running it fails with ETXTBSY\n"+
			"here, and whether safeexec removes that race. The verdict comes first.\n\nScenarios:\n")
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
	case cfg.spawners < 1:
		return nil, usageError{"-spawners must be at least 1: without them there is no race"}
	}
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

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer watchSignals(cancel, dir, stderr)()

	begin := time.Now()
	rep := newReport(cfg, dir)
	rep.Dir = filepath.Dir(dir)
	r := &runner{cfg: cfg, ctx: ctx, dir: dir, truePath: truePath, progress: newProgress(stderr)}
	if r.preflight(rep) {
		r.runAll(rep)
	}
	r.progress.done()
	code := rep.finish(cfg, begin, ctx.Err() != nil)
	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "racecheck: %v\n", err)
		}
		for _, p := range rep.Problems {
			fmt.Fprintf(stderr, "racecheck: FAIL: %s\n", p)
		}
	} else {
		printText(stdout, rep, cfg)
	}
	return code
}

// watchSignals cancels the run at the first of stopSignals; at a second
// one it removes dir and exits at once. It returns a function that stops
// watching.
func watchSignals(cancel func(), dir string, stderr io.Writer) (stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "\nracecheck: %v: stopping; a second signal exits at once\n", sig)
			cancel()
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

// preflight checks that plain os/exec can run a file written in the work
// directory, and writes one with safeexec to learn which path its Close
// takes there. It reports whether the scenarios can run.
func (r *runner) preflight(rep *report) bool {
	path := r.path("preflight-exec")
	err := os.WriteFile(path, script, 0o755)
	if err == nil {
		err = exec.Command(path).Run()
	}
	os.Remove(path)
	if err != nil {
		rep.ExecError = err.Error()
		return false
	}
	stats0 := safeexec.ReadStats()
	path = r.path("preflight-safeexec")
	err = safeexec.WriteExecutable(path, script, 0o755)
	if err == nil {
		err = safeexec.Command(path).Run()
	}
	os.Remove(path)
	var g gateDelta
	g.add(stats0, safeexec.ReadStats())
	rep.Closes.add(g)
	if err != nil {
		rep.Problems = append(rep.Problems, "safeexec could not write and run a script where plain os/exec could: "+err.Error())
	}
	return true
}
