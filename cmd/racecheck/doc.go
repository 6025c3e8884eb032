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
// With no flags it runs every scenario with every strategy in about a minute
// (41-75s on two cores), then prints the verdict first, then one block per
// scenario, on standard output. On a terminal, standard error shows the
// progress as one line, cleared before the report; anywhere else (a file,
// a pipe, a CI log) it gets a single line saying how long the run takes,
// so that the verdict comes first when both are read together.
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
//	s5      other runner: like s1, but another process, which does not
//	        retry, runs the file: racecheck itself, running each path
//	        it is sent with plain os/exec. It runs exec, retry and
//	        safeexec only: a retry protects only the starts that go
//	        through it; safeexec's Close makes the file safe for every
//	        runner.
//	probes  deadlock probes for the safeexec strategies, one at a time,
//	        each in a child process: (a) a goroutine runs a command while
//	        a File it created is open, then closes it; (b) a goroutine has
//	        two Files open while another starts commands. With the global
//	        gate, (a) is the deadlock documented at SetGlobalGate:
//	        expected, and no failure.
//
// Every error a writer or spawner sees counts as a failure of its
// strategy, split by kind: ETXTBSY, permission (EACCES, EPERM), ran and
// failed (an exit status, or killed) and other, except that of a command
// killed by the signal that stops racecheck, whether racecheck alone or
// its whole process group got it (a terminal's Ctrl-C): that is no
// failure of anything.
//
// # The verdict
//
// The verdict block says in plain words, first, whether the race is real
// here and whether safeexec removed it; then how often plain os/exec and
// safeexec failed in s1 and s2 together; then the statistics in one line;
// and last the next step for the user's own code. The statistics in full
// follow the tables.
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
// The p-value of each scenario alone is shown too. Under the verdict, s5's
// counts answer the question "why not just retry?".
//
// s1 and s2 run in -rounds rounds, in which every strategy takes its turn
// in an order that turns with the round, so that drift of the machine hits
// all alike; exec and safeexec get twice the time of the others. Each turn
// gets its share of the time left, so one that overran shortens the next. Racecheck
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
//		the most time s1, s2 and s5 take together, over all strategies
//		(default 55s), overrun by at most about one cycle; s5 gets a
//		fifth; s1 and s2 stop at an earlier look once decided
//	-cycles n
//		instead, run exactly n write and exec cycles per strategy in
//		each of s1 and s2, and look once, at the end
//	-rounds n
//		rounds of s1, s2, s4 and s5 (default 8, at most 100)
//	-spawners n
//		spawner goroutines in s1, s2 and s5 (default 2); more than 256
//		per CPU is lowered to that, and the report says so
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
//		comma-separated scenarios to run (default s1,s2,s3,s4,s5,probes)
//	-strategies list
//		comma-separated strategies to run (default all)
//
// A probe that does not exit within 30s gets SIGQUIT, and the report
// shows the first lines of its goroutine dump. SIGINT or SIGTERM stops a
// run within about a second, however many spawners, kills the commands
// still running, prints what was measured so far under one line that says
// which signal stopped it, and removes the temporary directory; a second
// signal exits at once.
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
//	3  stopped by a signal, with no failure of safeexec before it
//
// # JSON
//
// With -json racecheck prints one object. Every measurement is a number
// whose key names its unit (S seconds, Ms milliseconds, Us microseconds,
// Pct percent, PerS per second); counts are integers.
//
//	complete    false if a signal cut the run short
//	signal      the signal that did
//	exitCode    the exit status
//	goos, goarch, goVersion, cpus
//	dir         where the temporary directory was made
//	fsType      the filesystem's name; fsMagic its statfs f_type (Linux)
//	closePath   the paths safeexec's Close took, most used first
//	closes      {leaseCloses, flockCloses, pipeCloses, uncheckedCloses}:
//	            Closes by what vouched for the file
//	notes       flags racecheck lowered to what the machine can serve
//	execError   why plain os/exec cannot run files in dir (exit 2)
//	config      {durationS, perfS, cycles, rounds, spawners, scenarios,
//	            strategies}
//	elapsedS    the whole run
//	stormsS     s1, s2 and s5 together, which -duration bounds
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
//	s1, s2, s5  per strategy: {strategy, cycles, failures, errors,
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
// gate is what safeexec's counters did: {slowPaths, giveUps, closes,
// drainWaits, waitedMs}, closes as above. Every ratio of rates to exec's
// is one of overall rates: cycles (or spawns) over seconds, summed over
// the rounds.
//
// The race needs fork and a kernel that refuses to run a file open for
// writing: Linux and the BSDs. On macOS racecheck runs but finds no race;
// Windows has no fork, and racecheck says so and exits.
package main
