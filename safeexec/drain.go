package safeexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"
)

// The drain is how Close makes sure that nobody holds the file open for
// writing, the condition execve checks (it fails with ETXTBSY while the
// inode's writer count is above zero: fs/exec.c, deny_write_access). A
// child forked while the file was open holds a copy of the writable
// descriptor until its exec closes it.
//
// The exact test is the kernel's own: a read lease on a read-only
// descriptor is granted only while no open file description of the inode,
// in any process, is open for writing (fs/locks.c, check_conflicting_open).
// Where the kernel grants leases on the file, taking one and giving it
// back at once is the whole drain. Where it refuses them (a filesystem
// without leases, a file the process does not own without CAP_LEASE,
// fs.leases-enable=0), two drains that see only this process's copies
// take over: a flock drain, tested on the file, then a pipe drain. Where
// none can vouch, Close fails rather than return nil.
//
// A named file's read-only descriptor is opened in Close, once the
// writable one is closed, by the temporary name, and must be the inode
// created: while it holds the writable descriptor, which children forked
// meanwhile copy, a File makes no request of a slow filesystem (FUSE)
// beyond those os.WriteFile makes. Meanwhile a descriptor opened as a
// path only (O_PATH: see pin) holds the inode, so that its number, which
// the checks compare, cannot pass to another file. An unnamed file has no
// name to be reopened by then, so Create reopens it, through
// /proc/self/fd.

// A vouch is what told a Close that nobody holds its file open for writing.
type vouch int

const (
	chosen    vouch = iota - 1 // not forced: see forceVia
	unchecked                  // nothing could tell
	byLease                    // the kernel's own count, through a read lease
	byFlock                    // an exclusive flock, gone with the last copy of the descriptor
	byPipe                     // EOF on a close-on-exec pipe older than the file
)

// forceVia, when a test sets it, is what vouches for the Files created
// from then on, as if their filesystem offered only that.
var forceVia = chosen

// drainFloor is the least time Close waits for children to let go of the
// file, whatever the retry budget: a child this process has just forked
// may take that long to reach exec on a loaded machine, and only a child
// that never execs, or another process, holds the file longer.
const drainFloor = time.Second

// A mountInfo is what Creates and Closes have learnt about a mount: it
// may save work, never a check. It is keyed by an identity the kernel
// never gives another mount (statx's STATX_MNT_ID_UNIQUE), where device
// numbers and plain mount IDs are reused; without one nothing is kept.
type mountInfo struct {
	lease bool // a lease was to be had on a file there: no pipe is needed
	named bool // a file there could not be opened without a name
}

var mounts sync.Map // uint64 → mountInfo

// knownMount returns what is known of the mount id.
func knownMount(id uint64) mountInfo {
	m, _ := mounts.Load(id)
	info, _ := m.(mountInfo)
	return info
}

// noteMount records what fn changes in what is known of the mount id.
func noteMount(id uint64, fn func(*mountInfo)) {
	if id == 0 {
		return
	}
	was := knownMount(id)
	m := was
	if fn(&m); m != was {
		mounts.Store(id, m) // once a mount is known, Closes store nothing
	}
}

func noteNamed(id uint64) { noteMount(id, func(m *mountInfo) { m.named = true }) }

// drain closes the writable descriptor and returns once nobody holds the
// file open for writing, or fails when ctx is done or the retry budget
// (at least drainFloor) has run out.
func (f *File) drain(ctx context.Context) error {
	via, w := f.via, f.f
	f.f = nil
	err := w.Close()
	if f.pw != nil {
		f.pw.Close() // the only copies of the write end left are children's
		f.pw = nil
	}
	f.releaseForkLock()
	hook("closed")
	if err != nil {
		return f.pathErr("close", err)
	}
	if via == byLease && f.r == nil {
		// Only now, with the writable descriptor closed: a child forked
		// while it was open sends the filesystem a request when its exec
		// closes its copy, which on FUSE waits behind any request of
		// ours, and an open may take as long as the daemon likes.
		if f.r, err = f.openTemp(); err != nil {
			return f.pathErr("close", err)
		}
		hook("reopened")
	}

	begin := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = begin.Add(max(time.Duration(retryBudget.Load()), drainFloor))
	}
	var waited bool
	refused := f.refused
	if via == byLease {
		if !f.signalled {
			err = prepareLease(f.r)
		}
		if err == nil {
			waited, err = poll(ctx, deadline, func() (bool, error) { return noWriters(f.r) })
		}
		switch {
		case err == nil:
			noteMount(f.mount, func(m *mountInfo) { m.lease = true })
		case !errors.Is(err, syscall.ETXTBSY) && err != ctx.Err():
			// Refused after all: what this mount taught is wrong.
			noteMount(f.mount, func(m *mountInfo) { m.lease = false })
			via, refused = f.fallback, err
		}
	}
	if via == byFlock {
		var more bool
		more, err = poll(ctx, deadline, func() (bool, error) { return tryLockShared(f.r) })
		waited = waited || more
	}
	if via == byPipe {
		var more bool
		more, err = f.drainPipe(ctx, deadline)
		waited = waited || more
	}
	stats.count(via)
	if waited {
		stats.drainWaits.Add(1)
		stats.drainWaitTime.Add(int64(time.Since(begin)))
	}
	switch {
	case via == unchecked && canFork:
		return f.pathErr("close", uncheckedError(refused))
	case errors.Is(err, syscall.ETXTBSY) || err != nil && err == ctx.Err():
		return f.pathErr("close", stillHeld(begin, ctx))
	}
	return f.pathErr("close", err)
}

// openTemp opens the named file being written, read-only, by its
// temporary name, and checks that it is still the file f created, whose
// inode f.pin holds, so that its number cannot have passed to another
// file. It does not wait for a FIFO or a device put in its place.
func (f *File) openTemp() (*os.File, error) {
	r, err := openAt(f.dir, f.name, f.tmp, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, f.replaced() // a symbolic link, which O_NOFOLLOW refused
	}
	if err != nil {
		return nil, err
	}
	ok, err := isFileOpen(r, f.created)
	if err == nil && !ok {
		err = f.replaced()
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// pinByName opens tmp in dir with flag, for pin, and checks that it is the
// file created: between the create and this open, the name may have been
// given to another file.
func pinByName(dir *os.File, name, tmp string, flag int, created os.FileInfo) (*os.File, error) {
	p, err := openAt(dir, name, tmp, flag, 0)
	if err != nil {
		return nil, err
	}
	if ok, err := isFileOpen(p, created); err != nil || !ok {
		p.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("safeexec: the file created is gone")}
	}
	return p, nil
}

// checkTemp returns an error unless f's temporary name still holds the
// regular file f created (whose inode f.pin holds), so that Close installs
// nothing else.
func (f *File) checkTemp() error {
	ok, err := isFileAt(f.dir, f.tmp, f.created)
	if err == nil && !ok {
		err = f.replaced()
	}
	return f.pathErr("close", err)
}

func (f *File) replaced() error {
	return fmt.Errorf("safeexec: %s is no longer the file written", f.tmpPath())
}

// errUnchecked is the error of a Close that nothing could vouch for.
var errUnchecked = errors.New("safeexec: cannot tell whether the file is still open for writing: " +
	"no lease could vouch for it, and neither a tested flock nor a pipe was there to take over")

// uncheckedError returns errUnchecked with the kernel's reason for
// refusing the lease, so that errors.Is finds both.
func uncheckedError(reason error) error {
	if reason == nil {
		return errUnchecked
	}
	return fmt.Errorf("%w: %w", errUnchecked, reason)
}

// errLeaseBlind is why a lease cannot vouch for a file whose filesystem
// granted one while the file was open for writing: there the kernel does
// not count the writers a lease must wait for.
var errLeaseBlind = errors.New("a read lease was granted on a file open for writing")

// choose returns what will vouch for f's file once its writable
// descriptor is closed, and what will if the kernel then refuses a
// lease. It must be called while the descriptor is open: a read lease
// asked of it is refused then with EAGAIN where the kernel grants leases
// on the file, and with another error where it does not, before the
// kernel looks for writers (fs/locks.c, vfs_setlease and
// check_conflicting_open); a lease granted then would prove that the
// kernel does not see writers there. The flock test needs the
// descriptor too.
//
// The kernel checks that leases are enabled (fs.leases-enable) only after
// it has looked for writers, so an EAGAIN does not prove that the lease
// will be granted once nobody writes. On a mount where no lease has been
// granted yet, choose also tests flock for a fallback. The test needs a
// read-only descriptor while the writable one is open, an open that a
// FUSE daemon may be slow to answer (see the FUSE note above): the first
// Create on a mount, or every one where the kernel gives mounts no
// lasting identity (before Linux 6.8), pays for a fallback that sees
// every holder of the file's descriptor, where the pipe sees only forks.
func (f *File) choose() (via, fallback vouch, err error) {
	if !canFork {
		return unchecked, unchecked, nil // no child can hold the file
	}
	may := func(v vouch) bool { return f.force == chosen || f.force == v }
	fallback = unchecked
	if may(byLease) {
		// The read-only descriptor, where there is one yet, answers as
		// the writable one does while that is open, and the answer
		// prepares it for Close.
		q := f.r
		if q == nil {
			q = f.f
		}
		err := leaseQuestion(q)
		f.signalled = q == f.r
		known := knownMount(f.mount).lease
		switch {
		case err != nil && f.force != byLease:
			f.refused = err
			if known {
				noteMount(f.mount, func(m *mountInfo) { m.lease = false })
			}
		case known:
			return byLease, unchecked, nil
		default:
			via = byLease
		}
	}
	var trusted bool
	if may(byFlock) {
		if trusted, err = f.testFlock(); err != nil {
			return unchecked, unchecked, err
		}
	}
	switch {
	case trusted:
		fallback = byFlock
	case may(byPipe) && f.pr != nil:
		fallback = byPipe
	}
	if via != byLease {
		return fallback, unchecked, nil
	}
	return via, fallback, nil
}

// leaseQuestion is askLease, but for tests.
var leaseQuestion = askLease

// askLease asks for a read lease on d, a descriptor of a file that is
// open for writing, and returns nil where the kernel answers EAGAIN: it
// grants leases on the file, and will grant one once nobody writes (but
// see choose).
func askLease(d *os.File) error {
	if err := prepareLease(d); err != nil {
		return err
	}
	granted, err := noWriters(d)
	if granted {
		return errLeaseBlind
	}
	return err
}

// testFlock reports whether the flock drain works for f's file (see
// flockTrusted), opening the read-only descriptor if there is none yet.
// Where flock is not to be had at all, it opens nothing.
func (f *File) testFlock() (bool, error) {
	if lockExclusive(f.f) != nil {
		return false, nil
	}
	if f.r == nil {
		var err error
		if f.r, err = f.openTemp(); err != nil {
			return false, err
		}
	}
	return flockTrusted(f.r), nil
}

// flockTrusted reports whether the flock drain works for the file of w,
// which holds an exclusive flock: a shared one on r, another open file
// description of the same file, must be refused. Where flock is emulated
// by POSIX record locks (NFS without local_lock=flock, some FUSE and SMB
// setups), one process's locks never conflict, and the drain would return
// at once whatever the children hold.
func flockTrusted(r *os.File) bool {
	ok, err := tryLockShared(r)
	return err == nil && !ok
}

// poll calls try until it reports done, sleeping in between, and fails
// with ETXTBSY at the deadline, or with ctx's error once ctx is done. It
// reports whether it had to wait, and returns try's error at once.
func poll(ctx context.Context, deadline time.Time, try func() (bool, error)) (waited bool, err error) {
	begin := time.Now()
	for sleep := time.Duration(0); ; {
		done, err := try()
		if err != nil || done {
			return sleep > 0, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return true, syscall.ETXTBSY
		}
		sleep = drainBackoff(sleep, time.Since(begin))
		if err := pause(ctx, min(sleep, left)); err != nil {
			return true, err
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

// drainPipe waits for EOF on the pipe, which comes once every child that
// copied the file has let go of the pipe's write end, and fails with
// ETXTBSY at the deadline, or with ctx's error once ctx is done. It
// reports whether it had to wait.
//
// On Linux, exec closes a child's close-on-exec descriptors in increasing
// order, but the last reference to each open file is released on the
// child's way back to user mode, the last one closed first
// (fs/file.c do_close_on_exec, fs/file_table.c fput, kernel/task_work.c,
// LIFO since Linux 4.3). The file is numbered above the pipe's write end
// (see orderAbovePipe), so a child that drops both releases the file, and
// its writer count, before the pipe: EOF comes after. It may still come
// first when two children hold the file and one is preempted between its
// two closes, or for a child forked while the file was below the pipe;
// or, off Linux, where exec releases each descriptor at once in
// increasing order, so the pipe, made first, usually goes first. Start's
// retry covers that moment; a runner without one may meet ETXTBSY.
func (f *File) drainPipe(ctx context.Context, deadline time.Time) (waited bool, err error) {
	if ready, err := pipeReady(f.pr); err == nil && ready {
		return false, nil
	}
	if err := f.pr.SetReadDeadline(deadline); err != nil {
		return false, err // as on Windows, which does not fork
	}
	// The function may still run after drainPipe returns (stop does not
	// wait for it), while Close releases f: it uses its own copy of the
	// pipe, on which a deadline set after the close does nothing.
	pr := f.pr
	stop := context.AfterFunc(ctx, func() { pr.SetReadDeadline(time.Now()) })
	defer stop()
	var b [1]byte
	_, err = pr.Read(b[:])
	switch {
	case err == io.EOF:
		return true, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		if err := ctx.Err(); err != nil {
			return true, err
		}
		return true, syscall.ETXTBSY
	case err == nil:
		return true, errors.New("safeexec: a child wrote to the drain's pipe")
	}
	return true, err
}

// orderAbovePipe numbers the file above the pipe's write end if it is not,
// which it is not when another goroutine closed a lower descriptor between
// the two, as os/exec does at every Start (4% of Creates beside two
// spawners). A child releases the higher one first (see drainPipe).
//
// The move holds ForkLock, so that no fork sees the file twice, but not
// the close of the old descriptor, which may be a filesystem call (FUSE
// flushes at every close). A fork before the move, or between it and the
// close, copies a descriptor below the pipe's; that child may let go of
// the pipe a moment before the file.
func (f *File) orderAbovePipe() error {
	if !orderFDs {
		return nil
	}
	joinForkLock()
	above, err := fdAbove(f.f, f.pw)
	leaveForkLock()
	if err != nil || above == nil {
		return err
	}
	f.f.Close()
	f.f = above
	return nil
}

// stillHeld returns the error of a drain that gave up after waiting since
// begin, with ctx's error if ctx is done.
func stillHeld(begin time.Time, ctx context.Context) error {
	err := fmt.Errorf("still open for writing after %v, in a child that has not exec'd or in another process: %w",
		time.Since(begin).Round(time.Microsecond), syscall.ETXTBSY)
	cerr := ctx.Err()
	if d, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(d) {
		cerr = context.DeadlineExceeded // the drain's own clock got there first
	}
	if cerr != nil {
		err = fmt.Errorf("%w: %w", err, cerr)
	}
	return err
}
