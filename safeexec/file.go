package safeexec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// File is an executable being written. It is made by [CreateExecutable],
// written like an [os.File], and installed under its name by [File.Close].
//
// Until Close, the content lives under a temporary name in the same
// directory, so nobody can run a half-written file, and a running program
// can be replaced. Close makes sure that no child process still holds a
// writable copy of the file, so that running it cannot fail with ETXTBSY
// because of this process's forks; where the flock drain cannot be used,
// only children of Starts made through this package are waited for (see
// the package documentation).
//
// A File is not safe for concurrent use: its methods must not be called
// from more than one goroutine at a time.
type File struct {
	f          *os.File    // the temporary file, or nil once closed
	name       string      // where Close installs it
	tmp        string      // the temporary name
	werr       error       // the first failed write; Close then discards the file
	drainable  bool        // whether Close may trust the flock drain
	forkLocked bool        // whether the File holds syscall.ForkLock's read side
	chmod      bool        // whether Close must set mode: it lacks owner read, or has setuid or setgid
	mode       os.FileMode // the mode to install: perm &^ umask
}

// CreateExecutable creates an executable file that is installed as name,
// with mode perm (before umask), when [File.Close] succeeds. If name exists,
// Close replaces it; if name is a symbolic link, Close replaces the link,
// not its target.
//
// CreateExecutable does not wait for anything, unless [SetGlobalGate] is on.
func CreateExecutable(name string, perm os.FileMode) (*File, error) {
	if fi, err := os.Lstat(name); err == nil && fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
	}
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	if len(base) > 200 {
		base = base[:200] // room for the suffix within a name's 255 bytes
	}
	f := &File{name: name, drainable: drainable(dir)}
	if globalGate.Load() {
		joinForkLock()
		f.forkLocked = true
	}
	for range 100 {
		f.tmp = filepath.Join(dir, "."+base+".safeexec-"+strconv.FormatUint(rand.Uint64(), 36))
		// The owner may read the file until Close: the drain reopens it
		// read-only. Close gives it perm back.
		file, err := os.OpenFile(f.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm|0o400)
		if err == nil {
			f.f = file
			if err := f.keepReadable(file, perm); err != nil {
				file.Close()
				os.Remove(f.tmp)
				f.releaseForkLock()
				return nil, err
			}
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			f.releaseForkLock()
			if pe, ok := err.(*fs.PathError); ok {
				err = pe.Err
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
	f.releaseForkLock()
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
}

// keepReadable makes sure the owner can read the new file until Close,
// whose drain reopens it read-only, and notes the mode Close must set:
// perm &^ umask, and set last, since a write may clear setuid and setgid.
func (f *File) keepReadable(file *os.File, perm os.FileMode) error {
	fi, err := file.Stat()
	if err != nil {
		return err
	}
	// The file was created with perm|0o400, less the umask.
	f.mode = fi.Mode() &^ (0o400 &^ perm)
	f.chmod = f.mode&0o400 == 0 || f.mode&(os.ModeSetuid|os.ModeSetgid) != 0
	if fi.Mode()&0o400 == 0 {
		return file.Chmod(fi.Mode() | 0o400) // a umask that takes it away
	}
	return nil
}

// WriteExecutable writes data to an executable named name, creating it with
// mode perm (before umask) or replacing it, as [os.WriteFile] does for
// ordinary files. When it returns nil, the file is complete and can be run.
// When it fails, it leaves name as it was.
func WriteExecutable(name string, data []byte, perm os.FileMode) error {
	f, err := CreateExecutable(name, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Close()
}

// Name returns the name the file is installed under, as given to
// CreateExecutable.
func (f *File) Name() string { return f.name }

// Write writes b to the file, as [os.File.Write] does.
func (f *File) Write(b []byte) (int, error) {
	if f.f == nil {
		return 0, f.closedError("write")
	}
	n, err := f.f.Write(b)
	f.failed(err)
	return n, err
}

// WriteString is like Write but writes the contents of s.
func (f *File) WriteString(s string) (int, error) {
	if f.f == nil {
		return 0, f.closedError("write")
	}
	n, err := f.f.WriteString(s)
	f.failed(err)
	return n, err
}

// ReadFrom implements [io.ReaderFrom], so that io.Copy from an *os.File
// uses the kernel's copy, as it does into an *os.File.
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	if f.f == nil {
		return 0, f.closedError("write")
	}
	n, err := f.f.ReadFrom(r)
	f.failed(err)
	return n, err
}

// Sync commits the file's contents to stable storage, as [os.File.Sync]
// does. If it fails, Close discards the file, as after a failed write.
func (f *File) Sync() error {
	if f.f == nil {
		return f.closedError("sync")
	}
	err := f.f.Sync()
	f.failed(err)
	return err
}

// Close installs the file under its name. Before it returns nil, it makes
// sure that no child process holds a writable copy of the file any more,
// so that it can be run: with the flock drain, children of any fork of the
// process; where the drain cannot be used, children of Starts made through
// this package (see the package documentation).
//
// If a write failed, Close discards the file and returns that error. If
// a child still holds a writable copy when the retry budget (see
// [SetRetryBudget]) runs out, Close discards the file and returns an error
// that satisfies errors.Is(err, syscall.ETXTBSY). Whenever Close fails, it
// leaves name as it was and removes the temporary file. A second Close
// returns an error.
func (f *File) Close() error {
	if f.f == nil {
		return f.closedError("close")
	}
	file := f.f
	f.f = nil
	err := f.werr
	if err == nil {
		err = f.closeDrained(file)
	} else {
		file.Close()
		f.releaseForkLock()
	}
	if err == nil && f.chmod {
		err = os.Chmod(f.tmp, f.mode)
	}
	if err == nil {
		err = rename(f.tmp, f.name)
	}
	if err != nil {
		os.Remove(f.tmp)
	}
	return err
}

// Abort discards the file without installing it and leaves name as it
// was. After Close, or a first Abort, it does nothing and returns nil, so
// that it can be deferred right after CreateExecutable.
func (f *File) Abort() error {
	if f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	f.releaseForkLock()
	if rerr := os.Remove(f.tmp); err == nil {
		err = rerr
	}
	return err
}

// closeDrained closes file and returns once no child holds a copy of it.
func (f *File) closeDrained(file *os.File) error {
	drain := f.drainable && lockExclusive(file) == nil
	err := file.Close()
	if !drain && !f.forkLocked {
		// No fork can copy the descriptor any more, but a Start in
		// flight may have copied it already.
		waitOutStarts()
	}
	f.releaseForkLock()
	if err != nil || !drain {
		return err
	}
	stats.flockDrains.Add(1)
	return f.drain()
}

// waitOutStarts returns once every Start that was in flight when it was
// called has returned, by taking the gate's exclusive side. While a File
// holds ForkLock, no new Go fork can start, and the gate must not be
// taken: the Starts it would wait for wait for that File. A fork made
// just before may then still hold a copy until its child execs (briefly,
// since Go forks with vfork on Linux); Starts through this package retry.
func waitOutStarts() {
	stats.barriers.Add(1)
	if joinHeldForkLock() {
		leaveForkLock()
		return
	}
	gate.Lock()
	//lint:ignore SA2001 the lock is a barrier: holding it proves the Starts ended
	gate.Unlock()
}

// drain waits, polling, until every copy of the writable descriptor is
// closed: the exclusive flock it held goes away with the last copy, and
// only then can a new descriptor get a shared one.
func (f *File) drain() error {
	rf, err := os.Open(f.tmp)
	if err != nil {
		return err
	}
	defer rf.Close()

	begin := time.Now()
	budget := time.Duration(retryBudget.Load())
	for sleep := time.Duration(0); ; sleep = drainBackoff(sleep, time.Since(begin)) {
		if sleep > 0 {
			pollSleep(sleep)
		}
		ok, err := tryLockShared(rf)
		if err != nil {
			waitOutStarts() // flock failed: fall back to the gate
			return nil
		}
		if ok {
			if sleep > 0 {
				stats.drainWaits.Add(1)
				stats.waited.Add(int64(time.Since(begin)))
			}
			return nil
		}
		if time.Since(begin) >= budget {
			stats.drainWaits.Add(1)
			stats.waited.Add(int64(time.Since(begin)))
			return fmt.Errorf("safeexec: close %s: another process still holds it open for writing after %v: %w",
				f.name, time.Since(begin).Round(time.Microsecond), syscall.ETXTBSY)
		}
	}
}

// drainBackoff returns the sleep of the drain after one of length d, when
// it has waited for elapsed. A child lets go of the file when its exec
// completes, usually within a millisecond or two, so until then the drain
// polls at a steady short interval rather than overshoot by doubling.
func drainBackoff(d, elapsed time.Duration) time.Duration {
	if elapsed < 2*time.Millisecond {
		return 25 * time.Microsecond
	}
	return nextBackoff(d)
}

// failed records the first write error, so that Close discards the file.
func (f *File) failed(err error) {
	if err != nil && f.werr == nil {
		f.werr = err
	}
}

func (f *File) closedError(op string) error {
	return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
}

var globalGate atomic.Bool

// SetGlobalGate turns the global gate on or off and reports whether it was
// on. It is off by default, and it affects Files created after the call.
//
// While the global gate is on, every File holds the read side of
// [syscall.ForkLock] from CreateExecutable to Close, so no fork made by the
// Go runtime anywhere in the process, plain [os/exec] included, can copy
// its descriptor. That covers forks the flock drain cannot see through: on
// network and FUSE filesystems, and off Linux.
//
// It has two costs. Every fork in the process, through this package or
// not, waits while any such File is open, so a slow writer stalls every
// command the process starts. And a goroutine that starts a command, or
// waits for one to start, while a File it will close later is open,
// deadlocks: the fork waits for the Close, which waits for the fork.
// A Start that meets ETXTBSY meanwhile waits with them, beyond its retry
// budget, and a File that is never closed or aborted stops every fork for
// good. [Stats.GlobalGateFiles] tells how many Files hold the lock.
func SetGlobalGate(on bool) (was bool) {
	return globalGate.Swap(on)
}

// forkLockHolders counts the Files that hold ForkLock. They share one read
// lock, taken by the first and released by the last, so that a goroutine
// can hold two of them: a second RLock would wait behind a fork that waits
// for the first.
var forkLockHolders struct {
	sync.Mutex
	n int
}

// joinForkLock takes a share of the read lock on ForkLock, taking the lock
// if no File holds it.
func joinForkLock() {
	forkLockHolders.Lock()
	if forkLockHolders.n == 0 {
		syscall.ForkLock.RLock()
	}
	forkLockHolders.n++
	forkLockHolders.Unlock()
}

// releaseForkLock gives up f's share of the read lock on ForkLock, if any.
func (f *File) releaseForkLock() {
	if f.forkLocked {
		f.forkLocked = false
		leaveForkLock()
	}
}

// leaveForkLock gives up a share of the read lock on ForkLock, releasing
// the lock with the last share.
func leaveForkLock() {
	forkLockHolders.Lock()
	forkLockHolders.n--
	if forkLockHolders.n == 0 {
		syscall.ForkLock.RUnlock()
	}
	forkLockHolders.Unlock()
}

// joinHeldForkLock takes a share of the read lock on ForkLock if a File
// holds it, and reports whether it did.
func joinHeldForkLock() bool {
	forkLockHolders.Lock()
	defer forkLockHolders.Unlock()
	if forkLockHolders.n == 0 {
		return false
	}
	forkLockHolders.n++
	return true
}

func globalGateFiles() int {
	forkLockHolders.Lock()
	defer forkLockHolders.Unlock()
	return forkLockHolders.n
}
