package safeexec

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

// helperEnv marks a run of the test binary as a helper process; its value
// names the helper to run. The tests run helpers instead of system programs,
// as os/exec's own tests do, so they need nothing beyond sh and true.
const helperEnv = "SAFEEXEC_TEST_HELPER"

// helpers holds the helper programs by name. Each test file registers the
// helpers it uses in an init function. A helper gets the arguments after
// the program name and returns the exit code.
var helpers = map[string]func(args []string) int{}

// helpersUsed records which helpers the parent started, so that a clean full
// run can report helpers nobody uses any more.
var helpersUsed sync.Map

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		fn := helpers[name]
		if fn == nil {
			fmt.Fprintf(os.Stderr, "safeexec test: unknown helper %q\n", name)
			os.Exit(2)
		}
		os.Exit(fn(os.Args[1:]))
	}
	// VerifyTestMain exits by itself, so it comes last.
	goleak.VerifyTestMain(checkHelpers{m})
}

// checkHelpers fails a clean, unfiltered run that left a helper unused.
type checkHelpers struct{ m *testing.M }

func (c checkHelpers) Run() int {
	code := c.m.Run()
	if code != 0 || flag.Lookup("test.run").Value.String() != "" || testing.Short() {
		return code
	}
	var unused []string
	for name := range helpers {
		if _, ok := helpersUsed.Load(name); !ok {
			unused = append(unused, name)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		fmt.Fprintf(os.Stderr, "FAIL: helpers never used: %v\n", unused)
		return 1
	}
	return code
}

// helperArgs returns the path, arguments and environment that run the named
// helper with args, for building an exec.Cmd or a Cmd alike.
func helperArgs(t testing.TB, name string, args ...string) (path string, argv, env []string) {
	t.Helper()
	if helpers[name] == nil {
		t.Fatalf("no helper named %q", name)
	}
	helpersUsed.Store(name, true)
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("requires the test binary's path (%v)", err)
	}
	argv = append([]string{exe}, args...)
	// Under -race a process sleeps a second before it exits, by default,
	// holding what it inherited: a helper that holds a File would outlast
	// a Close's wait (atexit_sleep_ms, go.dev/doc/articles/race_detector).
	race := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	return exe, argv, append(os.Environ(), helperEnv+"="+name, "GORACE="+race)
}

// helperCommand returns a Cmd that runs the named helper with args.
func helperCommand(t testing.TB, name string, args ...string) *Cmd {
	t.Helper()
	path, argv, env := helperArgs(t, name, args...)
	return &Cmd{Path: path, Args: argv, Env: env}
}

// helperExecCommand returns an exec.Cmd that runs the named helper with
// args, the twin of helperCommand.
func helperExecCommand(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	path, argv, env := helperArgs(t, name, args...)
	return &exec.Cmd{Path: path, Args: argv, Env: env}
}

// openFDs returns the number of descriptors the process has open.
func openFDs(t testing.TB) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("counting descriptors requires /proc/self/fd (GOOS=%s)", runtime.GOOS)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("requires /proc/self/fd (%v)", err)
	}
	return len(ents)
}

// writeScript writes a shell script with body to a new file in dir, with
// os.WriteFile, and returns its path.
func writeScript(t testing.TB, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// truePath returns the path of true, looked up once here so that callers
// measure no lookup, or skips.
func truePath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("true")
	if err != nil {
		t.Skipf("requires true (%v)", err)
	}
	return p
}

// spawnStorm starts n goroutines that call spawn over and over, lined up
// so that they overlap, and reports the first error of a spawn. stop ends
// them and returns how many spawns succeeded; the test's cleanup calls it
// too.
func spawnStorm(t testing.TB, n int, spawn func() error) (spawned *atomic.Int64, stop func() int64) {
	t.Helper()
	var (
		ready, done sync.WaitGroup
		quit        = make(chan struct{})
		failed      atomic.Bool
	)
	spawned = new(atomic.Int64)
	ready.Add(n + 1)
	done.Add(n)
	for range n {
		go func() {
			defer done.Done()
			ready.Done()
			ready.Wait()
			for {
				select {
				case <-quit:
					return
				default:
				}
				if err := spawn(); err != nil {
					if !failed.Swap(true) {
						t.Errorf("spawner: %v", err)
					}
					continue
				}
				spawned.Add(1)
			}
		}()
	}
	ready.Done()
	ready.Wait()
	var once sync.Once
	stop = func() int64 {
		once.Do(func() { close(quit); done.Wait() })
		return spawned.Load()
	}
	t.Cleanup(func() { stop() })
	return spawned, stop
}
