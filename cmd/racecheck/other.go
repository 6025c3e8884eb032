package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// The other runner of S5: a separate process, racecheck itself, that runs
// each file it is sent with plain os/exec and does not retry, as a program
// that a writer hands its files to would.

// otherRunnerEnv marks the process as the other runner.
const otherRunnerEnv = "RACECHECK_OTHER_RUNNER"

// otherRunner is racecheck's end of the other runner.
type otherRunner struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	waited bool
	err    error // how the process ended, once waited
}

// startOtherRunner starts the other runner; the end of ctx kills it.
func startOtherRunner(ctx context.Context) (*otherRunner, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := exec.CommandContext(ctx, exe)
	c.Env = append(os.Environ(), otherRunnerEnv+"=1")
	in, err := c.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := c.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, err
	}
	o := &otherRunner{cmd: c, in: in, out: bufio.NewReader(out)}
	// Wait until it is ready, so that its start does not count as a cycle.
	if _, err := o.out.ReadString('\n'); err != nil {
		return nil, o.ended(err)
	}
	return o, nil
}

// run has the other runner run path, and returns the error it met.
func (o *otherRunner) run(_ context.Context, path string) error {
	if o.waited {
		return o.ended(nil)
	}
	if _, err := fmt.Fprintln(o.in, path); err != nil {
		return o.ended(err)
	}
	line, err := o.out.ReadString('\n')
	if err != nil {
		return o.ended(err)
	}
	kind, msg, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
	if kind == "" {
		return nil
	}
	return &remoteError{kind: kind, msg: "the other runner: " + msg}
}

// ended returns why the other runner stopped answering: how it ended, if
// it failed, or err.
func (o *otherRunner) ended(err error) error {
	if werr := o.stop(); werr != nil {
		return fmt.Errorf("the other runner: %w", werr)
	}
	return errors.Join(err, errors.New("the other runner exited"))
}

// stop ends the other runner and returns how it ended.
func (o *otherRunner) stop() error {
	if !o.waited {
		o.in.Close()
		o.err, o.waited = o.cmd.Wait(), true
	}
	return o.err
}

// runOtherRunner is the other runner: it says it is ready, then runs each
// path read from standard input, with plain os/exec, and answers each with
// a line, empty if the run succeeded, or the error's kind and text. It returns the exit
// status.
func runOtherRunner() int {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	out.Flush()
	for in.Scan() {
		if err := exec.Command(in.Text()).Run(); err != nil {
			msg := strings.ReplaceAll(err.Error(), "\n", " ")
			fmt.Fprintf(out, "%s\t%s\n", errorKind(err), msg)
		} else {
			fmt.Fprintln(out)
		}
		if err := out.Flush(); err != nil {
			return 1
		}
	}
	return 0
}
