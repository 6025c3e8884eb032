package safeexec

// Tests of WaitDelay beyond the parity table: when the pipes of a Cmd
// close, and that the duplicates of exec's pipe ends that safeexec holds
// never keep a pipe whole where exec's close would break it.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWaitDelayKeepsFinishedPipes cancels a command whose copies by exec
// have all finished, then reads its StdoutPipe after WaitDelay: exec
// closes the pipes it made only if a copy is still running then, so the
// output the command wrote is still there to read.
func TestWaitDelayKeepsFinishedPipes(t *testing.T) {
	t.Parallel()
	path, argv, env := helperArgs(t, "cat")
	const delay = 100 * time.Millisecond
	for _, p := range pkgs {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := p.commandContext(ctx, path, argv[1:]...)
		*c.Env = quickExit(env)
		stderr := &copyDone{done: make(chan struct{})}
		*c.Stderr = stderr // copied by exec until cat is killed
		*c.WaitDelay = delay
		stdin, err := c.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatalf("%s: Start: %v", p.name, err)
		}
		io.WriteString(stdin, "hello\n")
		line := make([]byte, len("hello\n"))
		if _, err := io.ReadFull(stdout, line); err != nil {
			t.Fatalf("%s: reading the echo: %v", p.name, err)
		}
		cancelled := time.Now()
		cancel()
		select {
		case <-stderr.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the copy of stderr did not end within 10s of the kill", p.name)
		}
		if time.Since(cancelled) > delay/2 {
			t.Logf("%s: the copy ended %v after the kill, too close to WaitDelay to tell", p.name, time.Since(cancelled))
			c.Wait()
			continue
		}
		// A slow reader: past WaitDelay, whose end no event signals.
		time.Sleep(time.Until(cancelled.Add(3 * delay)))
		got, err := io.ReadAll(stdout)
		if len(got) != 0 || err != nil {
			t.Errorf("%s: ReadAll(StdoutPipe) after WaitDelay = %q, %v; want \"\", nil", p.name, got, err)
		}
		if err := c.Wait(); err == nil {
			t.Errorf("%s: Wait() = nil, want the kill", p.name)
		}
	}
}

// TestWaitDelayClosesPipesOfRunningCopy leaves an orphaned grandchild
// that writes to StdoutPipe and holds the stderr pipe exec copies from.
// When WaitDelay expires after the context is done, exec closes every pipe
// it made, the StdoutPipe included, because a copy is still running; that
// must hold whichever of exec's timer and safeexec's fires first, so the
// scenario runs several times.
func TestWaitDelayClosesPipesOfRunningCopy(t *testing.T) {
	t.Parallel()
	path, _, env := helperArgs(t, "orphan")
	for _, p := range pkgs {
		for i := range 10 {
			ctx, cancel := context.WithCancel(context.Background())
			c := p.commandContext(ctx, "sh", "-c", `"$0" 1 & wait`, path)
			*c.Env = quickExit(env)
			*c.Stderr = new(strings.Builder) // copied by exec while the orphan lives
			*c.WaitDelay = time.Millisecond
			stdout, err := c.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(); err != nil {
				t.Fatalf("%s: Start: %v", p.name, err)
			}
			ready := make([]byte, len("ready\n"))
			if _, err := io.ReadFull(stdout, ready); err != nil {
				t.Fatalf("%s: reading ready: %v", p.name, err)
			}
			cancel()
			// The orphan writes until the pipe is closed, or for
			// helperTimeout: only the close ends this read early.
			_, err = io.ReadAll(stdout)
			c.Wait()
			if !errors.Is(err, os.ErrClosed) {
				t.Errorf("%s, run %d: ReadAll(StdoutPipe) = %v, want the pipe closed after WaitDelay", p.name, i, err)
				break // each such run waits out the orphan's helperTimeout
			}
		}
	}
}

// copyDone is a writer that tells when a copy into it ends: io.Copy hands
// the copy to ReadFrom.
type copyDone struct {
	strings.Builder
	done chan struct{}
}

func (w *copyDone) ReadFrom(r io.Reader) (int64, error) {
	defer close(w.done)
	return io.Copy(&w.Builder, r)
}

// TestWaitDelayDuplicatesLetGo runs commands whose copies by exec end
// while safeexec holds duplicates of exec's pipe ends (a context, a
// WaitDelay and a StdoutPipe), and checks that each ends as with exec:
// a copy that ends must let the command see EOF or EPIPE, and a copy
// stuck while exec's Wait closes its pipe must not keep an orphan's pipe
// whole. A duplicate held too long shows as a run that lasts until the
// helper gives up, after helperTimeout.
func TestWaitDelayDuplicatesLetGo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want string // what os/exec gives, and safeexec must
		run  func(t *testing.T, p pkg, ctx context.Context) string
	}{{
		name: "stdin copy ends",
		want: `"hello\n" <nil>, Wait: <nil>`,
		run: func(t *testing.T, p pkg, ctx context.Context) string {
			c := delayedHelper(t, p, ctx, "cat")
			*c.Stdin = strings.NewReader("hello\n")
			stdout := stdoutPipe(t, p, c)
			start(t, p, c)
			out, err := io.ReadAll(stdout)
			return fmt.Sprintf("%q %v, Wait: %v", out, err, c.Wait())
		},
	}, {
		name: "stderr copy fails",
		want: "Wait: signal: broken pipe",
		run: func(t *testing.T, p pkg, ctx context.Context) string {
			c := delayedHelper(t, p, ctx, "orphan", "2") // run directly: no orphan here
			*c.Stderr = closedWriter{}
			stdoutPipe(t, p, c)
			start(t, p, c)
			return fmt.Sprintf("Wait: %v", c.Wait())
		},
	}, {
		name: "copy stuck on an orphan",
		want: "Wait: " + ErrWaitDelay.Error(),
		run: func(t *testing.T, p pkg, ctx context.Context) string {
			path, _, env := helperArgs(t, "orphan")
			c := p.commandContext(ctx, "sh", "-c", `"$0" 2 &`, path)
			*c.Env, *c.WaitDelay = quickExit(env), 10*time.Millisecond
			w := &firstWrite{stuckWriter: make(stuckWriter), entered: make(chan struct{})}
			*c.Stderr = w
			stdoutPipe(t, p, c)
			gone, err := startWithOrphan(&run{T: t, pkg: p}, c, w.stuckWriter)
			if err != nil {
				t.Fatalf("%s: Start: %v", p.name, err)
			}
			<-w.entered // the copy is stuck, and the orphan fills its pipe
			err = c.Wait()
			<-gone
			return fmt.Sprintf("Wait: %v", err)
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range pkgs {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel() // only after Wait: the context is never done
				began := time.Now()
				got := tt.run(t, p, ctx)
				if took := time.Since(began); got != tt.want || took > helperTimeout/2 {
					t.Errorf("%s: got %s after %v; want %s, well before %v",
						p.name, got, took.Round(time.Millisecond), tt.want, helperTimeout)
				}
			}
		})
	}
}

// delayedHelper returns a command of p that runs the named helper with
// ctx and a WaitDelay.
func delayedHelper(t *testing.T, p pkg, ctx context.Context, name string, args ...string) twin {
	path, argv, env := helperArgs(t, name, args...)
	c := p.commandContext(ctx, path, argv[1:]...)
	*c.Env, *c.WaitDelay = quickExit(env), 10*time.Millisecond
	return c
}

func stdoutPipe(t *testing.T, p pkg, c twin) io.ReadCloser {
	t.Helper()
	r, err := c.StdoutPipe()
	if err != nil {
		t.Fatalf("%s: StdoutPipe: %v", p.name, err)
	}
	return r
}

func start(t *testing.T, p pkg, c twin) {
	t.Helper()
	if err := c.Start(); err != nil {
		t.Fatalf("%s: Start: %v", p.name, err)
	}
}

// closedWriter fails every Write as a closed file does.
type closedWriter struct{}

func (closedWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// firstWrite is a stuckWriter that tells when its first Write comes.
type firstWrite struct {
	stuckWriter
	once    sync.Once
	entered chan struct{}
}

func (w *firstWrite) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	return w.stuckWriter.Write(p)
}
