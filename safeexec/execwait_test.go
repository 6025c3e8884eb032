package safeexec

// Parity with os/exec under GODEBUG=execwait (issue #9): the same leaks
// run in child processes through both packages must end the same way.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func init() {
	// leak runs leakScenario args[1] through package args[0] ("os/exec"
	// or "safeexec"), in directory args[2], lets the garbage collector
	// run finalizers, and prints "no leak reported" if nothing panicked.
	helpers["leak"] = func(args []string) int {
		time.AfterFunc(helperTimeout, func() { os.Exit(99) })
		if err := leakScenario(args[0], args[1], args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// Finalizers run one batch at a time on one goroutine, so once
		// a sentinel's finalizer has run, every finalizer queued by the
		// collection before has run too.
		for range 3 {
			done := make(chan struct{})
			s := new(sentinel)
			runtime.SetFinalizer(s, func(*sentinel) { close(done) })
			s = nil
			runtime.GC()
			<-done
		}
		fmt.Println("no leak reported")
		return 0
	}
}

// sentinel is an object whose finalizer tells that the finalizers queued
// before it have run. Its pointer keeps it out of the tiny allocator,
// which would share its memory with other objects.
type sentinel struct {
	_ *byte
	_ [32]byte
}

// leakScenarios names the scenarios of leakScenario and says whether
// os/exec panics in each, which checks that each tests what it means to.
var leakScenarios = []struct {
	name  string
	panic bool
}{
	{"Command", true},
	{"Command waited", false},
	{"literal", false},
	{"CommandContext", false},
	{"CommandContext Cancel nil", true},
	{"CommandContext own Cancel", true},
	{"CommandContext cancelable own Cancel", false},
	{"CommandContext canceled own Cancel", true},
	{"CommandContext busy", false},
}

// leakCancel cancels the context of a scenario that must stay live.
var leakCancel context.CancelFunc

// leakScenario starts a command of package pkg and drops it, as scenario
// says, in dir. It makes every command on one line of its own, so that the
// two packages' stacks name the same function.
//
//go:noinline
func leakScenario(pkg, scenario, dir string) error {
	truePath, err := exec.LookPath("true")
	if err != nil {
		return err
	}
	safe := pkg == "safeexec"
	var c twin
	command := func(name string) twin {
		if safe {
			return safeTwin(Command(name))
		}
		return execTwin(exec.Command(name))
	}
	commandContext := func(ctx context.Context, name string) twin {
		if safe {
			return safeTwin(CommandContext(ctx, name))
		}
		return execTwin(exec.CommandContext(ctx, name))
	}
	switch scenario {
	case "Command":
		c = command(truePath)
	case "Command waited":
		// Run waits; a Cmd never started, one whose Start failed and
		// the exec.Cmd behind Command never leak.
		command(truePath)
		if err := command(filepath.Join(dir, "missing")).Start(); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("Start() of a missing program = %v, want ErrNotExist", err)
		}
		return command(truePath).Run()
	case "literal":
		if safe {
			c = safeTwin(&Cmd{Path: truePath})
		} else {
			c = execTwin(&exec.Cmd{Path: truePath})
		}
	case "CommandContext":
		c = commandContext(context.Background(), truePath)
	case "CommandContext Cancel nil":
		c = commandContext(context.Background(), truePath)
		*c.Cancel = nil
	case "CommandContext own Cancel":
		c = commandContext(context.Background(), truePath)
		*c.Cancel = func() error { return nil }
	case "CommandContext cancelable own Cancel":
		// exec's goroutine that watches the context holds the Cmd until
		// the context is done; the helper exits first.
		var ctx context.Context
		ctx, leakCancel = context.WithCancel(context.Background())
		c = commandContext(ctx, truePath)
		*c.Cancel = func() error { return nil }
	case "CommandContext canceled own Cancel":
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c = commandContext(ctx, truePath)
		*c.Cancel = func() error { return nil }
	case "CommandContext busy":
		// Every attempt meets ETXTBSY: no exec.Cmd of a failed attempt
		// may report a leak. The process that started stays referenced.
		busy := filepath.Join(dir, "busy")
		w, err := os.OpenFile(busy, os.O_WRONLY|os.O_CREATE, 0o755)
		if err != nil {
			return err
		}
		defer w.Close()
		c = commandContext(context.Background(), busy)
		*c.Cancel = nil
		if safe {
			c.runner.(*Cmd).SetRetryBudget(10 * time.Millisecond)
		}
		if err := c.Start(); !errors.Is(err, syscall.ETXTBSY) {
			return fmt.Errorf("Start() of a file open for writing = %v, want ETXTBSY", err)
		}
		return nil
	default:
		return fmt.Errorf("unknown scenario %q", scenario)
	}
	return c.Start()
}

// TestExecwait runs each leak scenario under GODEBUG=execwait=1 and 2
// through os/exec and safeexec, in child processes, and compares how they
// end: the exit code, the panic and, with 2, the functions on the stack
// that made the Cmd, Command's and CommandContext's own taken as the same.
// Its subtests run in parallel with one another only, before the storm
// tests, so that its children slow none of those.
func TestExecwait(t *testing.T) {
	for _, sc := range leakScenarios {
		for _, godebug := range []string{"execwait=1", "execwait=2"} {
			t.Run(sc.name+"/"+godebug, func(t *testing.T) {
				t.Parallel()
				var got [2]string
				for i, pkg := range []string{"os/exec", "safeexec"} {
					c := quickHelper(t, "leak", pkg, sc.name, t.TempDir())
					c.Env = append(c.Env, "GODEBUG="+godebug)
					var stdout, stderr bytes.Buffer
					c.Stdout, c.Stderr = &stdout, &stderr
					err := c.Run()
					got[i] = fmt.Sprintf("%v\n%s%s", err, stdout.String(), leakReport(stderr.String()))
					t.Logf("%s: %v\nstdout:\n%s\nstderr:\n%s", pkg, err, stdout.String(), stderr.String())
				}
				if got[1] != got[0] {
					t.Errorf("safeexec ended:\n%s\nwant, as os/exec:\n%s", got[1], got[0])
				}
				panicked := strings.Contains(got[0], "panic: exec: Cmd started a Process but leaked")
				if panicked != sc.panic {
					t.Errorf("os/exec panicked: %v, want %v; the scenario does not test what it means to", panicked, sc.panic)
				}
				if sc.panic && godebug == "execwait=2" && !callerFirst.MatchString(got[1]) {
					t.Errorf("the stack does not start with Command and its caller, %v:\n%s", callerFirst, got[1])
				}
			})
		}
	}
}

// callerFirst matches a leak report whose stack starts with Command,
// CommandContext if it called Command, and then the caller.
var callerFirst = regexp.MustCompile(`created by:\nCommand\n(CommandContext\n)?` +
	regexp.QuoteMeta(commandFunc[:len(commandFunc)-len("Command")]) + `leakScenario\.func\d+\n`)

// leakReport returns the lines of stderr that the leak check printed: the
// panic, and with execwait=2 its heading and the names of the functions on
// the stack, the package path of Command and CommandContext dropped.
func leakReport(stderr string) string {
	var b strings.Builder
	lines := strings.Split(stderr, "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "panic: "):
			b.WriteString(l + "\n")
		case strings.HasPrefix(l, "GODEBUG=execwait=2 "):
			b.WriteString(l + "\n")
			for _, f := range lines[i+1:] {
				if f == "" {
					break
				}
				if strings.HasPrefix(f, "\t") {
					continue
				}
				name := f[:strings.LastIndexByte(f, '(')]
				if pkg, fn, _ := strings.Cut(name, ".Command"); pkg == "os/exec" || pkg == commandFunc[:len(commandFunc)-len(".Command")] {
					name = "Command" + fn
				}
				b.WriteString(name + "\n")
			}
		}
	}
	return b.String()
}

// TestGodebug checks that godebug reads GODEBUG as internal/godebug does.
// It sets the environment, so it cannot run in parallel.
func TestGodebug(t *testing.T) {
	tests := []struct{ env, want string }{
		{"", ""},
		{"execwait=2", "2"},
		{"execwait=1,execwait=2", "2"},
		{"execwait=2,execwait=", ""},
		{"execwait=0", "0"}, // exec checks only for a non-empty value
		{"execerrdot=0,execwait=1,panicnil=1", "1"},
		{"execwait=2#+abc", "2"},
		{"execwait", ""},
		{"xexecwait=1", ""},
		{"execwait=1=2", "1=2"},
	}
	for _, tt := range tests {
		t.Setenv("GODEBUG", tt.env)
		if got := godebug("execwait"); got != tt.want {
			t.Errorf("with GODEBUG=%q, godebug(%q) = %q, want %q", tt.env, "execwait", got, tt.want)
		}
	}
}
