package safeexec

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// When a command's context is done and its WaitDelay has passed, exec
// closes the pipes it made for the command if one of its goroutines that
// copy the command's standard streams is still running, in case an
// orphaned grandchild holds them open (go.dev/issue/23019). The pipes of
// StdinPipe, StdoutPipe and StderrPipe belong to the Cmd, not to the
// exec.Cmd of an attempt, so exec cannot see them: closePipesAfterDelay
// closes them under the same condition, and copies tells it whether a
// copy is still running.
//
// exec closes all of them in one go, the user's pipes first, and its
// timer and ours may fire in either order. If exec's fired first, closing
// its end of a copy's pipe could kill the grandchild (of SIGPIPE, say)
// and so close the user's pipe from the other end before we close it:
// a read would see EOF where exec gives "file already closed". So each
// copy holds a duplicate of exec's end while it runs: exec closing its
// end then breaks nothing, and the pipe breaks when closePipesAfterDelay
// closes the duplicates, after the user's pipes. closeDups says when
// else they go.

// copies follows exec's copies of a command's streams.
type copies struct {
	running atomic.Int32 // copies that have not ended, as exec sees them

	mu     sync.Mutex
	closed bool        // closeDups has run
	dups   []io.Closer // duplicates of exec's ends held for the copies
}

// countCopies wraps the streams of x that exec will copy through a
// goroutine so that the returned copies follows each copy. It returns nil
// if exec copies none.
func countCopies(x *exec.Cmd) *copies {
	c := new(copies)
	if copied(x.Stdin) {
		c.running.Add(1)
		x.Stdin = doneReader{x.Stdin, c}
	}
	// exec makes one copy for Stdout and Stderr when they are the same.
	same := x.Stderr != nil && interfaceEqual(x.Stderr, x.Stdout)
	if copied(x.Stdout) {
		c.running.Add(1)
		x.Stdout = doneWriter{x.Stdout, c}
	}
	if same {
		x.Stderr = x.Stdout
	} else if copied(x.Stderr) {
		c.running.Add(1)
		x.Stderr = doneWriter{x.Stderr, c}
	}
	if c.running.Load() == 0 {
		return nil
	}
	return c
}

// copied reports whether exec copies stream through a goroutine: it is
// set and is not an *os.File.
func copied(stream any) bool {
	_, isFile := stream.(*os.File)
	return stream != nil && !isFile
}

// doneWriter and doneReader follow exec's copy of a stream: exec copies
// with io.Copy, which hands the copy to ReadFrom or WriteTo, along with
// exec's end of the pipe (for ReadFrom, inside a wrapper from
// os.File.WriteTo).
//
// The wrappers hide the stream's other methods, so a socket given as
// Stdout is fed by plain reads and writes rather than splice.
type doneWriter struct {
	io.Writer
	c *copies
}

func (w doneWriter) ReadFrom(r io.Reader) (int64, error) {
	dup := w.c.hold(r)
	n, err := io.Copy(w.Writer, r)
	w.c.done(r, dup, err)
	return n, err
}

type doneReader struct {
	io.Reader
	c *copies
}

func (r doneReader) WriteTo(w io.Writer) (int64, error) {
	dup := r.c.hold(w)
	n, err := io.Copy(w, r.Reader)
	r.c.done(w, dup, err)
	return n, err
}

// hold keeps a duplicate of end, exec's end of a copy's pipe, until
// closeDups, and returns it; nil if it made none.
func (c *copies) hold(end any) io.Closer {
	dup := dupPipe(rawConn(end))
	if dup == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		dup.Close()
		return nil
	}
	c.dups = append(c.dups, dup)
	return dup
}

// done notes the end of a copy on end that returned err. If exec closed
// end under the copy, which it does only when its WaitDelay expired with
// the copy running, the copy still counts as running and its duplicate
// stays for closeDups: exec's timer and closePipesAfterDelay's may fire
// in either order. Otherwise the duplicate goes at once, before exec
// closes end, so that the command sees the pipe break when exec's would.
func (c *copies) done(end any, dup io.Closer, err error) {
	if closedByExec(end, err) {
		return
	}
	c.running.Add(-1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(c.dups, dup); i >= 0 {
		c.dups = slices.Delete(c.dups, i, i+1)
		dup.Close()
	}
}

// closeDups closes the duplicates held, and any made later at once.
// closePipesAfterDelay calls it after closing the Cmd's pipes, and Wait
// after exec's Wait; and before it, unless the context is done. The
// duplicates serve reads of the Cmd's pipes, which end before Wait, and
// once the context is done closePipesAfterDelay closes them in time.
// Otherwise exec's Wait may close its end under a copy that is stuck in
// a write, say one that waits for an orphan to go: a duplicate would
// keep the orphan's pipe whole, and Wait would wait as long as it lives.
func (c *copies) closeDups() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	closeAll(c.dups)
	c.dups = nil
}

// closedByExec reports whether exec closed end, its end of a copy's
// pipe, under the copy that returned err: exec closes it itself only
// after the copy returns, unless its WaitDelay expired first. err alone
// cannot tell, since a stream may fail with os.ErrClosed too, and then a
// duplicate kept would hold the pipe open where exec's close breaks it;
// err serves only where end has no descriptor to ask.
func closedByExec(end any, err error) bool {
	if raw := rawConn(end); raw != nil {
		return raw.Control(func(uintptr) {}) != nil
	}
	return errors.Is(err, os.ErrClosed)
}

// rawConn returns end's descriptor, or nil if it has none.
func rawConn(end any) syscall.RawConn {
	f, ok := end.(interface {
		SyscallConn() (syscall.RawConn, error)
	})
	if !ok {
		return nil
	}
	raw, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// closePipesAfterDelay closes pipes once delay has passed after ctx is
// done, if a copy is still running then, and then the duplicates of
// exec's ends, unless Wait returns first.
func closePipesAfterDelay(ctx context.Context, delay time.Duration, pipes []io.Closer, waitDone <-chan struct{}, copying *copies) {
	select {
	case <-ctx.Done():
	case <-waitDone:
		return
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		if copying.running.Load() > 0 {
			closeAll(pipes)
		}
		copying.closeDups()
	case <-waitDone:
	}
}

// interfaceEqual reports whether a == b, and false where comparing them
// would panic, as exec compares Stdout and Stderr.
func interfaceEqual(a, b any) (eq bool) {
	defer func() { recover() }()
	return a == b
}
