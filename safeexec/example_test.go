package safeexec_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/forkgate/forkgate/safeexec"
)

func ExampleCommand() {
	out, err := safeexec.Command("sh", "-c", "echo hello").Output()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", out)
	// Output: hello
}

func ExampleCommandContext() {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	// The context kills the shell when it expires.
	err := safeexec.CommandContext(ctx, "sh", "-c", "while :; do :; done").Run()
	fmt.Println(err)
	// Output: signal: killed
}

func ExampleCmd_Run() {
	cmd := safeexec.Command("sh", "-c", "exit 3")
	err := cmd.Run()

	// The error types are os/exec's own.
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		fmt.Println("exit code", exitErr.ExitCode())
	}
	// Output: exit code 3
}

// WriteExecutable writes a file that can be run as soon as it returns, even
// while other goroutines are starting commands.
func ExampleWriteExecutable() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	stub := filepath.Join(dir, "stub")
	if err := safeexec.WriteExecutable(stub, []byte("#!/bin/sh\necho stub says $1\n"), 0o755); err != nil {
		log.Fatal(err)
	}
	out, err := safeexec.Command(stub, "hi").Output()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", out)
	// Output: stub says hi
}

// CreateExecutable streams a file into place, here a copy of another
// executable.
func ExampleCreateExecutable() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	truePath, err := safeexec.LookPath("true")
	if err != nil {
		log.Fatal(err)
	}
	src, err := os.Open(truePath)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()

	f, err := safeexec.CreateExecutable(filepath.Join(dir, "mytrue"), 0o755)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Abort() // discards the file unless Close installed it
	if _, err := io.Copy(f, src); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(safeexec.Command(f.Name()).Run())
	// Output: <nil>
}

// A program that wrote an executable with os.OpenFile, patched its header
// with WriteAt, set its mode with Chmod, closed it and ran it with os/exec
// moves to safeexec by changing the import of os/exec to safeexec, and
// os.OpenFile to CreateExecutable; the *File takes the same calls. Close
// then installs the file, with the mode Chmod set, once it can be run.
func ExampleCreateExecutable_patch() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "tool")

	// Was: f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o755)
	f, err := safeexec.CreateExecutable(name, 0o755)
	if err != nil {
		log.Fatal(err)
	}
	// The header holds the body's size, known only once the body is written.
	const header = "#!/bin/sh\n# body: ????\n"
	if _, err := f.Write([]byte(header)); err != nil {
		log.Fatal(err)
	}
	n, err := f.WriteString("echo tool: ran\n")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(fmt.Sprintf("%4d", n)), int64(len(header)-5)); err != nil {
		log.Fatal(err)
	}
	if err := f.Chmod(0o700); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}

	// Was: exec.Command, from os/exec.
	out, err := safeexec.Command(name).Output()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", out)
}

// setTerminal configures the command it is given and starts nothing, as
// SetCtty of a pty package does: it passes tty to the command as
// descriptor 3. (SetCtty also sets SysProcAttr, whose fields differ
// between systems.)
func setTerminal(cmd *exec.Cmd, tty *os.File) {
	cmd.ExtraFiles = []*os.File{tty}
}

// startOnTerminal configures the command it is given and starts it, as
// Start of a pty package does.
func startOnTerminal(cmd *exec.Cmd, tty *os.File) error {
	setTerminal(cmd, tty)
	return cmd.Start()
}

// Functions written for os/exec take an *exec.Cmd. One that only
// configures the command works on a Cmd through Configure, and the Cmd
// starts through the fork gate. One that also starts the command needs an
// exec.Cmd of its own, which starts with neither gate nor retry: what it
// runs is protected only if it was written with WriteExecutable or
// CreateExecutable.
func ExampleCmd_Configure() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Protected: WriteExecutable returns once no child holds the stub open
	// for writing, whoever started that child, so whoever starts the stub
	// does not meet ETXTBSY because of this write. (Where the kernel grants
	// no read lease, a child may let go a moment after Close sees it go, a
	// rare failure that only this package's Start retries; see the package
	// documentation.)
	stub := filepath.Join(dir, "stub")
	if err := safeexec.WriteExecutable(stub, []byte("#!/bin/sh\necho \"$1\" >&3\n"), 0o755); err != nil {
		log.Fatal(err)
	}
	r, tty, err := os.Pipe() // a pipe stands in for the terminal
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	// A function that configures: lend it the Cmd as an exec.Cmd.
	cmd := safeexec.Command(stub, "configured")
	cmd.Configure(func(x *exec.Cmd) { setTerminal(x, tty) })
	if err := cmd.Run(); err != nil {
		log.Fatal(err)
	}

	// A function that starts the command: give it an exec.Cmd. Not
	// protected: a file written some other way (with os.WriteFile, say)
	// and started here can fail with ETXTBSY while another goroutine
	// starts a command.
	xcmd := exec.Command(stub, "started by the function")
	if err := startOnTerminal(xcmd, tty); err != nil {
		log.Fatal(err)
	}
	if err := xcmd.Wait(); err != nil {
		log.Fatal(err)
	}

	tty.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", out)
	// Output:
	// configured
	// started by the function
}

// ReadStats shows what the gate has done, for logs or metrics.
func ExampleReadStats() {
	before := safeexec.ReadStats()
	for range 3 {
		if err := safeexec.Command("true").Run(); err != nil {
			log.Fatal(err)
		}
	}
	after := safeexec.ReadStats()
	fmt.Println("starts:", after.Starts-before.Starts)
	fmt.Println("slow paths:", after.SlowPaths-before.SlowPaths)
	// Output:
	// starts: 3
	// slow paths: 0
}

// Stats prints as one line, for a log at the end of a test run or a
// program.
func ExampleStats_String() {
	s := safeexec.Stats{Starts: 1200, SlowPaths: 3, SlowPathTime: 2123456 * time.Nanosecond, LeaseCloses: 40}
	fmt.Println(s)
	// Output:
	// starts=1200 retried=3 (2.12ms) gave-up=0 closes: lease=40 flock=0 pipe=0 unchecked=0 waited=0 (0s)
}
