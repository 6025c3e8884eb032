package safeexec

// Tests of the writers on real filesystems besides the one that holds the
// test's temporary directory: tmpfs, overlayfs and FUSE (Debian's bindfs),
// mounted here when the tests run as root, as CI does (#7).

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mountFS mounts a new filesystem of the named kind (tmpfs, overlay, fuse,
// or fuse-nobody, whose files all belong to nobody) and returns its root;
// the test's cleanup unmounts it. It skips the test, with the reason, where
// it cannot mount.
func mountFS(t *testing.T, kind string) string {
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
// Close chooses and with the flock and pipe drains; os.WriteFile and plain os/exec
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
					s := mixedStorm(t, writeExecutable)
					n, failed, spawns := s.loopIn(t, mnt, cycles/8, tt.limit)
					t.Logf("%d/%d cycles failed beside %d spawns", failed, n, spawns)
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
