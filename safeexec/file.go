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
	"unicode/utf8"
)

// File is an executable being written. It is made by [CreateExecutable],
// written like an [os.File], and installed under its name by [File.Close].
//
// Until Close, the content lives under a temporary name in the same
// directory, so nobody can run a half-written file, and a running program
// can be replaced. The File holds a descriptor of that directory and works
// relative to it, so a later [os.Chdir], or a name swapped under it, can
// neither lose the file nor redirect the install. Close makes sure that no
// child process still holds a writable copy of the file, so that anyone can
// run it without meeting ETXTBSY because of this process's forks (see the
// package documentation).
//
// A File is not safe for concurrent use: its methods must not be called
// from more than one goroutine at a time.
type File struct {
	f          *os.File    // the temporary file, writable, or nil once closed
	root       *os.Root    // the target's directory; every name below is in it
	name       string      // the name given to CreateExecutable, for errors
	base, tmp  string      // the target's and the temporary file's names in root
	pr, pw     *os.File    // the pipe drain's pipe, made before f was opened
	created    os.FileInfo // f as created, to know it again when Close reopens it
	werr       error       // the first failed write; Close then discards the file
	forkLocked bool        // whether the File holds syscall.ForkLock's read side
	chmod      bool        // whether Close must set mode: it lacks owner read, or has special bits
	synced     bool        // whether Sync succeeded; Close then makes the rename durable
	mode       os.FileMode // the mode to install: perm &^ umask
	force      drainPath   // the drain Close must use, if not zero: forceDrain at Create
	dev        uint64      // the directory's device, or 0
}

// flockWorks holds the devices on which Close has found flock working on a
// file (see flockTrusted), so that Create there need not hold ForkLock.
// Close still tests every file.
var flockWorks sync.Map // uint64 → struct{}

// flockWorksOn reports whether Close has found flock working on a file on
// device dev (0 for unknown).
func flockWorksOn(dev uint64) bool {
	if dev == 0 {
		return false
	}
	_, ok := flockWorks.Load(dev)
	return ok
}

// A drainPath is a way for Close to make sure that no child still holds a
// writable copy of the file.
type drainPath int

const (
	flockDrain drainPath = iota + 1 // wait for a shared flock on a read-only reopen
	pipeDrain                       // wait for EOF on a pipe older than the file
	barrier                         // wait out the Starts in flight
)

// forceDrain, when a test sets it, is the drain that Files created from
// then on use, as if their filesystem offered only that one.
var forceDrain drainPath

// drainFloor is the least time Close waits for children to let go of the
// file, whatever the retry budget: a child this process has just forked
// may take that long to reach exec on a loaded machine, and only a child
// that never execs, or another process, holds the file longer.
const drainFloor = time.Second

// CreateExecutable creates an executable file that is installed as name,
// with mode perm (before umask), when [File.Close] succeeds. If name exists,
// Close replaces it; if name is a symbolic link, Close replaces the link,
// not its target.
//
// The name must be one a file can be created under: CreateExecutable fails
// with an [*fs.PathError] naming it if it is empty, ends in a separator,
// names a directory, or has a final element too long for the filesystem,
// and if perm has no execute bit or has bits other than the permission,
// setuid, setgid and sticky bits. It creates nothing then.
//
// CreateExecutable waits for nothing on a filesystem where an earlier
// Close found flock working, and off Linux. Elsewhere on Linux it holds
// [syscall.ForkLock] while it creates the file (see [File.Close]), so it
// waits for forks in flight, and forks wait for it, for that moment. With
// [SetGlobalGate] on, it takes ForkLock until Close.
func CreateExecutable(name string, perm os.FileMode) (*File, error) {
	dir, base, err := checkName(name, perm)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: underlying(err)}
	}
	f := &File{root: root, name: name, base: base, force: forceDrain}
	if err := f.create(perm); err != nil {
		f.release()
		root.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: underlying(err)}
	}
	return f, nil
}

// checkName splits name into its directory and final element, and checks
// that an executable can be created under it with mode perm.
func checkName(name string, perm os.FileMode) (dir, base string, err error) {
	if name == "" {
		return "", "", syscall.ENOENT // as os.OpenFile("") says
	}
	if perm&0o111 == 0 {
		return "", "", fmt.Errorf("safeexec: mode %v has no execute bit", perm)
	}
	if perm&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
		return "", "", fmt.Errorf("safeexec: mode %v is not a file mode", perm)
	}
	dir, base = filepath.Split(name)
	if base == "" || base == "." || base == ".." {
		return "", "", syscall.EISDIR
	}
	if dir == "" {
		dir = "."
	}
	return dir, base, nil
}

// underlying returns the error inside err's *fs.PathError or
// *os.LinkError, whose names are relative to the File's directory.
func underlying(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// create checks f's name in its directory, makes the drain's pipe and
// then the temporary file.
func (f *File) create(perm os.FileMode) error {
	// A name too long for the filesystem fails here, as it would when
	// Close renames the file, and so does a directory.
	if fi, err := f.root.Lstat(f.base); err == nil && fi.IsDir() {
		return syscall.EISDIR
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if fi, err := f.root.Stat("."); err == nil {
		f.dev = device(fi)
	}
	if err := f.open(perm); err != nil {
		return err
	}
	if err := f.noteMode(perm); err != nil {
		f.removeTemp()
		return err
	}
	return nil
}

// removeTemp closes and removes the temporary file of a File being
// created.
func (f *File) removeTemp() {
	f.f.Close()
	f.f = nil
	f.root.Remove(f.tmp)
}

// open makes the drain's pipe, then creates the temporary file, numbered
// above the pipe's write end. Every fork that copies the file copies the
// write end too (both are close-on-exec), so EOF on the read end tells
// that every such child has let go of both, and in which order (see
// drainPipe). On a filesystem where Close has found flock working before,
// the flock drain will serve, and open makes no pipe.
func (f *File) open(perm os.FileMode) error {
	needPipe := f.force != 0 || !flockWorksOn(f.dev)
	var err error
	if needPipe {
		// Before ForkLock: on some systems os.Pipe takes its read side
		// too, and a second read lock waits behind a waiting fork.
		if f.pr, f.pw, err = os.Pipe(); err != nil {
			return err
		}
	}
	if globalGate.Load() {
		joinForkLock()
		f.forkLocked = true
		forkLockHolders.files.Add(1)
	} else if needPipe && orderFDs {
		// The file gets a number below the pipe's write end whenever
		// another goroutine closes a descriptor in between, as os/exec
		// does at every Start (4% of Creates beside two spawners), and a
		// fork before fdAbove moves it would copy it below.
		joinForkLock()
		defer leaveForkLock()
	}
	for range 100 {
		f.tmp = tempName(f.base)
		// The owner may read the file until Close: the drain reopens it
		// read-only. Close sets the mode.
		f.f, err = f.root.OpenFile(f.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm&fs.ModePerm|0o400)
		if err == nil && f.pw != nil {
			if f.f, err = fdAbove(f.f, f.pw); err != nil {
				f.removeTemp()
			}
		}
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return fs.ErrExist
}

// tempName returns a new temporary name for base: hidden, in the same
// directory, and no longer than base itself when base is long, so that it
// fits wherever base does.
func tempName(base string) string {
	const suffix = len(".") + len(".safeexec-") + 13
	if len(base) > 100 {
		n := len(base) - suffix
		for n > 0 && !utf8.RuneStart(base[n]) {
			n--
		}
		base = base[:n]
	}
	// With the top bit set, every uint64 has 13 digits in base 36.
	return "." + base + ".safeexec-" + strconv.FormatUint(rand.Uint64()|1<<63, 36)
}

// noteMode records the mode Close must install, perm &^ umask, and makes
// sure the owner can read the file until then. Close sets the mode last
// when it lacks owner read, or has setuid, setgid or sticky, which
// [os.Root.OpenFile] does not take and a write may clear.
func (f *File) noteMode(perm os.FileMode) error {
	fi, err := f.f.Stat()
	if err != nil {
		return err
	}
	f.created = fi
	// The file was created with perm|0o400, less the umask.
	special := perm & (fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	f.mode = fi.Mode().Perm()&^(0o400&^perm) | special
	f.chmod = f.mode&0o400 == 0 || special != 0
	if fi.Mode()&0o400 == 0 {
		return f.f.Chmod(fi.Mode() | 0o400) // a umask that takes it away
	}
	return nil
}

// WriteExecutable writes data to an executable named name, creating it with
// mode perm (before umask) or replacing it, as [os.WriteFile] does for
// ordinary files. When it returns nil, the file is complete and can be run.
// When it fails, it leaves name as it was. It takes the names and modes
// that [CreateExecutable] takes.
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

// Close sets the file's mode and installs it under its name. Before it
// returns nil, it makes sure that no child process holds a writable copy
// of the file any more, whoever forked it, so that it can be run (see the
// package documentation for how).
//
// If a write failed, Close discards the file and returns that error. If
// a child, or another process, still holds a writable copy when the retry
// budget (see [SetRetryBudget]) runs out, or after a second if the budget
// is shorter, Close discards the file and returns an error that satisfies
// errors.Is(err, syscall.ETXTBSY). Whenever Close fails, it leaves name as
// it was and removes the temporary file. A second Close returns an error.
func (f *File) Close() error {
	if f.f == nil {
		return f.closedError("close")
	}
	err := f.werr
	if err == nil {
		err = f.closeDrained()
	}
	f.release()
	if err == nil {
		err = f.checkTemp()
	}
	if err == nil {
		if err = f.root.Rename(f.tmp, f.base); err != nil {
			err = &os.LinkError{Op: "rename", Old: f.tmpPath(), New: f.name, Err: underlying(err)}
		}
	}
	if err != nil {
		f.root.Remove(f.tmp)
	}
	f.root.Close()
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
	f.release()
	if rerr := f.root.Remove(f.tmp); err == nil && rerr != nil {
		err = &fs.PathError{Op: "remove", Path: f.tmpPath(), Err: underlying(rerr)}
	}
	f.root.Close()
	return err
}

// release closes the descriptors f still holds but its directory, and
// gives up its share of ForkLock.
func (f *File) release() {
	for _, d := range []*os.File{f.f, f.pw, f.pr} {
		if d != nil {
			d.Close()
		}
	}
	f.f, f.pw, f.pr = nil, nil, nil
	f.releaseForkLock()
}

// closeDrained sets the mode, closes the writable descriptor and returns
// once no child holds a copy of it. It tests flock on this very file
// rather than trusting a filesystem by its name: where flock is emulated
// by POSIX record locks (NFS without local_lock=flock, some FUSE and SMB
// setups), one process's locks never conflict, and the flock drain would
// return at once whatever the children hold.
func (f *File) closeDrained() error {
	// Reopen before the mode may take the owner's read away.
	r, err := f.reopen()
	if err != nil {
		return err
	}
	defer r.Close()
	path := pipeDrain
	if flockTrusted(f.f, r) {
		path = flockDrain
		if f.dev != 0 {
			flockWorks.Store(f.dev, struct{}{})
		}
	}
	if f.force != 0 {
		path = f.force
	}
	if f.chmod {
		if err := f.f.Chmod(f.mode); err != nil {
			return err
		}
	}
	w := f.f
	f.f = nil
	err = w.Close()
	if f.pw != nil {
		f.pw.Close() // the only copies of the write end left are children's
		f.pw = nil
	}
	f.releaseForkLock()
	if err != nil {
		return err
	}

	begin := time.Now()
	deadline := begin.Add(f.drainBound())
	waited := false
	if path == flockDrain {
		var ok bool
		if ok, waited, err = f.drainFlock(r, deadline); !ok {
			path = pipeDrain // flock failed after all: the pipe, if made, serves
		}
	}
	if path == pipeDrain {
		if f.pr == nil || f.pr.SetReadDeadline(deadline) != nil {
			// No pipe was made, as flock worked on this filesystem
			// before; or it cannot be read with a deadline, as on
			// Windows, which does not fork (elsewhere Go's pipes can).
			path = barrier
		} else {
			var more bool
			more, err = f.drainPipe()
			waited = waited || more // flock may have waited before it failed
		}
	}
	if path == barrier {
		waitOutStarts()
	}
	if err == nil {
		var more bool
		more, err = f.waitNoWriters(r, deadline)
		waited = waited || more
	}
	stats.count(path)
	if waited {
		stats.drainWaits.Add(1)
		stats.waited.Add(int64(time.Since(begin)))
	}
	if errors.Is(err, syscall.ETXTBSY) {
		err = f.stillHeld(begin)
	}
	return err
}

// reopen opens the file f created read-only: through the writable
// descriptor where the system allows (on Linux, /proc/self/fd), so that
// it is that file whatever its name now holds, or else by its temporary
// name, checking that it is still the file f created.
func (f *File) reopen() (*os.File, error) {
	if r, err := reopenRead(f.f); err == nil {
		return r, nil
	}
	r, err := f.root.Open(f.tmp)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: f.tmpPath(), Err: underlying(err)}
	}
	fi, err := r.Stat()
	if err == nil && !os.SameFile(fi, f.created) {
		err = f.replaced()
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// checkTemp returns an error unless f's temporary name still holds the
// regular file f created, so that Close installs nothing else.
func (f *File) checkTemp() error {
	fi, err := f.root.Lstat(f.tmp)
	if err != nil {
		return &fs.PathError{Op: "lstat", Path: f.tmpPath(), Err: underlying(err)}
	}
	if !fi.Mode().IsRegular() || !os.SameFile(fi, f.created) {
		return f.replaced()
	}
	return nil
}

func (f *File) replaced() error {
	return fmt.Errorf("safeexec: close %s: %s is no longer the file written", f.name, f.tmpPath())
}

// flockTrusted reports whether the flock drain works for w's file: once
// w holds an exclusive flock, a shared one on r, another open file
// description of the same file, must be refused.
func flockTrusted(w, r *os.File) bool {
	if lockExclusive(w) != nil {
		return false
	}
	ok, err := tryLockShared(r)
	return err == nil && !ok
}

// drainBound returns how long Close waits for children to let go of the
// file: the retry budget, but at least drainFloor.
func (f *File) drainBound() time.Duration {
	return max(time.Duration(retryBudget.Load()), drainFloor)
}

// drainFlock waits, polling, until every copy of the writable descriptor
// is closed: the exclusive flock it held goes away with the last copy,
// and only then can r get a shared one. It reports whether flock worked
// and whether it had to wait, and fails with ETXTBSY at the deadline.
func (f *File) drainFlock(r *os.File, deadline time.Time) (ok, waited bool, err error) {
	return poll(deadline, func() (bool, error) { return tryLockShared(r) })
}

// waitNoWriters waits, polling, until nobody holds the file open for
// writing, by the kernel's own count, where the system can tell (see
// noWriters). The drains see a child let go of the file a moment before
// that count drops; this closes the moment. It reports whether it had to
// wait, and fails with ETXTBSY at the deadline.
func (f *File) waitNoWriters(r *os.File, deadline time.Time) (waited bool, err error) {
	ok, waited, err := poll(deadline, func() (bool, error) { return noWriters(r) })
	if !ok {
		return waited, nil // the system cannot tell: the drain's word stands
	}
	return waited, err
}

// poll calls try until it reports done, sleeping in between as the drain
// does, or until the deadline, when it fails with ETXTBSY. It reports
// false if try failed, and whether it had to wait.
func poll(deadline time.Time, try func() (bool, error)) (ok, waited bool, err error) {
	begin := time.Now()
	for sleep := time.Duration(0); ; sleep = drainBackoff(sleep, time.Since(begin)) {
		if sleep > 0 {
			pollSleep(sleep)
		}
		done, err := try()
		if err != nil {
			return false, sleep > 0, nil
		}
		if done {
			return true, sleep > 0, nil
		}
		if !time.Now().Before(deadline) {
			return true, true, syscall.ETXTBSY
		}
	}
}

// drainPipe waits for EOF on the pipe, which comes once every child that
// copied the file has let go of the pipe's write end, or for the deadline
// already set on it, when it fails with ETXTBSY. It reports whether it
// had to wait.
//
// On Linux, exec closes a child's close-on-exec descriptors in increasing
// order, but the last reference to each open file is released on the
// child's way back to user mode, the last one closed first
// (fs/file.c do_close_on_exec, fs/file_table.c fput, kernel/task_work.c,
// LIFO since Linux 4.3). The file is numbered above the pipe's write end
// (see open), so a child that drops both releases the file, and its writer
// count, before the pipe: EOF comes after. It may still come first when two
// children hold the file and one is preempted between its two closes; or,
// off Linux, where exec releases each descriptor at once in increasing
// order, so the pipe, made first, usually goes first. waitNoWriters closes
// that moment where the system can tell; elsewhere Start's retry covers
// it, and a runner without one may meet ETXTBSY.
func (f *File) drainPipe() (waited bool, err error) {
	if ready, err := pipeReady(f.pr); err == nil && ready {
		return false, nil
	}
	var b [1]byte
	_, err = f.pr.Read(b[:])
	switch {
	case err == io.EOF:
		return true, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return true, syscall.ETXTBSY
	case err == nil:
		return true, fmt.Errorf("safeexec: close %s: a child wrote to the drain's pipe", f.name)
	}
	return true, err
}

// stillHeld returns the error of a drain that gave up.
func (f *File) stillHeld(begin time.Time) error {
	return fmt.Errorf("safeexec: close %s: still open for writing after %v, in a child that has not exec'd or in another process: %w",
		f.name, time.Since(begin).Round(time.Microsecond), syscall.ETXTBSY)
}

// waitOutStarts returns once every Start that was in flight when it was
// called has returned, by taking the gate's exclusive side. While a File
// holds ForkLock, no new Go fork can start, and the gate must not be
// taken: the Starts it would wait for wait for that File. A fork made
// just before may then still hold a copy until its child execs (briefly,
// since Go forks with vfork on Linux); Starts through this package retry.
func waitOutStarts() {
	if joinHeldForkLock() {
		leaveForkLock()
		return
	}
	gate.Lock()
	//lint:ignore SA2001 the lock is a barrier: holding it proves the Starts ended
	gate.Unlock()
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

// tmpPath returns the temporary file's path, for errors.
func (f *File) tmpPath() string {
	return filepath.Join(filepath.Dir(f.name), f.tmp)
}

var globalGate atomic.Bool

// SetGlobalGate turns the global gate on or off and reports whether it was
// on. It is off by default, and it affects Files created after the call.
//
// While the global gate is on, every File holds the read side of
// [syscall.ForkLock] from CreateExecutable to Close, so no fork made by the
// Go runtime anywhere in the process, plain [os/exec] included, can copy
// its descriptor, and Close has nothing to wait for. That also closes the
// moment the drains leave between a child letting go of the file and the
// kernel counting it (see the package documentation), which matters to a
// program that runs the file with plain os/exec, whose Start does not
// retry. Forks made by C code are still drained.
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

// forkLockHolders counts the holders of ForkLock: Files under the global
// gate, Files being created where flock is not known to work (see open),
// and Closes waiting out Starts beside global-gate Files (waitOutStarts).
// They share one read lock, taken by the first and released by the last,
// so that a goroutine can hold two Files: a second RLock would wait behind
// a fork that waits for the first.
var forkLockHolders struct {
	sync.Mutex
	n     int          // shares of the read lock
	files atomic.Int64 // Files that hold a share for the global gate
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
		forkLockHolders.files.Add(-1)
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

func globalGateFiles() int { return int(forkLockHolders.files.Load()) }
