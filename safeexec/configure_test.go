package safeexec

// Tests of Cmd.Configure (issue #15): every exported field of exec.Cmd
// round-trips, and what happens to Cancel, the context, Err, a Start of
// the lent exec.Cmd and a call after Start.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// token is a value of every interface type among exec.Cmd's fields
// (io.Reader, io.Writer, error), told apart by its address.
type token struct{ tag string }

func (*token) Read([]byte) (int, error)    { return 0, io.EOF }
func (*token) Write(p []byte) (int, error) { return len(p), nil }
func (t *token) Error() string             { return t.tag }

// distinct returns a value of type typ that no other call returns and
// that is not typ's zero value, or false if the test does not know how
// to make one.
func distinct(typ reflect.Type, tag string) (reflect.Value, bool) {
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.String:
		v.SetString(tag)
	case reflect.Int64: // time.Duration
		v.SetInt(int64(len(tag))<<32 | int64(len(tag)*7+1))
	case reflect.Pointer:
		v = reflect.New(typ.Elem())
	case reflect.Interface:
		tok := reflect.ValueOf(&token{tag})
		if !tok.Type().Implements(typ) {
			return v, false
		}
		v.Set(tok)
	case reflect.Slice:
		elem, ok := distinct(typ.Elem(), tag)
		if !ok {
			return v, false
		}
		v = reflect.Append(v, elem)
	case reflect.Func: // func() error: Cancel
		if typ.NumIn() != 0 || typ.NumOut() != 1 {
			return v, false
		}
		out, ok := distinct(typ.Out(0), tag)
		if !ok {
			return v, false
		}
		v = reflect.MakeFunc(typ, func([]reflect.Value) []reflect.Value { return []reflect.Value{out} })
	default:
		return v, false
	}
	return v, true
}

// same reports whether a and b, values from distinct, are the same value:
// pointers by address, functions by what they return.
func same(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Pointer:
		return a.Pointer() == b.Pointer()
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return a.Elem().Type() == b.Elem().Type() && same(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() || a.IsNil() != b.IsNil() {
			return false
		}
		for i := range a.Len() {
			if !same(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Func:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return same(a.Call(nil)[0], b.Call(nil)[0])
	default:
		return a.Equal(b)
	}
}

// TestConfigureRoundTrip gives every exported field of exec.Cmd, as
// reflection lists them in the Go version at hand, a value in a Cmd, checks
// that Configure lends each to f, lets f set another, and checks that the
// Cmd takes each back. A field that exec.Cmd gains and Configure does not
// carry both ways fails it.
func TestConfigureRoundTrip(t *testing.T) {
	t.Parallel()
	var (
		c          Cmd
		fields     []string
		mine, hers = map[string]reflect.Value{}, map[string]reflect.Value{}
	)
	cv := reflect.ValueOf(&c).Elem()
	for f := range reflect.TypeFor[exec.Cmd]().Fields() {
		if !f.IsExported() {
			continue
		}
		if _, ok := cv.Type().FieldByName(f.Name); !ok {
			t.Errorf("safeexec.Cmd lacks field %s %v of exec.Cmd, so Configure cannot carry it", f.Name, f.Type)
			continue
		}
		a, ok1 := distinct(f.Type, "c."+f.Name)
		b, ok2 := distinct(f.Type, "x."+f.Name)
		if !ok1 || !ok2 {
			t.Errorf("exec.Cmd.%s has type %v, for which distinct makes no value; teach it", f.Name, f.Type)
			continue
		}
		fields = append(fields, f.Name)
		mine[f.Name], hers[f.Name] = a, b
		cv.FieldByName(f.Name).Set(a)
	}
	if len(fields) < 14 { // the fields of Go 1.26's exec.Cmd
		t.Fatalf("only %d exported fields of exec.Cmd found: %v", len(fields), fields)
	}

	called := false
	c.Configure(func(x *exec.Cmd) {
		called = true
		xv := reflect.ValueOf(x).Elem()
		for _, name := range fields {
			if got := xv.FieldByName(name); !same(got, mine[name]) {
				t.Errorf("in Configure's f, x.%s = %v; want the Cmd's %v", name, got, mine[name])
			}
			xv.FieldByName(name).Set(hers[name])
		}
	})
	if !called {
		t.Fatal("Configure did not call f")
	}
	for _, name := range fields {
		if got := cv.FieldByName(name); !same(got, hers[name]) {
			t.Errorf("after Configure, c.%s = %v; want the %v that f set", name, got, hers[name])
		}
	}
	t.Logf("%d fields round-tripped: %v", len(fields), fields)
}

// TestConfigureSetsRun checks that what f sets is what runs: the lent
// exec.Cmd changes Args, Env and Stdout of a Cmd that then runs.
func TestConfigureSetsRun(t *testing.T) {
	t.Parallel()
	c := quickHelper(t, "env", "CONFIGURED")
	var out strings.Builder
	c.Configure(func(x *exec.Cmd) {
		x.Args = append(x.Args, "ALSO")
		x.Env = append(x.Env, "CONFIGURED=yes", "ALSO=too")
		x.Stdout = &out
	})
	if err := c.Run(); err != nil {
		t.Fatalf("Run() after Configure = %v, want nil", err)
	}
	if got, want := out.String(), "CONFIGURED=yes\nALSO=too\n"; !strings.HasSuffix(got, want) {
		t.Errorf("output after Configure = %q, want it to end in %q", got, want)
	}
}

// TestConfigureLentCannotStart checks that the exec.Cmd lent to f starts
// nothing, whichever method f calls, and that the Cmd then runs.
func TestConfigureLentCannotStart(t *testing.T) {
	t.Parallel()
	truth := truePath(t)
	tests := []struct {
		name  string
		start func(x *exec.Cmd) error
	}{
		{"Start", (*exec.Cmd).Start},
		{"Run", (*exec.Cmd).Run},
		{"Output", func(x *exec.Cmd) error { _, err := x.Output(); return err }},
		{"CombinedOutput", func(x *exec.Cmd) error { _, err := x.CombinedOutput(); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Command(truth)
			c.Configure(func(x *exec.Cmd) {
				err := tt.start(x)
				if err == nil || err.Error() != "exec: already started" || x.Process != nil {
					t.Errorf("%s() of the lent exec.Cmd = %v, Process %v; want exec: already started and no process",
						tt.name, err, x.Process)
				}
				x.Stdout, x.Stderr = nil, nil // as Output and CombinedOutput found them
			})
			if c.Process != nil {
				t.Errorf("c.Process = %v after Configure, want nil", c.Process)
			}
			if err := c.Run(); err != nil {
				t.Errorf("Run() after Configure = %v, want nil", err)
			}
		})
	}
}

// TestConfigureContext checks that a Cmd made by CommandContext keeps its
// context and its Cancel through Configure: a done context stops Start,
// and a context ended after Start kills the process.
func TestConfigureContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := CommandContext(ctx, truePath(t))
	c.Configure(func(x *exec.Cmd) {
		if x.Cancel == nil {
			t.Error("in Configure's f, x.Cancel = nil, want CommandContext's")
		}
	})
	if err := c.Start(); !errors.Is(err, context.Canceled) {
		t.Errorf("Start() with a done context after Configure = %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	path, argv, env := helperArgs(t, "cat")
	c = CommandContext(ctx, path, argv[1:]...)
	c.Configure(func(x *exec.Cmd) { x.Env = quickExit(env) })
	assertCancelKills(t, c, cancel)
}

// TestConfigureCancelOfLent sets, in Configure's f, a Cancel that refers
// to the lent exec.Cmd, as code written for os/exec does with its own
// command: when the context ends, it must find c's process there and
// kill it.
func TestConfigureCancelOfLent(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path, argv, env := helperArgs(t, "cat")
	c := CommandContext(ctx, path, argv[1:]...)
	c.Env = quickExit(env)
	sawProcess := make(chan *os.Process, 1)
	c.Configure(func(x *exec.Cmd) {
		x.Cancel = func() error {
			sawProcess <- x.Process
			if x.Process == nil {
				return c.Process.Kill() // end the test promptly; it fails below
			}
			return x.Process.Kill()
		}
	})
	assertCancelKills(t, c, cancel)
	if p := <-sawProcess; p != c.Process {
		t.Errorf("the lent exec.Cmd's Process in Cancel = %v, want c.Process %v", p, c.Process)
	}
}

// assertCancelKills starts c, a cat helper, and ends its context with
// cancel once it runs: only the kill by Cancel ends it, since its stdin
// stays open.
func assertCancelKills(t *testing.T, c *Cmd, cancel context.CancelFunc) {
	t.Helper()
	stdin, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := c.Start(); err != nil {
		t.Fatalf("Start() = %v, want nil", err)
	}
	cancel()
	err = c.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.String() != "signal: killed" {
		t.Errorf("Wait() after the context ended = %v, want signal: killed", err)
	}
}

// TestConfigureErr checks that f sees the error of Command's LookPath in
// Err and that c takes back the Err f leaves: kept, Start returns it;
// cleared with a Path that exists, as exec's documentation suggests for
// ErrDot, the Cmd runs.
func TestConfigureErr(t *testing.T) {
	t.Parallel()
	truth := truePath(t)
	for _, clearErr := range []bool{false, true} {
		t.Run(fmt.Sprintf("clear=%v", clearErr), func(t *testing.T) {
			t.Parallel()
			c := Command("safeexec-test-no-such-program")
			c.Configure(func(x *exec.Cmd) {
				if !errors.Is(x.Err, ErrNotFound) {
					t.Errorf("in Configure's f, x.Err = %v, want Command's ErrNotFound", x.Err)
				}
				if clearErr {
					x.Path, x.Err = truth, nil
				}
			})
			err := c.Run()
			if clearErr && err != nil {
				t.Errorf("Run() after f cleared Err = %v, want nil", err)
			}
			if !clearErr && (!errors.Is(err, ErrNotFound) || c.Process != nil) {
				t.Errorf("Run() after f kept Err = %v, Process %v; want ErrNotFound and no process", err, c.Process)
			}
		})
	}
}

// TestConfigureAfterStart checks that Configure panics, without calling
// f, once Start has been called, whether or not it started a process.
func TestConfigureAfterStart(t *testing.T) {
	t.Parallel()
	truth := truePath(t)
	tests := []struct {
		name  string
		start func() *Cmd
	}{
		{"after Run", func() *Cmd {
			c := Command(truth)
			if err := c.Run(); err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"after a failed Start", func() *Cmd {
			c := Command("safeexec-test-no-such-program")
			if err := c.Start(); err == nil {
				t.Fatal("Start() of a missing program = nil")
			}
			return c
		}},
		{"between Start and Wait", func() *Cmd {
			c := Command(truth)
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Wait() })
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.start()
			called := false
			got := func() (r any) {
				defer func() { r = recover() }()
				c.Configure(func(*exec.Cmd) { called = true })
				return nil
			}()
			if got != "safeexec: Configure after Start" || called {
				t.Errorf("Configure %s: panic %v, f called %v; want panic \"safeexec: Configure after Start\" and f not called", tt.name, got, called)
			}
		})
	}
}
