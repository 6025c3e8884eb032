package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// quickArgs make a run of a second or so that reaches a verdict.
var quickArgs = []string{"-scenarios", "s1,s2", "-strategies", "exec", "-cycles", "10", "-rounds", "2"}

// quickConfig returns the configuration of quickArgs, in a temporary
// directory.
func quickConfig(t *testing.T) *config {
	t.Helper()
	cfg, err := parseFlags(append(quickArgs, "-dir", t.TempDir()), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestProgressNotTerminal runs racecheck with its output going to a file
// and to a pipe, stdout and stderr together as 2>&1 makes them, and
// checks that the verdict comes first: after at most one line that says
// how long the run takes, and no other progress (issue #22: 23 lines).
func TestProgressNotTerminal(t *testing.T) {
	tests := []struct {
		name string
		open func(t *testing.T) (w *os.File, read func() string)
	}{
		{"file", func(t *testing.T) (*os.File, func() string) {
			f, err := os.Create(t.TempDir() + "/out")
			if err != nil {
				t.Fatal(err)
			}
			return f, func() string {
				f.Close()
				b, err := os.ReadFile(f.Name())
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
		}},
		{"pipe", func(t *testing.T) (*os.File, func() string) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			got := make(chan string)
			go func() {
				b, _ := io.ReadAll(r)
				r.Close()
				got <- string(b)
			}()
			return w, func() string { w.Close(); return <-got }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, read := tt.open(t)
			code := run(quickConfig(t), w, w)
			out := read()
			if code != 0 {
				t.Errorf("exit status %d, want 0\n%s", code, out)
			}
			lines := strings.Split(out, "\n")
			want := "racecheck: this run takes 10 cycles per strategy in s1 and s2; the report follows"
			if len(lines) < 2 || lines[0] != want || !strings.HasPrefix(lines[1], "Verdict: ") {
				t.Errorf("output starts with\n%s\nwant the line\n%s\nthen the verdict", strings.Join(lines[:min(len(lines), 3)], "\n"), want)
			}
			if n := strings.Count(out, "racecheck: "); n != 1 {
				t.Errorf("%d lines of progress, want 1:\n%s", n, out)
			}
			if strings.Contains(out, "\r") {
				t.Errorf("a carriage return, which only a terminal should get:\n%q", out)
			}
		})
	}
}

// TestProgressTerminal runs racecheck with stderr on a pseudo-terminal and
// checks that progress is one line, redrawn in place, and cleared before
// the report.
func TestProgressTerminal(t *testing.T) {
	ptm, tty := openPty(t)
	if !isTerminal(tty) {
		t.Fatalf("isTerminal(%s) = false, want true", tty.Name())
	}
	got := make(chan string)
	const end = "END-OF-TEST"
	go func() {
		var b bytes.Buffer
		buf := make([]byte, 4096)
		for !strings.Contains(b.String(), end) {
			n, err := ptm.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		got <- b.String()
	}()
	var stdout bytes.Buffer
	code := run(quickConfig(t), &stdout, tty)
	// The end mark tells the reader that everything before it has come.
	if _, err := tty.WriteString(end); err != nil {
		t.Fatal(err)
	}
	var progress string
	select {
	case progress = <-got:
	case <-time.After(10 * time.Second):
		ptm.Close()
		t.Fatalf("the terminal did not show the end mark; it showed %q", <-got)
	}
	progress, _, _ = strings.Cut(progress, end)
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if !strings.HasPrefix(stdout.String(), "Verdict: ") {
		t.Errorf("report starts with %q, want the verdict", firstLine(stdout.String()))
	}
	if !strings.Contains(progress, "\rracecheck: ") || !strings.Contains(progress, ": s1 round 1/2: ") ||
		!strings.Contains(progress, ": s2 round 2/2: ") {
		t.Errorf("the terminal showed %q, want progress lines for s1 and s2", progress)
	}
	if strings.Contains(progress, "\n") {
		t.Errorf("the terminal showed %q, want one line, without a newline", progress)
	}
	// Cleared: the last redraw is blanks, and the cursor back at the start.
	last := progress[strings.LastIndex(progress[:len(progress)-1], "\r"):]
	if strings.TrimSpace(last) != "" || !strings.HasSuffix(last, "\r") || len(last) < len("\rracecheck: ") {
		t.Errorf("the terminal ends with %q, want the line cleared", last)
	}
}

// TestRunTime checks the time the progress line announces.
func TestRunTime(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// 55s of storms, s3 5×1.55s, s4 5×2×1s, 4 probes of about 0.5s.
	about, most := runTime(cfg)
	if want := "at most about 1m15s, less if the verdict is decided early"; about != want || most != 75*time.Second {
		t.Errorf("runTime(defaults) = %q, %v; want %q, 1m15s", about, most, want)
	}
	about, most = runTime(quickConfig(t))
	if want := "10 cycles per strategy in s1 and s2"; about != want || most != 0 {
		t.Errorf("runTime(%q) = %q, %v; want %q, 0", quickArgs, about, most, want)
	}
}
