//go:build !linux

package safeexec

import (
	"errors"
	"os"
	"time"
)

// lockExclusive takes an exclusive flock on f's open file description.
// Off Linux it is not supported, so Close drains with a pipe instead:
// macOS does not refuse to run a file open for writing, Windows has no
// fork, and flock is untested on the BSDs.
func lockExclusive(f *os.File) error { return errors.ErrUnsupported }

// tryLockShared tries to take a shared flock on f without waiting. Off
// Linux it is not supported.
func tryLockShared(f *os.File) (bool, error) { return false, errors.ErrUnsupported }

// pipeReady reports whether r, the read end of a pipe, can be read without
// waiting. Off Linux it cannot tell, so the drain reads with a deadline,
// and counts as a wait, every time.
func pipeReady(r *os.File) (bool, error) { return false, errors.ErrUnsupported }

// device returns the device of the file fi describes. Off Linux, where
// flock is not used, it returns 0.
func device(fi os.FileInfo) uint64 { return 0 }

// orderFDs reports whether Create must keep the file numbered above the
// pipe's write end. Off Linux it does not (see fdAbove).
const orderFDs = false

// fdAbove returns f. Off Linux, exec releases each close-on-exec
// descriptor at once, in increasing order (as FreeBSD's does), so the
// pipe, made first, is usually released just before the file: there the
// pipe drain narrows the window rather than closes it. This is built but
// untested off Linux.
func fdAbove(f, p *os.File) (*os.File, error) { return f, nil }

// reopenRead opens the file f refers to for reading. Off Linux it is not
// supported, and Close reopens the file by its name.
func reopenRead(f *os.File) (*os.File, error) { return nil, errors.ErrUnsupported }

// noWriters reports whether nobody holds r's file open for writing. Off
// Linux it cannot tell.
func noWriters(r *os.File) (bool, error) { return false, errors.ErrUnsupported }

// pollSleep sleeps for d, between two polls of the flock drain or two
// retries of a busy Start. Off Linux it is time.Sleep.
func pollSleep(d time.Duration) { time.Sleep(d) }
