package safeexec

// Parity with os/exec: each scenario runs through both packages and must
// log the same results, errors and texts (issue #2).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// helperTimeout bounds every helper that could otherwise wait forever, so
// that no helper outlives a failed test by long.
const helperTimeout = 20 * time.Second

func init() {
	// echo prints its arguments, as echo(1) does.
	helpers["echo"] = func(args []string) int {
		fmt.Println(strings.Join(args, " "))
		return 0
	}
	// exit writes args[1:] to stderr and exits with code args[0].
	helpers["exit"] = func(args []string) int {
		fmt.Fprint(os.Stderr, strings.Join(args[1:], " "))
		code, _ := strconv.Atoi(args[0])
		return code
	}
	// spew writes "out" to stdout and args[0] bytes to stderr, and fails.
	helpers["spew"] = func(args []string) int {
		n, _ := strconv.Atoi(args[0])
		fmt.Print("out")
		os.Stderr.Write(spewBytes(n))
		return 1
	}
	// env prints the working directory and the named variables.
	helpers["env"] = func(args []string) int {
		wd, err := os.Getwd()
		fmt.Println(wd, err)
		for _, k := range args {
			fmt.Printf("%s=%s\n", k, os.Getenv(k))
		}
		return 0
	}
	// read3 copies descriptor 3 to stdout.
	helpers["read3"] = func(args []string) int {
		if _, err := io.Copy(os.Stdout, os.NewFile(3, "fd3")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	// cat copies stdin to stdout; it gives up after helperTimeout.
	helpers["cat"] = func(args []string) int {
		time.AfterFunc(helperTimeout, func() { os.Exit(99) })
		if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
			return 1
		}
		return 0
	}
	// orphan writes "ready" to stdout, then writes to descriptor args[0]
	// (1 or 2) until the write fails, that is until nobody reads the pipe
	// any more, or until helperTimeout. A shell starts it in the background
	// and does not wait for it.
	helpers["orphan"] = func(args []string) int {
		time.AfterFunc(helperTimeout, func() { os.Exit(99) })
		fmt.Print("ready\n")
		w := os.Stdout
		if args[0] == "2" {
			w = os.Stderr
		}
		buf := bytes.Repeat([]byte("orphan\n"), 512)
		for {
			if _, err := w.Write(buf); err != nil {
				return 0
			}
		}
	}
}

// spewBytes returns n bytes of numbered lines.
func spewBytes(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %07d\n", i)
	}
	return b.Bytes()[:n]
}

// runner holds the methods that exec.Cmd and Cmd share; the parity tests
// write each scenario once against it.
type runner interface {
	Start() error
	Run() error
	Wait() error
	Output() ([]byte, error)
	CombinedOutput() ([]byte, error)
	StdinPipe() (io.WriteCloser, error)
	StdoutPipe() (io.ReadCloser, error)
	StderrPipe() (io.ReadCloser, error)
	String() string
	Environ() []string
}

// twin is a command of either package: its methods, and pointers to its
// fields (TestCmdMirrorsExec checks that the fields are the same).
type twin struct {
	runner
	Path           *string
	Args, Env      *[]string
	Dir            *string
	Stdin          *io.Reader
	Stdout, Stderr *io.Writer
	ExtraFiles     *[]*os.File
	Process        **os.Process
	ProcessState   **os.ProcessState
	Err            *error
	Cancel         *func() error
	WaitDelay      *time.Duration
}

func execTwin(c *exec.Cmd) twin {
	return twin{runner: c, Path: &c.Path, Args: &c.Args, Env: &c.Env, Dir: &c.Dir,
		Stdin: &c.Stdin, Stdout: &c.Stdout, Stderr: &c.Stderr, ExtraFiles: &c.ExtraFiles,
		Process: &c.Process, ProcessState: &c.ProcessState, Err: &c.Err,
		Cancel: &c.Cancel, WaitDelay: &c.WaitDelay}
}

func safeTwin(c *Cmd) twin {
	return twin{runner: c, Path: &c.Path, Args: &c.Args, Env: &c.Env, Dir: &c.Dir,
		Stdin: &c.Stdin, Stdout: &c.Stdout, Stderr: &c.Stderr, ExtraFiles: &c.ExtraFiles,
		Process: &c.Process, ProcessState: &c.ProcessState, Err: &c.Err,
		Cancel: &c.Cancel, WaitDelay: &c.WaitDelay}
}

// pkg makes commands of one package.
type pkg struct {
	name           string
	command        func(name string, arg ...string) twin
	commandContext func(ctx context.Context, name string, arg ...string) twin
	zero           func() twin // new(Cmd)
	helper         func(t testing.TB, name string, args ...string) twin
}

var pkgs = [2]pkg{{
	name:    "os/exec",
	command: func(name string, arg ...string) twin { return execTwin(exec.Command(name, arg...)) },
	commandContext: func(ctx context.Context, name string, arg ...string) twin {
		return execTwin(exec.CommandContext(ctx, name, arg...))
	},
	zero: func() twin { return execTwin(new(exec.Cmd)) },
	helper: func(t testing.TB, name string, args ...string) twin {
		return execTwin(helperExecCommand(t, name, args...))
	},
}, {
	name:    "safeexec",
	command: func(name string, arg ...string) twin { return safeTwin(Command(name, arg...)) },
	commandContext: func(ctx context.Context, name string, arg ...string) twin {
		return safeTwin(CommandContext(ctx, name, arg...))
	},
	zero: func() twin { return safeTwin(new(Cmd)) },
	helper: func(t testing.TB, name string, args ...string) twin {
		return safeTwin(helperCommand(t, name, args...))
	},
}}

// run is one run of a parity scenario with one package. The scenario logs
// what it sees, and the test compares the logs of both packages.
type run struct {
	*testing.T
	pkg
	dir string // fixtures shared by both runs
	log []string
}

func (r *run) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

// logState logs whether c has a Process and how it ended.
func (r *run) logState(c twin) {
	state := "<nil>"
	if ps := *c.ProcessState; ps != nil {
		state = fmt.Sprintf("%q exit code %d", ps, ps.ExitCode())
	}
	r.logf("Process set: %v; ProcessState: %s", *c.Process != nil, state)
}

// helper returns a command of r's package that runs the named helper.
func (r *run) helper(name string, args ...string) twin {
	c := r.pkg.helper(r.T, name, args...)
	*c.Env = quickExit(*c.Env)
	return c
}

// helperContext is helper with a context.
func (r *run) helperContext(ctx context.Context, name string, args ...string) twin {
	path, argv, env := helperArgs(r.T, name, args...)
	c := r.commandContext(ctx, path)
	*c.Args, *c.Env = argv, quickExit(env)
	return c
}

// quickExit returns env with the race detector's one-second sleep at exit
// turned off, for helpers run from a test binary built with -race.
func quickExit(env []string) []string {
	return append(env, strings.TrimSpace("GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE")))
}

// quickHelper is helperCommand with quickExit.
func quickHelper(t testing.TB, name string, args ...string) *Cmd {
	t.Helper()
	c := helperCommand(t, name, args...)
	c.Env = quickExit(c.Env)
	return c
}

// describe returns err's type and text and what errors.As and errors.Is
// make of it, to compare errors across packages.
func describe(err error) string {
	if err == nil {
		return "<nil>"
	}
	s := fmt.Sprintf("%T %q", err, err)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		s += fmt.Sprintf(" ExitError(code %d, Stderr %q)", ee.ExitCode(), ee.Stderr)
	}
	for _, target := range []struct {
		name string
		err  error
	}{
		{"ErrNotFound", exec.ErrNotFound}, {"ErrDot", exec.ErrDot},
		{"ErrWaitDelay", exec.ErrWaitDelay}, {"Canceled", context.Canceled},
		{"ErrNotExist", fs.ErrNotExist}, {"ErrPermission", fs.ErrPermission},
	} {
		if errors.Is(err, target.err) {
			s += " is " + target.name
		}
	}
	return s
}

// stuckWriter blocks every Write until the channel is closed, so that the
// pipe that exec copies into it fills up.
type stuckWriter chan struct{}

func (w stuckWriter) Write(p []byte) (int, error) {
	<-w
	return len(p), nil
}

// startWithOrphan starts an orphaned grandchild through c, a shell command that
// runs "$0" (the orphan helper) in the background: it gives the grandchild
// a pipe as descriptor 3 and returns a channel closed once every copy of
// that pipe is gone, that is once the grandchild has exited. release is
// closed then too.
func startWithOrphan(r *run, c twin, release stuckWriter) (gone <-chan struct{}, err error) {
	ar, aw, err := os.Pipe()
	if err != nil {
		r.Fatal(err)
	}
	*c.ExtraFiles = []*os.File{aw}
	err = c.Start()
	aw.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, ar)
		ar.Close()
		close(release)
		close(done)
	}()
	return done, err
}

// parityTests run the same scenario through os/exec and safeexec. want
// lists text the os/exec log must hold ($DIR stands for the fixture
// directory), which checks that a scenario tests what it means to.
var parityTests = []struct {
	name string
	skip string // the bug that makes safeexec differ, if any
	want []string
	run  func(r *run)
}{{
	name: "success",
	want: []string{`"hello world\n"`, `"exit status 0" exit code 0`, `"exec: Stdout already set"`},
	run: func(r *run) {
		c := r.helper("echo", "hello", "world")
		out, err := c.Output()
		r.logf("Output: %q, %s", out, describe(err))
		r.logState(c)
		_, err = c.Output()
		r.logf("Output again: %s", describe(err))
	},
}, {
	name: "non-zero exit",
	want: []string{"ExitError(code 3", `"oops"`, `"exit status 3" exit code 3`},
	run: func(r *run) {
		c := r.helper("exit", "3", "oops")
		var stderr bytes.Buffer
		*c.Stderr = &stderr
		err := c.Run()
		r.logf("Run: %s; stderr %q", describe(err), stderr.String())
		r.logState(c)
	},
}, {
	name: "missing program",
	want: []string{"is ErrNotFound", `String: "safeexec-test-no-such-program arg"`,
		`"exec: already started"`, `"exec: not started"`},
	run: func(r *run) {
		c := r.command("safeexec-test-no-such-program", "arg")
		r.logf("Err: %s; Path: %q; String: %q", describe(*c.Err), *c.Path, c.String())
		r.logf("Start: %s", describe(c.Start()))
		r.logState(c)
		r.logf("Start again: %s", describe(c.Start()))
		r.logf("Wait: %s", describe(c.Wait()))
		r.logf("Err: %s; String: %q", describe(*c.Err), c.String())
	},
}, {
	name: "missing file",
	want: []string{"no such file or directory", "is ErrNotExist"},
	run: func(r *run) {
		c := r.command(filepath.Join(r.dir, "missing"))
		r.logf("Run: %s", describe(c.Run()))
		r.logState(c)
	},
}, {
	name: "file not executable",
	want: []string{"permission denied", "is ErrPermission"},
	run: func(r *run) {
		c := r.command(filepath.Join(r.dir, "noexec"))
		r.logf("Run: %s", describe(c.Run()))
		r.logState(c)
	},
}, {
	name: "directory as Path",
	want: []string{"permission denied"},
	run: func(r *run) {
		c := r.command(r.dir)
		r.logf("Run: %s", describe(c.Run()))
		r.logState(c)
	},
}, {
	name: "empty Path",
	want: []string{`Start: *errors.errorString "exec: no command"`,
		`Err: *errors.errorString "exec: no command"`, `"exec: already started"`},
	run: func(r *run) {
		c := r.zero()
		r.logf("Err before: %s", describe(*c.Err))
		r.logf("Start: %s", describe(c.Start()))
		r.logf("Err: %s", describe(*c.Err))
		r.logState(c)
		r.logf("Start again: %s", describe(c.Start()))
		r.logf("Wait: %s", describe(c.Wait()))
	},
}, {
	name: "Start and Wait twice",
	want: []string{`Start again: *errors.errorString "exec: already started"`,
		`Wait again: *errors.errorString "exec: Wait was already called"`},
	run: func(r *run) {
		c := r.helper("echo")
		r.logf("Start: %s", describe(c.Start()))
		r.logf("Start again: %s", describe(c.Start()))
		r.logf("Wait: %s", describe(c.Wait()))
		r.logState(c)
		r.logf("Wait again: %s", describe(c.Wait()))
		r.logf("Run: %s", describe(c.Run()))
	},
}, {
	name: "Wait before Start",
	want: []string{`Wait: *errors.errorString "exec: not started"`, `Run: <nil>`},
	run: func(r *run) {
		c := r.helper("echo")
		r.logf("Wait: %s", describe(c.Wait()))
		r.logState(c)
		r.logf("Run: %s", describe(c.Run()))
	},
}, {
	name: "pipes set twice",
	want: []string{`"exec: Stdin already set"`, `"exec: Stdout already set"`,
		`"exec: Stderr already set"`, `stdout "ping" <nil>`},
	run: func(r *run) {
		c := r.helper("cat")
		stdin, err := c.StdinPipe()
		if err != nil {
			r.Fatalf("%s: StdinPipe: %v", r.name, err)
		}
		stdout, err := c.StdoutPipe()
		if err != nil {
			r.Fatalf("%s: StdoutPipe: %v", r.name, err)
		}
		stderr, err := c.StderrPipe()
		if err != nil {
			r.Fatalf("%s: StderrPipe: %v", r.name, err)
		}
		r.logf("pipe types: %T %T %T", stdin, stdout, stderr)
		_, err = c.StdinPipe()
		r.logf("StdinPipe again: %s", describe(err))
		_, err = c.StdoutPipe()
		r.logf("StdoutPipe again: %s", describe(err))
		_, err = c.StderrPipe()
		r.logf("StderrPipe again: %s", describe(err))

		r.logf("Start: %s", describe(c.Start()))
		_, err = io.WriteString(stdin, "ping")
		r.logf("write stdin: %s; Close: %s", describe(err), describe(stdin.Close()))
		out, err := io.ReadAll(stdout)
		r.logf("stdout %q %s", out, describe(err))
		errOut, err := io.ReadAll(stderr)
		r.logf("stderr %q %s", errOut, describe(err))
		r.logf("Wait: %s", describe(c.Wait()))
		_, err = stdout.Read(make([]byte, 1))
		r.logf("read stdout after Wait: %s", describe(err))
	},
}, {
	name: "pipes after Start",
	want: []string{`"exec: StdinPipe after process started"`,
		`"exec: StdoutPipe after process started"`, `"exec: StderrPipe after process started"`},
	run: func(r *run) {
		c := r.helper("echo")
		r.logf("Start: %s", describe(c.Start()))
		_, err := c.StdinPipe()
		r.logf("StdinPipe: %s", describe(err))
		_, err = c.StdoutPipe()
		r.logf("StdoutPipe: %s", describe(err))
		_, err = c.StderrPipe()
		r.logf("StderrPipe: %s", describe(err))
		r.logf("Wait: %s", describe(c.Wait()))
	},
}, {
	name: "Output and CombinedOutput with Stdout or Stderr set",
	want: []string{`Output: "" *errors.errorString "exec: Stdout already set"`,
		`CombinedOutput: "" *errors.errorString "exec: Stderr already set"`},
	run: func(r *run) {
		c := r.helper("echo")
		*c.Stdout = new(bytes.Buffer)
		out, err := c.Output()
		r.logf("Output: %q %s", out, describe(err))
		r.logState(c)

		c = r.helper("echo")
		*c.Stdout = new(bytes.Buffer)
		out, err = c.CombinedOutput()
		r.logf("CombinedOutput: %q %s", out, describe(err))

		c = r.helper("echo")
		*c.Stderr = new(bytes.Buffer)
		out, err = c.CombinedOutput()
		r.logf("CombinedOutput: %q %s", out, describe(err))
		r.logState(c)
	},
}, {
	name: "CombinedOutput",
	want: []string{`CombinedOutput: "outline 0000000\nline 00" *exec.ExitError`},
	run: func(r *run) {
		c := r.helper("spew", "20")
		out, err := c.CombinedOutput()
		r.logf("CombinedOutput: %q %s", out, describe(err))
	},
}, {
	name: "Output fills ExitError.Stderr",
	want: []string{`ExitError(code 2, Stderr "small")`, `ExitError(code 2, Stderr "")`},
	run: func(r *run) {
		c := r.helper("exit", "2", "small")
		out, err := c.Output()
		r.logf("Output: %q %s", out, describe(err))

		// Stderr set: Output leaves ExitError.Stderr alone.
		c = r.helper("exit", "2", "small")
		var stderr bytes.Buffer
		*c.Stderr = &stderr
		_, err = c.Output()
		r.logf("Output with Stderr: %s; stderr %q", describe(err), stderr.String())
	},
}, {
	name: "Output truncates ExitError.Stderr",
	want: []string{`middle "\n... omitting 34464 bytes ...\n"`,
		"starts with 32 KiB of stderr: true; ends with 32 KiB of stderr: true"},
	run: func(r *run) {
		c := r.helper("spew", "100000")
		out, err := c.Output()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || len(ee.Stderr) < 64<<10 {
			r.Fatalf("%s: Output() = %v, want an *exec.ExitError with 64 KiB of Stderr or more", r.name, err)
		}
		full, kept := spewBytes(100000), ee.Stderr
		r.logf("Output: %q; Stderr: len %d, sha256 %x", out, len(kept), sha256.Sum256(kept))
		r.logf("starts with 32 KiB of stderr: %v; ends with 32 KiB of stderr: %v; middle %q",
			bytes.HasPrefix(kept, full[:32<<10]), bytes.HasSuffix(kept, full[len(full)-32<<10:]),
			kept[32<<10:len(kept)-32<<10])
	},
}, {
	name: "Env and Dir",
	want: []string{`"$DIR/sub <nil>\nSAFEEXEC_TEST_FOO=bar\n"`},
	run: func(r *run) {
		c := r.helper("env", "SAFEEXEC_TEST_FOO")
		*c.Env = append(*c.Env, "SAFEEXEC_TEST_FOO=foo", "SAFEEXEC_TEST_FOO=bar")
		*c.Dir = filepath.Join(r.dir, "sub")
		out, err := c.Output()
		r.logf("Output: %q %s", out, describe(err))
	},
}, {
	name: "PWD from Dir",
	want: []string{`Output: "$DIR\n" <nil>`, "Environ has PWD: true"},
	run: func(r *run) {
		c := r.command("sh", "-c", `echo "$PWD"`)
		*c.Dir = r.dir
		r.logf("Environ has PWD: %v", slices.Contains(c.Environ(), "PWD="+r.dir))
		out, err := c.Output()
		r.logf("Output: %q %s", out, describe(err))
	},
}, {
	name: "ExtraFiles",
	want: []string{`Output: "extra data" <nil>`},
	run: func(r *run) {
		f, err := os.Open(filepath.Join(r.dir, "extra"))
		if err != nil {
			r.Fatal(err)
		}
		defer f.Close()
		c := r.helper("read3")
		*c.ExtraFiles = []*os.File{f}
		out, err := c.Output()
		r.logf("Output: %q %s", out, describe(err))
	},
}, {
	name: "context done before Start",
	want: []string{`Start: *errors.errorString "context canceled" is Canceled`, "Process set: false"},
	run: func(r *run) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c := r.helperContext(ctx, "echo")
		r.logf("Start: %s", describe(c.Start()))
		r.logState(c)
		r.logf("Wait: %s", describe(c.Wait()))
	},
}, {
	name: "context done while running",
	want: []string{`Wait: *exec.ExitError "signal: killed"`, `ProcessState: "signal: killed" exit code -1`},
	run: func(r *run) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := r.helperContext(ctx, "cat")
		if _, err := c.StdinPipe(); err != nil { // never closed: cat waits
			r.Fatalf("%s: StdinPipe: %v", r.name, err)
		}
		r.logf("Start: %s", describe(c.Start()))
		cancel()
		r.logf("Wait: %s", describe(c.Wait()))
		r.logState(c)
	},
}, {
	name: "Cancel returns an error",
	want: []string{`Wait: exec.wrappedError "exec: canceling Cmd: boom"`, `"exit status 0" exit code 0`},
	run: func(r *run) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := r.helperContext(ctx, "cat")
		stdin, err := c.StdinPipe()
		if err != nil {
			r.Fatalf("%s: StdinPipe: %v", r.name, err)
		}
		*c.Cancel = func() error {
			stdin.Close() // cat sees EOF and exits 0
			return errors.New("boom")
		}
		r.logf("Start: %s", describe(c.Start()))
		cancel()
		r.logf("Wait: %s", describe(c.Wait()))
		r.logState(c)
	},
}, {
	name: "WaitDelay with an orphan holding stdout",
	want: []string{`Wait: *errors.errorString "exec: WaitDelay expired before I/O complete" is ErrWaitDelay`,
		`"exit status 0" exit code 0`},
	run: func(r *run) {
		path, _, env := helperArgs(r.T, "orphan")
		c := r.command("sh", "-c", `"$0" 1 &`, path)
		*c.Env = quickExit(env)
		release := make(stuckWriter)
		*c.Stdout = release
		*c.WaitDelay = 10 * time.Millisecond
		gone, err := startWithOrphan(r, c, release)
		r.logf("Start: %s", describe(err))
		if err == nil {
			r.logf("Wait: %s", describe(c.Wait()))
		}
		<-gone
		r.logState(c)
	},
}, {
	name: "WaitDelay closes StdoutPipe after cancel",
	want: []string{`ReadAll(StdoutPipe): *fs.PathError "read |0: file already closed"`,
		`Wait: *exec.ExitError "signal: killed"`},
	run: func(r *run) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		path, _, env := helperArgs(r.T, "orphan")
		c := r.commandContext(ctx, "sh", "-c", `"$0" 2 & wait`, path)
		*c.Env = quickExit(env)
		stdout, err := c.StdoutPipe()
		if err != nil {
			r.Fatalf("%s: StdoutPipe: %v", r.name, err)
		}
		release := make(stuckWriter)
		*c.Stderr = release
		*c.WaitDelay = 10 * time.Millisecond
		gone, err := startWithOrphan(r, c, release)
		r.logf("Start: %s", describe(err))
		if err == nil {
			// Cancel only once the orphan runs, or it might never start.
			ready := make([]byte, len("ready\n"))
			_, err = io.ReadFull(stdout, ready)
			r.logf("orphan says %q %s", ready, describe(err))
			cancel()
			_, err = io.ReadAll(stdout)
			r.logf("ReadAll(StdoutPipe): %s", describe(err))
			r.logf("Wait: %s", describe(c.Wait()))
		}
		<-gone
		r.logState(c)
	},
}, {
	name: "String and Environ",
	want: []string{`String: "safeexec-test-no-such-program a b"`, `String: "/no/such/x y"`,
		`Environ: ["B=2" "A=3"`, "sh -c exit 0"},
	run: func(r *run) {
		c := r.command("sh", "-c", "exit 0")
		r.logf("String: %q", strings.TrimPrefix(c.String(), filepath.Dir(*c.Path)+"/"))
		r.logf("String: %q", r.command("safeexec-test-no-such-program", "a", "b").String())
		c = r.zero()
		*c.Path, *c.Args = "/no/such/x", []string{"x", "y"}
		*c.Env = []string{"A=1", "B=2", "A=3"}
		r.logf("String: %q; Environ: %q", c.String(), c.Environ())
		c = r.zero()
		*c.Dir = r.dir
		r.logf("Environ with Dir: %q", c.Environ())
	},
}, {
	name: "pipes end to end",
	want: []string{`ReadAll: "ping\npong\n" <nil>`, "Wait: <nil>"},
	run: func(r *run) {
		c := r.helper("cat")
		stdin, err := c.StdinPipe()
		if err != nil {
			r.Fatalf("%s: StdinPipe: %v", r.name, err)
		}
		stdout, err := c.StdoutPipe()
		if err != nil {
			r.Fatalf("%s: StdoutPipe: %v", r.name, err)
		}
		if err := c.Start(); err != nil {
			r.Fatalf("%s: Start: %v", r.name, err)
		}
		wrote := make(chan error, 1)
		go func() {
			_, err := io.WriteString(stdin, "ping\npong\n")
			stdin.Close()
			wrote <- err
		}()
		out, err := io.ReadAll(stdout)
		r.logf("ReadAll: %q %s", out, describe(err))
		r.logf("write: %s", describe(<-wrote))
		r.logf("Wait: %s", describe(c.Wait()))
		r.logState(c)
	},
}}

// TestParity runs each scenario through os/exec and safeexec and compares
// what they log: results, error texts and types, Process and ProcessState.
func TestParity(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Neither file is ever executed, so writing it cannot cause ETXTBSY.
	if err := os.WriteFile(filepath.Join(dir, "noexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "extra"), []byte("extra data"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range parityTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.skip != "" {
				t.Skip("bug: " + tt.skip)
			}
			var logs [2][]string
			for i, p := range pkgs {
				r := &run{T: t, pkg: p, dir: dir}
				tt.run(r)
				logs[i] = r.log
			}
			compareLogs(t, logs)
			got := strings.Join(logs[0], "\n")
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "$DIR", dir); !strings.Contains(got, w) {
					t.Errorf("os/exec log lacks %q; log:\n%s", w, got)
				}
			}
		})
	}
}

// compareLogs reports every line where safeexec's log differs from exec's.
func compareLogs(t *testing.T, logs [2][]string) {
	t.Helper()
	for i := range max(len(logs[0]), len(logs[1])) {
		var want, got string
		if i < len(logs[0]) {
			want = logs[0][i]
		}
		if i < len(logs[1]) {
			got = logs[1][i]
		}
		if got != want {
			t.Errorf("line %d:\nsafeexec: %s\n want (os/exec): %s", i+1, got, want)
		}
	}
}

// TestParityErrDot checks LookPath's ErrDot in both packages, and
// GODEBUG=execerrdot=0. The runtime applies a GODEBUG set with os.Setenv
// to the running process (Go 1.21 and later), so t.Setenv is enough; the
// test checks that it took effect for os/exec. It changes the directory
// and the environment, so it cannot run in parallel.
func TestParityErrDot(t *testing.T) {
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("requires the test binary's path (%v)", err)
	}
	// A link, not a copy: writing an executable is what causes ETXTBSY.
	if err := os.Symlink(exe, filepath.Join(dir, "prog")); err != nil {
		t.Skipf("requires symbolic links (%v)", err)
	}
	t.Chdir(dir)
	t.Setenv("PATH", ".")
	_, _, env := helperArgs(t, "echo")
	env = quickExit(env)

	scenario := func(r *run) {
		// Every run needs the helper's environment: without it, the test
		// binary would run all the tests again, this one included.
		c := r.command("prog", "dot")
		*c.Env = env
		r.logf("Path %q; Err: %s; String %q", *c.Path, describe(*c.Err), c.String())
		out, err := c.Output()
		r.logf("Output: %q %s", out, describe(err))

		// Clearing Err runs the program anyway, as exec documents.
		c = r.command("prog", "dot")
		*c.Err, *c.Env = nil, env
		out, err = c.Output()
		r.logf("Output with Err cleared: %q %s", out, describe(err))
	}
	check := func(t *testing.T, want []string) {
		var logs [2][]string
		for i, p := range pkgs {
			r := &run{T: t, pkg: p, dir: dir}
			scenario(r)
			logs[i] = r.log
		}
		compareLogs(t, logs)
		got := strings.Join(logs[0], "\n")
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("os/exec log lacks %q; log:\n%s", w, got)
			}
		}
	}
	t.Run("default", func(t *testing.T) {
		check(t, []string{`Err: *exec.Error "exec: \"prog\": cannot run executable found relative to current directory" is ErrDot`,
			`Output with Err cleared: "dot\n" <nil>`})
	})
	t.Run("execerrdot=0", func(t *testing.T) {
		t.Setenv("GODEBUG", "execerrdot=0")
		if err := exec.Command("prog").Err; err != nil {
			t.Fatalf("with GODEBUG=execerrdot=0, exec.Command(%q).Err = %v, want nil: the setting did not take effect in-process", "prog", err)
		}
		check(t, []string{`Err: <nil>`, `Output: "dot\n" <nil>`})
	})
}
