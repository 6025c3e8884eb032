package safeexec

// Tests of the drain that issue #12 asked for: what vouches where the
// kernel refuses leases, records that must not outlive their mount, the
// lease-break signal, ForkLock around Create, and Close bounded by a
// context (#13).

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// withoutCapLease runs fn on a thread without CAP_LEASE, which,
// capabilities being per thread, leaves the rest of the process alone.
// The kernel then refuses a lease on a file the process does not own with
// EACCES, before it looks for writers, as on a FUSE or vfat mount with a
// forced owner. It skips the test without root.
func withoutCapLease(t *testing.T, fn func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root, to own files it then gives away")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var caps [2]unix.CapUserData
	if err := unix.Capget(&hdr, &caps[0]); err != nil {
		t.Fatal(err)
	}
	was := caps[0].Effective
	caps[0].Effective &^= 1 << unix.CAP_LEASE
	if err := unix.Capset(&hdr, &caps[0]); err != nil {
		t.Fatal(err)
	}
	defer func() {
		caps[0].Effective = was
		if err := unix.Capset(&hdr, &caps[0]); err != nil {
			t.Fatal(err) // the thread must not go back to the runtime so
		}
	}()
	fn()
}

// closeGivenAway gives f's file to nobody and closes f on a thread
// without CAP_LEASE: the kernel said EAGAIN to the lease Create asked
// for, and refuses it at Close, as it does when leases are turned off
// (fs.leases-enable=0) while the file is being written.
func closeGivenAway(t *testing.T, f *File, fn func()) {
	t.Helper()
	if err := f.f.Chown(65534, 65534); err != nil {
		t.Fatal(err)
	}
	withoutCapLease(t, func() {
		if _, err := noWriters(f.r); !errors.Is(err, unix.EACCES) {
			t.Fatalf("a lease on a file given away, without CAP_LEASE: %v, want EACCES", err)
		}
		fn()
	})
}

// forgetMount makes the rest of the test see dir's mount as new.
func forgetMount(t *testing.T, dir string) {
	noteMount(mountID(t, dir), func(m *mountInfo) { m.lease = false })
}

// TestLeaseRefused takes leases away and checks what vouches then: the
// flock drain, tested on the file, which waits for this process's
// children but cannot see another process's own open; and nothing at all
// where a record of the mount said a lease would do, so no pipe was made
// and flock was not tested, when Close must fail rather than return nil
// (#12: it returned nil after 1 ms, and a plain os/exec run met ETXTBSY).
func TestLeaseRefused(t *testing.T) {
	setRetryBudget(t, 0)

	t.Run("at Create", func(t *testing.T) {
		// A FUSE mount whose files all belong to nobody: Create asks
		// for a lease, is refused, and tests flock instead.
		mnt := mountFS(t, "fuse-nobody")
		withoutCapLease(t, func() {
			f := createWritten(t, filepath.Join(mnt, "prog"))
			closeHeld(t, f, byFlock, f.f)
		})
	})

	t.Run("at Close", func(t *testing.T) {
		dir := t.TempDir()
		forgetMount(t, dir)
		f := createWritten(t, filepath.Join(dir, "prog"))
		closeGivenAway(t, f, func() { closeHeld(t, f, byFlock, f.f) })
	})

	t.Run("other process", func(t *testing.T) {
		setForceNamed(t) // a name the other process can open
		dir := t.TempDir()
		forgetMount(t, dir)
		target := filepath.Join(dir, "prog")
		f := createWritten(t, target)
		w := openForWrite(t, filepath.Join(dir, f.tmp))
		holder := startHolder(t, w) // its own open, not a copy of f's
		w.Close()
		defer holder()
		closeGivenAway(t, f, func() {
			before := ReadStats()
			err := f.Close()
			d := delta(before, ReadStats())
			runErr := exec.Command(target).Run()
			t.Logf("Close = %v; then plain os/exec: %v; stats %+v", err, runErr, d)
			if err != nil || !closedBy(d, byFlock, 1) {
				t.Errorf("Close = %v, stats %+v; want nil, vouched for by flock, which sees only this process's copies", err, d)
			}
			if !errors.Is(runErr, syscall.ETXTBSY) {
				t.Errorf("running the file another process holds = %v, want ETXTBSY as documented", runErr)
			}
		})
	})

	t.Run("wrong record", func(t *testing.T) {
		dir := t.TempDir()
		target := writeScript(t, dir, "prog", "exit 7")
		id := mountID(t, dir)
		if id == 0 {
			t.Skip("requires STATX_MNT_ID_UNIQUE (Linux 6.8)")
		}
		noteMount(id, func(m *mountInfo) { m.lease = true })
		f := createWritten(t, target)
		if f.pw != nil || f.fallback != unchecked {
			t.Fatalf("on a mount recorded as granting leases, Create made a pipe or tested flock")
		}
		closeGivenAway(t, f, func() {
			before := ReadStats()
			err := f.Close()
			d := delta(before, ReadStats())
			t.Logf("Close = %v; stats %+v", err, d)
			if !errors.Is(err, errUnchecked) || !closedBy(d, unchecked, 1) {
				t.Errorf("Close that nothing vouched for = %v, stats %+v; want errUnchecked and 1 unchecked Close", err, d)
			}
			// The kernel's reason, in one line (#20).
			if !errors.Is(err, syscall.EACCES) || err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("Close that nothing vouched for = %q; want one line that satisfies errors.Is(err, syscall.EACCES)", err)
			}
		})
		oldScript(t, target)
		noTemps(t, dir)
		if knownMount(id).lease {
			t.Errorf("the record that proved wrong was kept")
		}
		if err := writeExecutable(target); err != nil {
			t.Errorf("WriteExecutable after the record was dropped: %v", err)
		}
	})
}

// closeHeld gives files, f's descriptors, to a child that lets go of them
// in a while, and checks that f's Close waits for it and returns nil,
// vouched for by v.
func closeHeld(t *testing.T, f *File, v vouch, files ...*os.File) {
	t.Helper()
	const hold = 100 * time.Millisecond
	time.AfterFunc(hold, startHolder(t, files...))
	before := ReadStats()
	start := time.Now()
	err := f.Close()
	took := time.Since(start)
	d := delta(before, ReadStats())
	t.Logf("Close = %v after %v; stats %+v", err, took, d)
	if err != nil || took < hold {
		t.Errorf("Close with a child holding the file for %v = %v after %v, want nil after the child let go", hold, err, took)
	}
	if !closedBy(d, v, 1) || d.DrainWaits != 1 {
		name := map[vouch]string{byLease: "the lease", byFlock: "flock", byPipe: "the pipe"}[v]
		t.Errorf("stats moved by %+v, want 1 Close vouched for by %s, which waited", d, name)
	}
}

// createWritten creates an executable at path and writes okScript to it;
// the test's cleanup aborts it.
func createWritten(t *testing.T, path string) *File {
	t.Helper()
	f, err := CreateExecutable(path, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Abort() })
	if _, err := f.WriteString(okScript); err != nil {
		t.Fatal(err)
	}
	return f
}

// oldScript fails the test unless path still holds the script "exit 7".
func oldScript(t *testing.T, path string) {
	t.Helper()
	if b, err := os.ReadFile(path); err != nil || string(b) != "#!/bin/sh\nexit 7\n" {
		t.Errorf("%s holds %q, %v; want the old script", path, b, err)
	}
}

// mountID returns the identity of dir's mount that Create would use.
func mountID(t *testing.T, dir string) uint64 {
	t.Helper()
	d, err := openDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, id, err := inspect(d, "nothing here")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestMountsNotReused mounts two tmpfs in turn at one place: what the
// first taught must not spare the second any check, even where the second
// gets the first's device number, as anonymous devices are reused (#12
// saw a FUSE mount get the device of a tmpfs just unmounted).
func TestMountsNotReused(t *testing.T) {
	var ids, devs [2]uint64
	for i := range 2 {
		t.Run("tmpfs", func(t *testing.T) {
			mnt := mountFS(t, "tmpfs")
			ids[i] = mountID(t, mnt)
			if ids[i] == 0 {
				t.Skip("requires STATX_MNT_ID_UNIQUE (Linux 6.8)")
			}
			var st unix.Stat_t
			if err := unix.Stat(mnt, &st); err != nil {
				t.Fatal(err)
			}
			devs[i] = st.Dev
			f := createWritten(t, filepath.Join(mnt, "prog"))
			if f.pw == nil {
				t.Errorf("the first Create on mount %d (device %#x) made no pipe", ids[i], devs[i])
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if !knownMount(ids[i]).lease {
				t.Errorf("after a granted lease, mount %d is not known to grant them", ids[i])
			}
		})
	}
	t.Logf("mounts %v on devices %#x", ids, devs)
	if ids[0] != 0 && ids[0] == ids[1] {
		t.Errorf("two mounts in turn got one identity %d", ids[0])
	}
}

// TestNoSIGIO opens the file being closed for writing, over and over,
// from another goroutine, while a program listens for every signal: the
// lease Close takes for a moment is then broken, and the kernel must
// signal that with SIGURG, not SIGIO (#12 saw 35 SIGIO in 300 Closes, and
// a C program hosting Go code killed by one).
func TestNoSIGIO(t *testing.T) {
	setForceNamed(t) // a name to open
	sigs := make(chan os.Signal, 1024)
	signal.Notify(sigs)
	defer signal.Stop(sigs)
	var sigio atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for s := range sigs {
			if s == syscall.SIGIO {
				sigio.Add(1)
			}
		}
	})

	dir := t.TempDir()
	names := make(chan string)
	var breaks atomic.Int64
	wg.Go(func() {
		var name string
		for {
			select {
			case n, ok := <-names:
				if !ok {
					return
				}
				name = n
			default:
			}
			if name == "" {
				continue
			}
			fd, err := unix.Open(name, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
			if err == unix.EWOULDBLOCK {
				breaks.Add(1) // a lease was held: the kernel broke it
			} else if err == nil {
				unix.Close(fd)
			}
		}
	})
	const n = 300
	var failed int
	for i := range n {
		f, err := CreateExecutable(filepath.Join(dir, "prog"), 0o755)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(okScript)
		names <- filepath.Join(dir, f.tmp)
		if err := f.Close(); err != nil {
			failed++ // the opener held the file open for writing
			t.Logf("Close %d: %v", i, err)
		}
	}
	close(names)
	signal.Stop(sigs)
	close(sigs)
	wg.Wait()
	t.Logf("%d Closes, %d failed, %d lease breaks seen by the opener, %d SIGIO", n, failed, breaks.Load(), sigio.Load())
	if sigio.Load() != 0 {
		t.Errorf("%d SIGIO arrived, want none", sigio.Load())
	}
}

// TestCreateHoldsNoForkLock checks that Create holds no share of
// syscall.ForkLock while it opens the file, a filesystem call that can
// take as long as a FUSE server likes (#12: a plain os/exec Start waited
// 1.4 s for a slow create), whether it makes the pipe or not; and that
// under the global gate it does, as documented.
func TestCreateHoldsNoForkLock(t *testing.T) {
	for _, tt := range []struct {
		name   string
		via    vouch
		global bool
	}{{"lease", byLease, false}, {"pipe", byPipe, false}, {"global gate", chosen, true}} {
		t.Run(tt.name, func(t *testing.T) {
			setForceVia(t, tt.via)
			setGlobalGate(t, tt.global)
			var free bool
			testHook = func(step string) {
				if step == "open" {
					free = syscall.ForkLock.TryLock()
					if free {
						syscall.ForkLock.Unlock()
					}
				}
			}
			t.Cleanup(func() { testHook = nil })
			f := createWritten(t, filepath.Join(t.TempDir(), "prog"))
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if free == tt.global {
				t.Errorf("ForkLock free while Create opened the file: %v, want %v", free, !tt.global)
			}
		})
	}
}

// TestCloseContext gives the file to a child that never lets go: a Close
// bounded by a context must return soon after the bound, whatever the
// drain and the retry budget, with an error that says both why and when,
// and leave the target as it was (#13).
func TestCloseContext(t *testing.T) {
	setRetryBudget(t, time.Hour)
	const bound = 200 * time.Millisecond
	for _, tt := range vias {
		for _, cancel := range []bool{false, true} {
			name := tt.name + map[bool]string{false: "/deadline", true: "/cancel"}[cancel]
			t.Run(name, func(t *testing.T) {
				setForceVia(t, tt.via)
				dir := t.TempDir()
				target := writeScript(t, dir, "prog", "exit 7")
				f := createWritten(t, target)
				release := startHolder(t, f.f, f.pw)
				defer release()
				// The bound: the context's deadline, or when it is
				// canceled.
				var doneAt atomic.Int64
				ctx, stop := context.WithTimeout(context.Background(), bound)
				want := context.DeadlineExceeded
				if d, _ := ctx.Deadline(); cancel {
					ctx, stop = context.WithCancel(context.Background())
					time.AfterFunc(bound, func() {
						doneAt.Store(time.Now().UnixNano())
						stop()
					})
					want = context.Canceled
				} else {
					doneAt.Store(d.UnixNano())
				}
				defer stop()
				err := f.CloseContext(ctx)
				late := time.Since(time.Unix(0, doneAt.Load()))
				t.Logf("CloseContext = %v, %v after the context was done", err, late)
				if !errors.Is(err, syscall.ETXTBSY) || !errors.Is(err, want) {
					t.Errorf("CloseContext = %v, want ETXTBSY and %v", err, want)
				}
				if err != nil && !strings.Contains(err.Error(), "still open for writing") {
					t.Errorf("CloseContext = %q, want it to say the file is still open for writing", err)
				}
				// The goal is 10ms on an idle machine; tests run beside
				// others, and the budget alone would make it an hour.
				if late > 100*time.Millisecond {
					t.Errorf("CloseContext returned %v after its context was done, want within 100ms", late)
				}
				oldScript(t, target)
				noTemps(t, dir)
			})
		}
	}
}

// TestLeaseGrantedToWriter makes the lease asked at Create be granted
// while the file is open for writing, as on a filesystem whose kernel
// does not count its writers: the lease cannot vouch there, and Create
// must choose the flock drain, tested on the file, or the pipe (#20).
func TestLeaseGrantedToWriter(t *testing.T) {
	was := leaseQuestion
	leaseQuestion = func(w *os.File) error { return errLeaseBlind }
	t.Cleanup(func() { leaseQuestion = was })
	dir := t.TempDir()
	forgetMount(t, dir)
	f := createWritten(t, filepath.Join(dir, "prog"))
	if f.via != byFlock || !errors.Is(f.refused, errLeaseBlind) {
		t.Errorf("a File whose lease was granted with the writer open: via %v, refused %v; want the flock drain (%v) and errLeaseBlind",
			f.via, f.refused, byFlock)
	}
	closeHeld(t, f, byFlock, f.f)
}

// TestMountOfDirectory bind mounts a file of another filesystem over the
// target: what Close learns must be recorded for the directory's mount,
// where the file is created, not for the target's (#20).
func TestMountOfDirectory(t *testing.T) {
	mnt := mountFS(t, "tmpfs")
	target := writeScript(t, mnt, "prog", "exit 7")
	other := writeScript(t, t.TempDir(), "other", "exit 3")
	if out, err := exec.Command("mount", "--bind", other, target).CombinedOutput(); err != nil {
		t.Skipf("requires mount --bind (%v: %s)", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", target).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", target, err, out)
		}
	})
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, target, 0, unix.STATX_MNT_ID_UNIQUE, &st); err != nil || st.Mask&unix.STATX_MNT_ID_UNIQUE == 0 {
		t.Skipf("requires STATX_MNT_ID_UNIQUE (Linux 6.8) (%v)", err)
	}
	f := createWritten(t, target)
	want := mountID(t, mnt)
	if f.mount != want || f.mount == st.Mnt_id {
		t.Errorf("File.mount = %d, want the directory's %d, not the bind mounted target's %d", f.mount, want, st.Mnt_id)
	}
}
