package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// adopter is a small module in the shape the fixer meets in the wild: a
// main package that writes a tool and runs it, a helper package written
// for os/exec that configures a command and one that starts it, a package
// that hands its command to that starter, and a test helper that writes a
// fake tool.
var adopter = map[string]string{
	"go.mod": `module example.com/adopter

go 1.26.0

require github.com/forkgate/forkgate v0.0.0

replace github.com/forkgate/forkgate => REPO
`,
	"ptyutil/ptyutil.go": `// Package ptyutil is written for os/exec, as pty packages are.
package ptyutil

import (
	"os"
	"os/exec"
	"syscall"
)

// Setctty makes tty the command's controlling terminal.
func Setctty(cmd *exec.Cmd, tty *os.File) {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
}

// Start starts the command on tty.
func Start(cmd *exec.Cmd, tty *os.File) error {
	Setctty(cmd, tty)
	return cmd.Start()
}
`,
	"main.go": `package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"example.com/adopter/ptyutil"
)

func main() {
	name := filepath.Join(os.TempDir(), "adopter-tool")
	if err := os.WriteFile(name, []byte("#!/bin/sh\necho ok\n"), 0o755); err != nil {
		panic(err)
	}
	cmd := exec.Command(name)
	ptyutil.Setctty(cmd, os.Stdin)
	out, err := cmd.Output()
	var exitErr *exec.ExitError
	fmt.Println(string(out), err, exitErr)
}
`,
	"main_test.go": `package main

import (
	"os"
	"path/filepath"
	"testing"
)

func fakeTool(t *testing.T) string {
	name := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(name, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestTool(t *testing.T) { _ = fakeTool(t) }
`,
	"shell/shell.go": `package shell

import (
	"os"
	"os/exec"

	"example.com/adopter/ptyutil"
)

func run() error {
	return ptyutil.Start(exec.Command("sh"), os.Stdin)
}
`,
}

// TestGoFix builds the fixer, runs go fix -fixtool with it on a module in
// a temporary directory, then builds, vets and gofmt-checks the module.
func TestGoFix(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fixer and runs the go command")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tool := filepath.Join(t.TempDir(), "safeexecfix")
	gocmd(t, ".", "build", "-o", tool, ".")

	dir := t.TempDir()
	for name, text := range adopter {
		write(t, filepath.Join(dir, name), strings.ReplaceAll(text, "REPO", repo))
	}
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.sum"), string(sum)) // forkgate's own requirements, so nothing is fetched

	vet, err := gocmdErr(dir, "vet", "-vettool="+tool, "./...")
	if err == nil {
		t.Errorf("go vet -vettool succeeded before the fix; want it to report:\n%s", vet)
	}
	for _, want := range []string{
		"main.go:6:2: os/exec can be replaced by safeexec",
		"main.go:14:12: os.WriteFile writes an executable",
		"main.go:18:2: ptyutil.Setctty takes an *exec.Cmd",
		"main_test.go:11:12: os.WriteFile writes an executable",
		"shell.go:11:23: cannot use exec.Command(\"sh\") (value of type *safeexec.Cmd) as *exec.Cmd value in argument to ptyutil.Start after the move to safeexec",
		"ptyutil.go:11:6: exported function ptyutil.Setctty involves *exec.Cmd",
	} {
		if !strings.Contains(vet, want) {
			t.Errorf("go vet -vettool printed\n%s\nwant a line containing %q", vet, want)
		}
	}

	// The exit status of go fix -diff is the go command's, not the tool's:
	// Go 1.26.0 exits 0 with a diff, where Go 1.26.8 exits 1.
	diff, err := gocmdErr(dir, "fix", "-diff", "-fixtool="+tool, "./...")
	if !strings.Contains(diff, "+\texec \"github.com/forkgate/forkgate/safeexec\"") {
		t.Errorf("go fix -diff: %v; want the import in the diff:\n%s", err, diff)
	}
	gocmd(t, dir, "fix", "-fixtool="+tool, "./...")
	gocmd(t, dir, "build", "./...")
	gocmd(t, dir, "vet", "./...")
	if out, err := exec.Command("gofmt", "-l", dir).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("gofmt -l after the fix: %s %v", out, err)
	}
	main := read(t, filepath.Join(dir, "main.go"))
	for _, want := range []string{
		"\t\"os\"\n\tosexec \"os/exec\"\n\t\"path/filepath\"\n\n\t\"example.com/adopter/ptyutil\"\n\texec \"github.com/forkgate/forkgate/safeexec\"\n)",
		"exec.WriteExecutable(name,",
		"cmd.Configure(func(x *osexec.Cmd) { ptyutil.Setctty(x, os.Stdin) })",
	} {
		if !strings.Contains(main, want) {
			t.Errorf("main.go after the fix:\n%s\nwant it to contain %q", main, want)
		}
	}
	if test := read(t, filepath.Join(dir, "main_test.go")); !strings.Contains(test, "safeexec.WriteExecutable(name,") {
		t.Errorf("main_test.go after the fix:\n%s\nwant safeexec.WriteExecutable", test)
	}
	if shell := read(t, filepath.Join(dir, "shell/shell.go")); !strings.Contains(shell, "\"os/exec\"") {
		t.Errorf("shell.go after the fix:\n%s\nwant it to keep os/exec", shell)
	}
}

// gocmd runs the go command in dir, offline and outside any workspace.
func gocmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gocmdErr(dir, args...)
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func gocmdErr(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	if dir != "." {
		cmd.Env = append(cmd.Env, "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off")
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func write(t *testing.T, name, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
