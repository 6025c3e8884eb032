// Racecheck shows the ETXTBSY race and its fixes side by side.
//
// A program that writes an executable and runs it while other goroutines
// start commands can fail with ETXTBSY ("text file busy"): a child forked
// in between holds a copy of the writer's descriptor until it execs (see
// https://go.dev/issue/22315). Racecheck provokes the race with several
// strategies in one process, counts what the callers see, and measures what
// each strategy costs, relative to plain os/exec measured in the same run.
//
// Usage:
//
//	racecheck [flags]
//
// With no flags it runs every scenario with every strategy, which takes
// about 30s on a 2-core machine, shows progress on standard error and
// prints a table to standard output.
//
// The strategies are:
//
//	exec             plain os/exec: os.WriteFile, then exec.Command
//	mutex            one sync.Mutex held around every Start
//	retry            os/exec, and on ETXTBSY a fresh exec.Cmd after a
//	                 growing sleep (100µs, doubling), at most 8 retries
//	safeexec         safeexec.WriteExecutable and safeexec.Command
//	safeexec+global  the same with safeexec.SetGlobalGate(true)
//
// The writers make the steps of os.WriteFile and WriteExecutable
// themselves (create, one Write, Close) so that Close can be timed apart.
//
// The scenarios are:
//
//	s1      storm: -spawners goroutines start true through the strategy
//	        while a writer writes a tiny #!/bin/sh script and runs it
//	        through the strategy, over and over. Reports the failures the
//	        writer saw (ETXTBSY/other), how many runs were retried, write
//	        and exec cycles per second, the ratio to exec, and the mean
//	        time of one write (create, Write and Close) and of its Close.
//	s2      ungated storm: like s1, but the spawners use plain os/exec
//	        whatever the strategy.
//	s3      slow writer: one goroutine starts true through the strategy
//	        while a writer writes 1 MiB in 4 KiB chunks over -duration.
//	        Reports the spawn rate during the write over the rate just
//	        before and after it.
//	s4      fast path: Start and Wait of true, from 1 and from 4
//	        goroutines, no writer. Reports spawns per second and the ratio
//	        to exec.
//	probes  deadlock probes, each in a child process with a 3s timeout,
//	        for the safeexec strategies: (a) a goroutine runs a command
//	        while a File it created is open, then closes it; (b) a
//	        goroutine has two Files open while another starts commands.
//	        With the global gate, (a) is the deadlock documented at
//	        SetGlobalGate and is reported as such, not as a failure.
//
// Strategies take turns in rounds, in a different order each round, so
// that drift of the machine hits them all alike, and a ratio to exec is
// the median over the rounds of the ratio within one round. S3 makes one
// write per strategy and compares it with the rate measured around it.
//
// The flags are:
//
//	-cycles n
//		run n write and exec cycles per strategy in s1 and s2 instead
//		of running for -duration (0: use -duration)
//	-duration d
//		time each strategy spends in each of s1, s2 and s4 (each
//		goroutine count), split over the rounds; in s3 the length of
//		the slow write (default 1s)
//	-rounds n
//		number of rounds (default 5)
//	-spawners n
//		spawner goroutines in s1 and s2 (default 2)
//	-dir dir
//		make the temporary directory in dir instead of the default
//		temporary directory
//	-json
//		print the results as JSON instead of a table
//	-scenarios list
//		comma-separated scenarios to run (default s1,s2,s3,s4,probes)
//	-strategies list
//		comma-separated strategies to run (default all); exec is always
//		measured too, as the base of the ratios
//
// Racecheck writes only inside a directory it makes with os.MkdirTemp and
// removes it when done. It exits with status 1 if safeexec or
// safeexec+global let a single ETXTBSY through to the caller in any
// scenario, or if a probe hangs where no deadlock is documented, and with
// status 2 for a usage error.
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
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"time"
)

// usageError is a bad command line; main exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

type config struct {
	cycles     int
	duration   time.Duration
	rounds     int
	spawners   int
	dir        string
	json       bool
	scenarios  []string
	strategies []*strategy
}

var allScenarios = []string{"s1", "s2", "s3", "s4", "probes"}

func main() {
	if probe := os.Getenv(probeEnv); probe != "" {
		os.Exit(runProbeChild(probe))
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		// The flag package has already told what was wrong with a flag.
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(os.Stderr, "racecheck: %s\nrun 'racecheck -h' for usage\n", msg)
		}
		os.Exit(2)
	}
	os.Exit(run(cfg))
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("racecheck", flag.ContinueOnError)
	cfg := &config{}
	fs.IntVar(&cfg.cycles, "cycles", 0, "write+exec `cycles` per strategy in s1 and s2 (0: run for -duration)")
	fs.DurationVar(&cfg.duration, "duration", time.Second, "time per strategy per scenario, split over the rounds; the slow write in s3")
	fs.IntVar(&cfg.rounds, "rounds", 5, "number of rounds the strategies take turns in")
	fs.IntVar(&cfg.spawners, "spawners", 2, "spawner goroutines in s1 and s2")
	fs.StringVar(&cfg.dir, "dir", "", "make the temporary directory in `dir`")
	fs.BoolVar(&cfg.json, "json", false, "print JSON instead of a table")
	scen := fs.String("scenarios", strings.Join(allScenarios, ","), "comma-separated `list` of scenarios")
	strat := fs.String("strategies", strategyNames(), "comma-separated `list` of strategies")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: racecheck [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
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
	case cfg.rounds < 1:
		return nil, usageError{"-rounds must be at least 1"}
	case cfg.spawners < 0:
		return nil, usageError{"-spawners must not be negative"}
	}
	for _, s := range splitList(*scen) {
		if !slices.Contains(allScenarios, s) {
			return nil, usageError{fmt.Sprintf("unknown scenario %q (want some of %s)", s, strings.Join(allScenarios, ","))}
		}
		if !slices.Contains(cfg.scenarios, s) {
			cfg.scenarios = append(cfg.scenarios, s)
		}
	}
	// exec is always measured: it is the base of every ratio.
	cfg.strategies = []*strategy{strategies[0]}
	for _, name := range splitList(*strat) {
		st := lookupStrategy(name)
		if st == nil {
			return nil, usageError{fmt.Sprintf("unknown strategy %q (want some of %s)", name, strategyNames())}
		}
		if !slices.Contains(cfg.strategies, st) {
			cfg.strategies = append(cfg.strategies, st)
		}
	}
	if len(cfg.scenarios) == 0 {
		return nil, usageError{"no scenario to run"}
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

// run runs the scenarios and prints the results; it returns the exit
// status.
func run(cfg *config) int {
	if runtime.GOOS == "windows" {
		fmt.Fprintln(os.Stderr, "racecheck: Windows has no fork, so there is no race to show")
		return 0
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		fmt.Fprintf(os.Stderr, "racecheck: requires a true program: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp(cfg.dir, "racecheck-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "racecheck: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	r := &runner{cfg: cfg, ctx: ctx, dir: dir, truePath: truePath, progress: newProgress(os.Stderr)}
	rep := r.runAll()
	r.progress.done()
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "racecheck: interrupted")
		return 1
	}

	if cfg.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(os.Stderr, "racecheck: %v\n", err)
			return 1
		}
	} else {
		printTable(os.Stdout, rep)
	}
	if len(rep.Problems) > 0 {
		for _, p := range rep.Problems {
			fmt.Fprintf(os.Stderr, "racecheck: FAIL: %s\n", p)
		}
		return 1
	}
	return 0
}
