package safeexec

// Tests of what a crash or a power cut can leave (#13): a child writes
// through a File and is killed at chosen points, and the fsync calls of a
// Close after Sync are traced.

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

const (
	oldBody = "#!/bin/sh\nexit 7\n"
	newBody = "#!/bin/sh\n# the new program, written in two halves\nexit 0\n"
)

func init() {
	// crash-writer replaces dir/prog with newBody, says "ready" at the
	// point its first argument names and then waits to be killed. With a
	// second argument "named", the file has a temporary name.
	helpers["crash-writer"] = func(args []string) int {
		point, dir := args[0], args[1]
		forceNamed = len(args) > 2 && args[2] == "named"
		stop := func(at string) {
			if at == point {
				os.Stdout.WriteString("ready\n")
				select {} // killed here
			}
		}
		testHook = stop
		f, err := CreateExecutable(filepath.Join(dir, "prog"), 0o755)
		if err != nil {
			panic(err)
		}
		half := len(newBody) / 2
		f.WriteString(newBody[:half])
		stop("mid-write")
		f.WriteString(newBody[half:])
		stop("written")
		if err := f.Close(); err != nil {
			panic(err)
		}
		stop("closed")
		return 0
	}
	// durable-writer writes dir/prog, with Sync between two writes if its
	// argument is "sync", and closes it.
	helpers["durable-writer"] = func(args []string) int {
		f, err := CreateExecutable(filepath.Join(args[1], "prog"), 0o755)
		if err != nil {
			panic(err)
		}
		f.WriteString(newBody[:10])
		if args[0] == "sync" {
			if err := f.Sync(); err != nil {
				panic(err)
			}
		}
		f.WriteString(newBody[10:])
		if err := f.Close(); err != nil {
			panic(err)
		}
		return 0
	}
}

// TestCrash kills a writer at each point of its work, with and without a
// temporary name: the target must be the old file or the whole new one,
// and whatever else is left must be as File's documentation says: nothing
// for an unnamed file, but after its link under a temporary name, when
// the whole file is left there; and a temporary name that holds a part
// with no execute bit, or the whole file once Close has set the mode.
func TestCrash(t *testing.T) {
	for _, tt := range []struct {
		kind, point string
		target      string // what prog holds after the kill
		left        string // "", "part" (no execute bit) or "whole" (executable)
	}{
		{"unnamed", "mid-write", oldBody, ""},
		{"unnamed", "written", oldBody, ""},
		{"unnamed", "link", oldBody, ""},
		{"unnamed", "rename", oldBody, "whole"},
		{"unnamed", "installed", newBody, ""},
		{"named", "mid-write", oldBody, "part"},
		{"named", "written", oldBody, "part"},
		{"named", "link", oldBody, "whole"},
		{"named", "rename", oldBody, "whole"},
		{"named", "installed", newBody, ""},
	} {
		t.Run(tt.kind+"/"+tt.point, func(t *testing.T) {
			dir := t.TempDir()
			writeScript(t, dir, "prog", "exit 7")
			c := helperExecCommand(t, "crash-writer", tt.point, dir, tt.kind)
			out, err := c.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(out).ReadString('\n')
			c.Process.Signal(syscall.SIGKILL)
			io.Copy(io.Discard, out)
			c.Wait()
			if line != "ready\n" {
				t.Fatalf("the writer never reached %s: %q", tt.point, line)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "prog")); err != nil || string(b) != tt.target {
				t.Errorf("after a kill at %s, prog holds %q, %v; want %q", tt.point, b, err, tt.target)
			}
			ents, _ := os.ReadDir(dir)
			var left []string
			for _, e := range ents {
				if e.Name() == "prog" {
					continue
				}
				left = append(left, e.Name())
				fi, _ := e.Info()
				b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				whole := string(b) == newBody && fi.Mode()&0o111 != 0
				part := strings.HasPrefix(newBody, string(b)) && fi.Mode()&0o111 == 0
				if !strings.HasPrefix(e.Name(), ".prog.safeexec-") ||
					tt.left == "whole" && !whole || tt.left == "part" && !part {
					t.Errorf("left %s, mode %v, holding %q; want a temporary name holding the %s file", e.Name(), fi.Mode(), b, tt.left)
				}
			}
			if want := map[bool]int{true: 1}[tt.left != ""]; len(left) != want {
				t.Errorf("left %q beside prog, want %d temporary files", left, want)
			}
		})
	}
}

// TestDurable traces a writer's fsync calls: with Sync, Close must sync
// the file again before it links or renames it in, and the directory
// after; without Sync, nothing is synced (#13).
func TestDurable(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skipf("requires strace, Debian's package of that name (%v)", err)
	}
	for _, mode := range []string{"sync", "nosync"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			trace := filepath.Join(t.TempDir(), "trace")
			path, argv, env := helperArgs(t, "durable-writer", mode, dir)
			c := exec.Command(strace, append([]string{"-f", "-y", "-o", trace,
				"-e", "trace=fsync,fdatasync,linkat,renameat,renameat2", path}, argv[1:]...)...)
			c.Env = env
			if out, err := c.CombinedOutput(); err != nil {
				t.Skipf("requires strace to trace the test binary (%v: %s)", err, out)
			}
			b, err := os.ReadFile(trace)
			if err != nil {
				t.Fatal(err)
			}
			// Each call in order: "file" for a sync of the file, "dir" for
			// one of the directory, "install" for the link or rename of
			// the file to prog.
			var calls []string
			// A call another thread interrupted ends in "<unfinished ...>";
			// the helper panics on any failure, so every call counts.
			call := regexp.MustCompile(`(?m)^\d+ +(fsync|fdatasync|linkat|renameat2?)\((.*?)(\) += 0$| <unfinished)`)
			for _, m := range call.FindAllStringSubmatch(string(b), -1) {
				switch {
				case m[1] == "fsync" && strings.Contains(m[2], "<"+dir+">"):
					calls = append(calls, "dir")
				case m[1] == "fsync" || m[1] == "fdatasync":
					calls = append(calls, "file")
				case strings.Contains(m[2], `"prog"`):
					calls = append(calls, "install")
				}
			}
			want := "file file install dir"
			if mode == "nosync" {
				want = "install"
			}
			if got := strings.Join(calls, " "); got != want {
				t.Errorf("syncs and installs in order: %q, want %q\ntrace:\n%s", got, want, b)
			}
		})
	}
}
