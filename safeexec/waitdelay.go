package safeexec

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"time"
)

// When a command's context is done and its WaitDelay has passed, exec
// closes the pipes it made for the command if one of its goroutines that
// copy the command's standard streams is still running, in case an
// orphaned grandchild holds them open (go.dev/issue/23019). The pipes of
// StdinPipe, StdoutPipe and StderrPipe belong to the Cmd, not to the
// exec.Cmd of an attempt, so exec cannot see them: closePipesAfterDelay
// closes them under the same condition, and countCopies tells it whether
// a copy is still running.

// countCopies wraps the streams of x that exec will copy through a
// goroutine so that the returned counter drops as each copy ends. It
// returns nil if exec copies none.
func countCopies(x *exec.Cmd) *atomic.Int32 {
	n := new(atomic.Int32)
	if copied(x.Stdin) {
		n.Add(1)
		x.Stdin = doneReader{x.Stdin, n}
	}
	// exec makes one copy for Stdout and Stderr when they are the same.
	same := x.Stderr != nil && interfaceEqual(x.Stderr, x.Stdout)
	if copied(x.Stdout) {
		n.Add(1)
		x.Stdout = doneWriter{x.Stdout, n}
	}
	if same {
		x.Stderr = x.Stdout
	} else if copied(x.Stderr) {
		n.Add(1)
		x.Stderr = doneWriter{x.Stderr, n}
	}
	if n.Load() == 0 {
		return nil
	}
	return n
}

// copied reports whether exec copies stream through a goroutine: it is
// set and is not an *os.File.
func copied(stream any) bool {
	_, isFile := stream.(*os.File)
	return stream != nil && !isFile
}

// doneWriter and doneReader count down when exec's copy of a stream ends:
// exec copies with io.Copy, which hands the copy to ReadFrom or WriteTo. A
// copy that ends because exec closed its pipe still counts as running:
// exec does that only when its WaitDelay expired with the copy running,
// and its timer and closePipesAfterDelay's may fire in either order.
//
// The wrappers hide the stream's other methods, so a socket given as
// Stdout is fed by plain reads and writes rather than splice.
type doneWriter struct {
	io.Writer
	n *atomic.Int32
}

func (w doneWriter) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(w.Writer, r)
	if !errors.Is(err, os.ErrClosed) {
		w.n.Add(-1)
	}
	return n, err
}

type doneReader struct {
	io.Reader
	n *atomic.Int32
}

func (r doneReader) WriteTo(w io.Writer) (int64, error) {
	n, err := io.Copy(w, r.Reader)
	if !errors.Is(err, os.ErrClosed) {
		r.n.Add(-1)
	}
	return n, err
}

// closePipesAfterDelay closes pipes once delay has passed after ctx is
// done, if a copy is still running then, unless Wait returns first.
func closePipesAfterDelay(ctx context.Context, delay time.Duration, pipes []io.Closer, waitDone <-chan struct{}, copying *atomic.Int32) {
	select {
	case <-ctx.Done():
	case <-waitDone:
		return
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		if copying.Load() > 0 {
			closeAll(pipes)
		}
	case <-waitDone:
	}
}

// interfaceEqual reports whether a == b, and false where comparing them
// would panic, as exec compares Stdout and Stderr.
func interfaceEqual(a, b any) (eq bool) {
	defer func() { recover() }()
	return a == b
}
