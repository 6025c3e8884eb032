package safeexec

// Tests of the writers on real filesystems besides the one that holds the
// test's temporary directory: tmpfs, overlayfs and FUSE (Debian's bindfs),
// mounted here when the tests run as root, as CI does (#7).

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mountFS mounts a new filesystem of the named kind (tmpfs, overlay, fuse,
// or fuse-nobody, whose files all belong to nobody) and returns its root;
// the test's cleanup unmounts it. It skips the test, with the reason, where
// it cannot mount.
func mountFS(t testing.TB, kind string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("mounting %s requires root", kind)
	}
	base := t.TempDir()
	dir := func(name string) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mnt := dir("mnt")
	var args []string
	switch kind {
	case "tmpfs":
		args = []string{"mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt}
	case "overlay":
		opts := "lowerdir=" + dir("lower") + ",upperdir=" + dir("upper") + ",workdir=" + dir("work")
		args = []string{"mount", "-t", "overlay", "-o", opts, "overlay", mnt}
	case "fuse", "fuse-nobody":
		if _, err := exec.LookPath("bindfs"); err != nil {
			t.Skipf("requires bindfs, Debian's package of that name (%v)", err)
		}
		args = []string{"bindfs", dir("src"), mnt}
		if kind == "fuse-nobody" {
			// Every file shows as nobody's, as on a mount with a forced owner.
			args = append(args, "--force-user=nobody", "--force-group=nogroup")
		}
	default:
		t.Fatalf("no filesystem kind %q", kind)
	}
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Skipf("requires %s to mount (%v: %s)", kind, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

// TestFilesystems writes and runs scripts on tmpfs, overlayfs and FUSE.
// On each, the kernel must grant Close a lease on the file, and the mixed
// storm (spawners through safeexec and plain os/exec, runs through
// safeexec, plain os/exec and sh -c) must see no failure, with the drain
// Close chooses and with the flock and pipe drains (but the residual that
// mixedStorm describes); os.WriteFile and plain os/exec
// beside plain os/exec spawners are the control, logged. On FUSE the issue measured the old gate barrier
// failing 2-3% of plain runs (#7).
func TestFilesystems(t *testing.T) {
	cycles, _ := stormCycles()
	// A cycle on FUSE takes two or three times as long as on the others.
	tests := []struct {
		kind  string
		magic int64
		limit time.Duration
	}{
		{"tmpfs", unix.TMPFS_MAGIC, stormLimit},
		{"overlay", unix.OVERLAYFS_SUPER_MAGIC, stormLimit},
		{"fuse", unix.FUSE_SUPER_MAGIC, 2 * stormLimit},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			mnt := mountFS(t, tt.kind)
			var st unix.Statfs_t
			if err := unix.Statfs(mnt, &st); err != nil || int64(st.Type) != tt.magic {
				t.Fatalf("statfs(%s) = type %#x, %v; want %s (%#x)", mnt, st.Type, err, tt.kind, tt.magic)
			}

			before := ReadStats()
			if err := WriteExecutable(filepath.Join(mnt, "probe"), []byte(okScript), 0o755); err != nil {
				t.Fatal(err)
			}
			if d := delta(before, ReadStats()); !closedBy(d, byLease, 1) {
				t.Errorf("stats moved by %+v, want 1 Close vouched for by the lease: leases should work on %s", d, tt.kind)
			}
			if err := runExec(filepath.Join(mnt, "probe")); err != nil {
				t.Fatal(err)
			}
			if testing.Short() {
				return
			}

			for _, dr := range append([]struct {
				name string
				via  vouch
			}{{"chosen", chosen}}, vias[1:]...) {
				t.Run(dr.name, func(t *testing.T) {
					setForceVia(t, dr.via)
					s, residual := mixedStorm(t, writeExecutable, dr.via)
					n, failed, spawns := s.loopIn(t, mnt, cycles/8, tt.limit)
					t.Logf("%d/%d cycles failed beside %d spawns (%d plain runs met ETXTBSY after a drain that sees only children)",
						failed, n, spawns, residual.Load())
					if failed > 0 {
						t.Errorf("%d of %d write-then-run cycles failed, want 0", failed, n)
					}
					if n < min(cycles/8, minStormCycles) {
						t.Errorf("only %d cycles ran, want at least %d", n, min(cycles/8, minStormCycles))
					}
				})
			}
			tp := truePath(t)
			control := storm{
				spawn: func() error { return exec.Command(tp).Run() },
				write: writeScriptFile,
				run:   runExec,
			}
			n, failed, _ := control.loopIn(t, mnt, cycles/8, tt.limit/2)
			t.Logf("control, os.WriteFile and plain os/exec: %d/%d cycles failed (%.1f%%)",
				failed, n, 100*float64(failed)/float64(max(n, 1)))
		})
	}
}

// mountSlowFUSE mounts a FUSE filesystem, bindfs or unionfs (Debian's
// bindfs and unionfs-fuse), single-threaded, with every open its daemon
// makes delayed by delay: strace injects the delay before each openat
// system call of the daemon, so that a FUSE create or open takes that
// much longer, as on a daemon whose opens are slow (a network
// filesystem's, say). bindfs implements no FUSE flush, so the kernel stops
// asking it after the first; unionfs does, so every close of a
// descriptor there, a child's at exec too, is a request. It returns the
// mount's root; the test's cleanup unmounts it and waits for the daemon.
// It skips the test, with the reason, where it cannot.
func mountSlowFUSE(t *testing.T, daemon string, delay time.Duration) string {
	inject := fmt.Sprintf("openat:delay_enter=%d", delay.Microseconds())
	mnt, _ := mountStraced(t, daemon, nil, "-o", "/dev/null", "-e", "trace=openat", "-e", "inject="+inject)
	return mnt
}

// mountStraced mounts daemon's filesystem, single-threaded, with the
// daemon's own mount options opts (-o) if any, and the daemon run under
// strace with the given options. It returns the mount's
// root and a function that unmounts it and waits for the daemon and
// strace to exit, which the test's cleanup calls too. It skips the test,
// with the reason, where it cannot.
func mountStraced(t *testing.T, daemon string, opts []string, options ...string) (mnt string, unmount func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("mounting %s requires root", daemon)
	}
	for _, p := range []string{daemon, "strace"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("requires %s, Debian's package of that name (%v)", p, err)
		}
	}
	base := t.TempDir()
	src, mnt := filepath.Join(base, "src"), filepath.Join(base, "mnt")
	for _, d := range []string{src, mnt} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"strace", "-f", "--seccomp-bpf", "-qq"}, options...)
	switch daemon {
	case "bindfs":
		args = append(args, "bindfs", "-f", src, mnt) // single-threaded unless --multithreaded
		if len(opts) > 0 {
			args = append(args, "-o", strings.Join(opts, ","))
		}
	case "unionfs":
		args = append(args, "unionfs", "-f", "-s", src+"=RW", mnt)
	default:
		t.Fatalf("no FUSE daemon %q", daemon)
	}
	cmd := exec.Command(args[0], args[1:]...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Skipf("requires strace to start %s (%v)", daemon, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st unix.Statfs_t
		if unix.Statfs(mnt, &st) == nil && st.Type == unix.FUSE_SUPER_MAGIC {
			break
		}
		select {
		case err := <-exited:
			t.Skipf("requires %s under strace to mount (%v: %s)", daemon, err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			t.Fatalf("%s under strace did not mount %s within 10s: %s", daemon, mnt, out.String())
		}
		time.Sleep(time.Millisecond) // the daemon mounts in its own time
	}
	unmount = sync.OnceFunc(func() {
		if b, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, b)
			cmd.Process.Kill()
		}
		<-exited // the daemon exits once unmounted
	})
	t.Cleanup(unmount)
	return mnt, unmount
}

// TestSlowFUSEStarts writes executables on FUSE, single-threaded, with
// its opens slowed, beside a goroutine that starts true through plain
// os/exec. A child forked while a File's descriptor is open closes its
// copy at exec, and on FUSE that close may wait for the daemon (the
// inode's lock, which the kernel holds across some requests, and a FUSE
// flush where the daemon takes them); Start waits for the exec. So a File
// must make no slow request while it holds a descriptor there: issue #20
// measured a Start of 1.5 s beside WriteExecutable, against 3 ms beside
// os.WriteFile, when Create reopened the file with the writer open. The
// test checks that no span in which the File holds a descriptor of the
// file lasts as long as a slow open, and that no Start beside
// WriteExecutable waits longer than two slow opens unless one beside
// os.WriteFile waited as long.
func TestSlowFUSEStarts(t *testing.T) {
	for _, daemon := range []string{"bindfs", "unionfs"} {
		t.Run(daemon, func(t *testing.T) { slowFUSEStarts(t, daemon) })
	}
}

// slowFUSEStarts is TestSlowFUSEStarts on the named FUSE daemon. unionfs
// takes FUSE flushes, which bindfs does not: there every child's exec
// asks the daemon.
func slowFUSEStarts(t *testing.T, daemon string) {
	// The delay is long beside what a loaded machine adds to a Start or
	// a span (up to tens of milliseconds on two busy cores), so that the
	// checks below tell a slowed open from noise.
	const delay = 200 * time.Millisecond
	mnt := mountSlowFUSE(t, daemon, delay)
	path := filepath.Join(mnt, "prog")
	// The first Create on the mount learns what it grants, and tests flock.
	if err := writeExecutable(path); err != nil {
		t.Fatal(err)
	}

	// The spans in which the File holds a descriptor of the file: from
	// the open for writing to its close, and from the read-only reopen
	// to the rename (a named file's is closed before).
	var (
		mu    sync.Mutex
		since time.Time
		spans []time.Duration
	)
	testHook = func(step string) {
		mu.Lock()
		defer mu.Unlock()
		switch step {
		case "opened", "reopened":
			since = time.Now()
		case "closed", "link":
			spans = append(spans, time.Since(since))
		}
	}
	t.Cleanup(func() { testHook = nil })

	tp := truePath(t)
	ways := []struct {
		name  string
		write func(string) error
	}{{"os.WriteFile", writeScriptFile}, {"WriteExecutable", writeExecutable}}
	var longest [2]time.Duration
	var starts, slow [2]int
	const cycles = 3
	for i, w := range ways {
		var (
			quit = make(chan struct{})
			done = make(chan struct{})
		)
		go func() {
			defer close(done)
			for {
				select {
				case <-quit:
					return
				default:
				}
				cmd := exec.Command(tp)
				begin := time.Now()
				err := cmd.Start()
				took := time.Since(begin)
				if err != nil {
					t.Errorf("beside %s: Start: %v", w.name, err)
					return
				}
				cmd.Wait()
				longest[i] = max(longest[i], took)
				starts[i]++
				if took >= delay {
					slow[i]++
				}
			}
		}()
		for range cycles {
			if err := w.write(path); err != nil {
				t.Errorf("%s: %v", w.name, err)
				break
			}
		}
		close(quit)
		<-done
	}
	for i, w := range ways {
		t.Logf("beside %s: %d Starts, %d of them %v or longer; the longest %v", w.name, starts[i], slow[i], delay, longest[i])
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("spans with a descriptor open: %v", spans)
	if len(spans) != 2*cycles {
		t.Errorf("%d spans with a descriptor open in %d WriteExecutables, want %d", len(spans), cycles, 2*cycles)
	}
	for _, d := range spans {
		if d >= delay/2 {
			t.Errorf("WriteExecutable held a descriptor for %v, as long as an open of the daemon's (%v): a child forked meanwhile may wait for it at exec", d, delay)
		}
	}
	// A child forked just before a descriptor is closed may exec only
	// once the next open has begun, and wait for it: os.WriteFile in a
	// loop meets that too, and the span check above is the exact one. A
	// Start that waited two slow opens waited for the File.
	if longest[1] > max(longest[0], 2*delay) {
		t.Errorf("the longest plain os/exec Start beside WriteExecutable took %v, beside os.WriteFile %v; want no longer",
			longest[1], longest[0])
	}
}

func init() {
	// no-proc hides /proc under an empty tmpfs, in the private mount
	// namespace its parent started it in, mounts a tmpfs at its second
	// argument, and writes and runs executables in each directory it is
	// given, as a program in a chroot or sandbox without /proc would. It
	// reports what failed on stdout.
	helpers["no-proc"] = func(args []string) int {
		fail := func(format string, a ...any) int {
			fmt.Printf(format+"\n", a...)
			return 1
		}
		if err := unix.Mount("none", "/proc", "tmpfs", 0, ""); err != nil {
			return fail("mount tmpfs on /proc: %v", err)
		}
		if err := unix.Mount("none", args[1], "tmpfs", 0, ""); err != nil {
			return fail("mount tmpfs on %s: %v", args[1], err)
		}
		if _, err := os.Stat("/proc/self/fd"); err == nil {
			return fail("/proc/self/fd is still there")
		}
		if canUnname() {
			return fail("canUnname() = true without /proc")
		}
		syscall.Umask(0o027)
		for _, dir := range args {
			path := filepath.Join(dir, "prog")
			if err := os.WriteFile(filepath.Join(dir, "control"), []byte(okScript), 0o755); err != nil {
				return fail("os.WriteFile in %s: %v", dir, err)
			}
			for i := range 2 { // a new file, then one replaced
				before := ReadStats()
				if err := WriteExecutable(path, []byte(okScript), 0o755); err != nil {
					return fail("WriteExecutable %d in %s: %v", i, dir, err)
				}
				if d := delta(before, ReadStats()); d.LeaseCloses != 1 {
					return fail("WriteExecutable %d in %s: stats moved by %+v, want 1 Close vouched for by the lease", i, dir, d)
				}
				if err := Command(path).Run(); err != nil {
					return fail("running %s: %v", path, err)
				}
				if fi, err := os.Stat(path); err != nil || fi.Mode() != 0o750 {
					return fail("Stat(%s) = %v, %v; want -rwxr-x---, 0o755 less the umask 0o027", path, fi.Mode(), err)
				}
			}
			// Without /proc the umask is read by making a directory:
			// modes that a guess from the file's own bits gets wrong.
			for _, m := range []struct{ umask, perm, want os.FileMode }{
				{0o077, 0o711, 0o700},
				{0o011, 0o755, 0o744},
				{0o077, 0o711 | os.ModeSetuid, 0o700 | os.ModeSetuid},
			} {
				syscall.Umask(int(m.umask))
				err := WriteExecutable(path, []byte(okScript), m.perm)
				var got os.FileMode
				fi, serr := os.Stat(path)
				if serr == nil {
					got = fi.Mode()
				}
				if err != nil || serr != nil || got != m.want {
					return fail("WriteExecutable(%v) with umask %#o in %s: %v; Stat: %v, %v; want %v",
						m.perm, m.umask, dir, err, got, serr, m.want)
				}
			}
			syscall.Umask(0o027)
		}
		return 0
	}
}

// TestNoProc writes executables where there is no /proc, as in a chroot
// or a build sandbox, on ext4 (or whatever holds the test's temporary
// directory) and tmpfs, where Files have no name while /proc is there:
// they must work as os.WriteFile does (#20: every WriteExecutable failed
// with "no such file or directory"). A child hides /proc in a private
// mount namespace.
func TestNoProc(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("hiding /proc in a mount namespace requires root")
	}
	base := t.TempDir()
	tmpfs := filepath.Join(base, "tmpfs")
	if err := os.Mkdir(tmpfs, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := helperExecCommand(t, "no-proc", base, tmpfs)
	// Go makes every mount private in the new namespace before the
	// helper runs, so that nothing it mounts is seen outside.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Skipf("requires a private mount namespace (%v)", err)
	}
	if err != nil {
		t.Errorf("without /proc: %v: %s", err, out)
	}
}

// BenchmarkWriteExecutableFUSE is BenchmarkWriteExecutable on bindfs,
// where every system call on the file is a round trip to the daemon.
func BenchmarkWriteExecutableFUSE(b *testing.B) {
	benchWriteExecutable(b, fuseBenchDir(b))
}

// fuseBenchDir mounts bindfs and returns a function that makes a new
// directory there for each sub-benchmark.
func fuseBenchDir(b *testing.B) func(*testing.B) string {
	mnt := mountFS(b, "fuse")
	return func(b *testing.B) string {
		dir, err := os.MkdirTemp(mnt, "bench")
		if err != nil {
			b.Fatal(err)
		}
		return dir
	}
}

// BenchmarkCloseStormFUSE is BenchmarkCloseStorm on bindfs, where every
// call that reaches the file is a request to the daemon, whose thread
// competes with the storm for the CPUs.
func BenchmarkCloseStormFUSE(b *testing.B) {
	benchCloseStorm(b, fuseBenchDir(b))
}
