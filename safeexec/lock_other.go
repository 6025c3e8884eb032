//go:build !linux

package safeexec

import (
	"errors"
	"os"
	"time"
)

// drainable reports whether the flock drain can be trusted for files in
// dir. Off Linux it is not used: macOS does not refuse to run a file open
// for writing, Windows has no fork, and on the BSDs the drain is untested,
// so Close takes the gate's exclusive side instead.
func drainable(dir string) bool { return false }

// rename renames oldpath to newpath.
func rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// lockExclusive takes an exclusive flock on f's open file description. Off
// Linux it is not used.
func lockExclusive(f *os.File) error { return errors.ErrUnsupported }

// tryLockShared tries to take a shared flock on f without waiting. Off
// Linux it is not used.
func tryLockShared(f *os.File) (bool, error) { return false, errors.ErrUnsupported }

// pollSleep sleeps for d between two polls of the drain. Off Linux it is
// not used.
func pollSleep(d time.Duration) { time.Sleep(d) }
