// Package safeexec runs external commands like [os/exec], and makes an
// executable that the program has just written start reliably, without
// the "text file busy" (ETXTBSY) errors that os/exec gives now and then
// when other goroutines start commands at the same moment.
//
// Call [Command] and [CommandContext] as in os/exec: [Cmd], [LookPath] and
// the errors behave as exec's do, and the error types are exec's own, so
// [errors.As] and [errors.Is] work with either package. Import this package
// under the name exec; code that hands an *exec.Cmd to a function is the
// exception, since [Cmd] is a type of its own. A function that configures
// an *exec.Cmd configures a Cmd through [Cmd.Configure]; for one that
// starts it, keep os/exec for that call.
//
// The import swap alone protects a file when every run of it goes through
// a safeexec Start. When anything else may run it (a shell script, another
// process, plain os/exec, a library that keeps its own *exec.Cmd), write it
// with [WriteExecutable] or [CreateExecutable]. The reason: a safeexec
// Start retries ETXTBSY, but only for itself, while the writers' Close
// returns only once nobody holds the file open for writing, so any runner
// can start it. The repository's cmd/safeexecfix makes both changes in a
// code base, run by go fix, and reports what it leaves to the user.
//
// WriteExecutable is the [os.WriteFile] of executables; CreateExecutable
// streams one, and [File.Close] installs it (the section below says where
// Close's promise ends).
//
// [SetRetryBudget] bounds the retries and waits, [SetGlobalGate] keeps the
// Go runtime's forks from copying a file being written, at a cost described
// there, and [ReadStats] tells what the package has done.
//
// The examples assume Linux.
//
// # How it works
//
// Starting a command forks the process, and the child holds a copy of every
// descriptor, the one still writing an executable included, until it reaches
// execve. The kernel refuses to run a file that anyone holds open for
// writing, so running the file in that window fails with ETXTBSY; see
// https://go.dev/issue/22315.
//
// A [File] writes the executable unnamed, or under a hidden temporary name
// without execute bits, and Close moves it into place. Before Close returns
// nil it waits until nobody holds the file open for writing: on Linux it
// asks the kernel by taking a read lease for a moment, which is granted only
// then. Where no lease can be had, it waits until no child of this process
// holds a copy (with flock, or a close-on-exec pipe); where nothing can
// vouch for the file, Close fails.
//
// Every Start holds the shared side of one process-wide gate while it
// starts its command, so Starts run side by side. A Start that meets
// ETXTBSY (a file written some other way, say) takes the exclusive side for
// its first retry: that waits for the Starts in flight to finish starting
// (their children may hold the file) and holds off new ones until that
// attempt ends. Later retries take the shared side again, after growing
// sleeps (25µs to 50ms), until the retry budget or its context ends.
// Writers never take the gate. Each attempt is a fresh exec.Cmd, and a
// failed one never ran any user code, so a retry never runs a command
// twice. A file that another process keeps open for writing makes Start
// give up, and Close fail, when the budget runs out.
//
// The repository's docs/how-it-works.md tells the rest, with the
// filesystems and what each guarantees.
package safeexec

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// Cmd represents an external command being prepared or run. Its exported
// fields are those of [exec.Cmd] and mean the same; see there for each.
// [Cmd.Configure] lends them, as an exec.Cmd, to code written for os/exec.
//
// A Cmd cannot be reused after calling its [Cmd.Start], [Cmd.Run],
// [Cmd.Output] or [Cmd.CombinedOutput] methods. A zero Cmd with Path set
// is ready to use, as an exec.Cmd is.
type Cmd struct {
	// Path is the path of the command to run. It is the only field that
	// must be set. If Path is relative, it is evaluated relative to Dir.
	Path string

	// Args holds command line arguments, including the command as Args[0].
	// If Args is empty or nil, Run uses {Path}.
	Args []string

	// Env specifies the environment of the process, as "key=value"
	// entries. If Env is nil, the process uses the current process's
	// environment, with PWD set from Dir on Unix.
	Env []string

	// Dir specifies the working directory of the command. If Dir is
	// empty, the command runs in the calling process's current directory.
	Dir string

	// Stdin specifies the process's standard input. If nil, the process
	// reads from the null device. An *os.File is connected directly;
	// any other reader is copied to the process over a pipe.
	Stdin io.Reader

	// Stdout and Stderr specify the process's standard output and error.
	// If nil, they go to the null device. An *os.File is connected
	// directly; any other writer is fed from a pipe by a goroutine, and
	// Wait waits for it.
	Stdout io.Writer
	Stderr io.Writer

	// ExtraFiles specifies additional open files to be inherited by the
	// new process. If non-nil, entry i becomes file descriptor 3+i.
	// ExtraFiles is not supported on Windows.
	ExtraFiles []*os.File

	// SysProcAttr holds optional, operating system-specific attributes,
	// passed to [os.StartProcess].
	SysProcAttr *syscall.SysProcAttr

	// Process is the underlying process, once started.
	Process *os.Process

	// ProcessState contains information about an exited process. Wait or
	// Run sets it when the command completes.
	ProcessState *os.ProcessState

	Err error // LookPath error, if any.

	// Cancel, if non-nil, is called when the command's Context is done.
	// The command must have been created with CommandContext, which sets
	// Cancel to kill the command's Process. Cancel is not called if Start
	// fails, and when it is called, Process is already set.
	Cancel func() error

	// WaitDelay, if non-zero, bounds the time Wait spends on a child that
	// does not exit after its Context is done and on I/O pipes that stay
	// open after the child exits; see [exec.Cmd.WaitDelay].
	WaitDelay time.Duration

	ctx         context.Context
	startCalled int32       // not atomic.Bool, which vet's copylocks flags (go.dev/issue/77075)
	run         *exec.Cmd   // the attempt that started, for Wait
	lent        []*exec.Cmd // lent by Configure, to share Process with; see configure.go

	// The pipes made by StdinPipe, StdoutPipe and StderrPipe belong to
	// the Cmd, not to an attempt: exec.Cmd closes its own pipes when its
	// Start fails, and a retried attempt must find them open.
	childIOFiles  []io.Closer // closed when Start returns
	parentIOPipes []io.Closer // closed by Wait, or when Start fails

	budget    time.Duration // retry budget for ETXTBSY, if hasBudget
	hasBudget bool

	waitDone chan struct{} // closed by Wait, if closePipesAfterDelay runs
	copying  *copies       // exec's copies, for closePipesAfterDelay

	// Under GODEBUG=execwait, set by Command: see execwait.go.
	leakCheck      bool
	createdByStack []byte // with execwait=2, the stack of Command's caller
}

// Aliases for exec's types and errors, so that errors.As and errors.Is
// give the same answers whichever package produced an error.
type (
	// Error is returned by LookPath when it fails to classify a file as
	// an executable. It is [exec.Error].
	Error = exec.Error

	// ExitError reports an unsuccessful exit by a command. It is
	// [exec.ExitError].
	ExitError = exec.ExitError
)

var (
	// ErrNotFound is the error resulting if a path search failed to find
	// an executable file. It is [exec.ErrNotFound].
	ErrNotFound = exec.ErrNotFound

	// ErrDot indicates that a path lookup resolved to an executable in the
	// current directory. It is [exec.ErrDot]; use errors.Is to test for it.
	ErrDot = exec.ErrDot

	// ErrWaitDelay is returned by Wait if the process exits with a
	// successful status code but its output pipes are not closed before
	// the command's WaitDelay expires. It is [exec.ErrWaitDelay].
	ErrWaitDelay = exec.ErrWaitDelay
)

// LookPath searches for an executable named file in the directories named
// by the PATH environment variable. It is [exec.LookPath].
func LookPath(file string) (string, error) {
	return exec.LookPath(file)
}

// Command returns the [Cmd] struct to execute the named program with the
// given arguments. It resolves name exactly as [exec.Command] does, with
// [LookPath] when name contains no path separator, and sets only Path,
// Args and, if the lookup failed, Err.
//
// As with exec, under GODEBUG=execwait=1 or 2 the returned Cmd panics when
// it is collected after a successful Start without a call to Wait; with 2,
// it first prints the stack of the call to Command that made it.
func Command(name string, arg ...string) *Cmd {
	x := exec.Command(name, arg...) // never started, so never seen as leaked
	c := &Cmd{Path: x.Path, Args: x.Args, Err: x.Err}
	c.noteCreator()
	return c
}

// CommandContext is like [Command] but includes a context, as
// [exec.CommandContext] does: the context interrupts the process (by
// calling Cancel, which by default kills the Process) if it becomes done
// before the command completes on its own. The context also ends the
// retries of a Start that meets ETXTBSY.
//
// As with exec, the GODEBUG=execwait check that Command describes never
// fires for a Cmd whose Cancel refers to the Cmd, as the default Cancel
// does: the runtime does not collect it.
func CommandContext(ctx context.Context, name string, arg ...string) *Cmd {
	if ctx == nil {
		panic("nil Context")
	}
	c := Command(name, arg...)
	c.ctx = ctx
	c.Cancel = func() error {
		return c.Process.Kill()
	}
	return c
}

// SetRetryBudget sets how long a Start of c may keep retrying when the
// executable is busy (ETXTBSY), overriding the process-wide budget set by
// the package-level [SetRetryBudget]. Zero allows only the one retry under
// the gate's exclusive side. It must be called before Start and panics if
// d is negative.
func (c *Cmd) SetRetryBudget(d time.Duration) {
	if d < 0 {
		panic("safeexec: negative retry budget")
	}
	c.budget, c.hasBudget = d, true
}

// String returns a human-readable description of c, as
// [exec.Cmd.String] does. It is intended only for debugging.
func (c *Cmd) String() string {
	// Only the fields exec's String reads: Start or Output may be writing
	// the others (go.dev/issue/62596).
	return (&exec.Cmd{Path: c.Path, Args: c.Args, Err: c.Err}).String()
}

// Environ returns a copy of the environment in which the command would be
// run as it is currently configured, as [exec.Cmd.Environ] does.
func (c *Cmd) Environ() []string {
	return (&exec.Cmd{Path: c.Path, Env: c.Env, Dir: c.Dir, SysProcAttr: c.SysProcAttr}).Environ()
}

// Run starts the command and waits for it to complete, as [exec.Cmd.Run]
// does. A Start that meets ETXTBSY is retried; see [Cmd.Start].
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Start starts the command but does not wait for it to complete, as
// [exec.Cmd.Start] does. If Start returns successfully, c.Process is set,
// and [Cmd.Wait] must be called to release the command's resources.
//
// Start differs from exec's only when starting fails with ETXTBSY: it then
// retries with a fresh attempt, as the package documentation describes,
// and its error, if it gives up, wraps the last attempt's error.
func (c *Cmd) Start() error {
	// As in exec, a second Start fails even if the first did not start a
	// process, and it must not close the pipes of the first.
	if atomic.SwapInt32(&c.startCalled, 1) != 0 {
		return errors.New("exec: already started")
	}
	started := false
	defer func() {
		closeAll(c.childIOFiles)
		c.childIOFiles = nil
		if !started {
			closeAll(c.parentIOPipes)
			c.parentIOPipes = nil
		}
	}()

	x, err := c.startGated()
	if err != nil {
		return err
	}
	c.run = x
	started = true
	if c.copying != nil {
		c.waitDone = make(chan struct{})
		go closePipesAfterDelay(c.ctx, c.WaitDelay, c.parentIOPipes, c.waitDone, c.copying)
	}
	return nil
}

// configure copies c's configuration into x and returns x.
func (c *Cmd) configure(x *exec.Cmd) *exec.Cmd {
	x.Path, x.Args, x.Err = c.Path, c.Args, c.Err
	x.Env, x.Dir, x.SysProcAttr, x.WaitDelay = c.Env, c.Dir, c.SysProcAttr, c.WaitDelay
	x.Stdin, x.Stdout, x.Stderr, x.ExtraFiles = c.Stdin, c.Stdout, c.Stderr, c.ExtraFiles
	return x
}

// attempt makes one start attempt with a fresh exec.Cmd, so that it can be
// repeated: an exec.Cmd cannot be started twice, even after a failed Start.
// It is the one place where a process is started, and the gate wraps it.
func (c *Cmd) attempt() (*exec.Cmd, error) {
	var x *exec.Cmd
	if c.ctx != nil {
		// CommandContext is the only way to give an exec.Cmd a context.
		// An empty name skips LookPath (filepath.Base("") is "."); configure
		// replaces everything it sets but Cancel, set below.
		x = c.configure(exec.CommandContext(c.ctx, ""))
		// Under GODEBUG=execwait, exec gave x a finalizer that names this
		// line; checkLeak, below, names the caller of Command instead.
		runtime.SetFinalizer(x, nil)
	} else {
		x = c.configure(new(exec.Cmd))
	}
	x.Cancel = nil
	var copying *copies
	if c.ctx != nil && c.WaitDelay > 0 && len(c.parentIOPipes) > 0 {
		copying = countCopies(x)
	}
	var started chan struct{}
	if cancel := c.Cancel; cancel != nil {
		// exec may call Cancel as soon as its Start returns; the user's
		// Cancel reads c.Process, which is set after that.
		started = make(chan struct{})
		x.Cancel = func() error {
			<-started
			return cancel()
		}
	}
	err := x.Start()
	if c.Path == "" && c.Err == nil {
		c.Err = x.Err // exec sets Err for an empty Path, and only then
	}
	if err != nil {
		return nil, err
	}
	c.Process = x.Process
	c.shareProcess(x.Process)
	c.copying = copying
	if started != nil {
		close(started)
	}
	c.checkLeak(x)
	return x, nil
}

// Wait waits for the command to exit and for any copying to stdin or from
// stdout or stderr to complete, as [exec.Cmd.Wait] does. The command must
// have been started by [Cmd.Start]. Wait releases any resources associated
// with the Cmd.
func (c *Cmd) Wait() error {
	if c.Process == nil || c.run == nil {
		return errors.New("exec: not started")
	}
	if c.ProcessState != nil {
		return errors.New("exec: Wait was already called")
	}
	if c.copying != nil && c.ctx.Err() == nil {
		c.copying.closeDups() // exec's Wait may close its pipes; see closeDups
	}
	err := c.run.Wait()
	c.ProcessState = c.run.ProcessState
	closeAll(c.parentIOPipes)
	c.parentIOPipes = nil
	if c.waitDone != nil {
		close(c.waitDone)
		c.copying.closeDups() // after the Cmd's pipes, as exec orders them
	}
	return err
}

// Output runs the command and returns its standard output, as
// [exec.Cmd.Output] does. If c.Stderr was nil and the error is an
// [*ExitError], its Stderr field holds the start and end of the command's
// standard error.
func (c *Cmd) Output() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	var stdout bytes.Buffer
	c.Stdout = &stdout

	captureErr := c.Stderr == nil
	if captureErr {
		c.Stderr = &prefixSuffixSaver{N: 32 << 10}
	}
	err := c.Run()
	if ee, ok := err.(*ExitError); ok && captureErr {
		ee.Stderr = c.Stderr.(*prefixSuffixSaver).Bytes()
	}
	return stdout.Bytes(), err
}

// CombinedOutput runs the command and returns its combined standard output
// and standard error, as [exec.Cmd.CombinedOutput] does.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	if c.Stderr != nil {
		return nil, errors.New("exec: Stderr already set")
	}
	var b bytes.Buffer
	c.Stdout = &b
	c.Stderr = &b
	err := c.Run()
	return b.Bytes(), err
}

// StdinPipe returns a pipe that will be connected to the command's
// standard input when the command starts, as [exec.Cmd.StdinPipe] does.
// Wait closes it after the command exits; a caller need only call Close
// to make the command see end of input sooner.
func (c *Cmd) StdinPipe() (io.WriteCloser, error) {
	if c.Stdin != nil {
		return nil, errors.New("exec: Stdin already set")
	}
	if c.Process != nil {
		return nil, errors.New("exec: StdinPipe after process started")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.Stdin = pr
	c.childIOFiles = append(c.childIOFiles, pr)
	c.parentIOPipes = append(c.parentIOPipes, pw)
	return pw, nil
}

// StdoutPipe returns a pipe that will be connected to the command's
// standard output when the command starts, as [exec.Cmd.StdoutPipe] does.
// Wait closes it after the command exits, so all reads must be done
// before Wait is called, and Run must not be used with it.
func (c *Cmd) StdoutPipe() (io.ReadCloser, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	if c.Process != nil {
		return nil, errors.New("exec: StdoutPipe after process started")
	}
	pr, pw, err := c.outputPipe()
	if err != nil {
		return nil, err
	}
	c.Stdout = pw
	return pr, nil
}

// StderrPipe returns a pipe that will be connected to the command's
// standard error when the command starts, as [exec.Cmd.StderrPipe] does.
// Wait closes it after the command exits, so all reads must be done
// before Wait is called, and Run must not be used with it.
func (c *Cmd) StderrPipe() (io.ReadCloser, error) {
	if c.Stderr != nil {
		return nil, errors.New("exec: Stderr already set")
	}
	if c.Process != nil {
		return nil, errors.New("exec: StderrPipe after process started")
	}
	pr, pw, err := c.outputPipe()
	if err != nil {
		return nil, err
	}
	c.Stderr = pw
	return pr, nil
}

// outputPipe makes a pipe whose write end goes to the child.
func (c *Cmd) outputPipe() (pr, pw *os.File, err error) {
	pr, pw, err = os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	c.childIOFiles = append(c.childIOFiles, pw)
	c.parentIOPipes = append(c.parentIOPipes, pr)
	return pr, pw, nil
}

func closeAll(closers []io.Closer) {
	for _, f := range closers {
		f.Close()
	}
}
