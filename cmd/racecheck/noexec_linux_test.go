package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNoexec runs racecheck in a tmpfs mounted noexec, where plain os/exec
// cannot run anything it writes: racecheck must say so and exit 2, not
// count the failures as the race or report safeexec as fine (issue #8).
func TestNoexec(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("requires root, to mount a noexec tmpfs")
	}
	dir := t.TempDir()
	if err := unix.Mount("racecheck-test", dir, "tmpfs", unix.MS_NOEXEC|unix.MS_NOSUID|unix.MS_NODEV, "size=8m"); err != nil {
		t.Skipf("requires mounting a tmpfs (%v)", err)
	}
	// Cleanups run last first: this one before t.TempDir's removal.
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})

	code, out := runFor(t, "-dir", dir, "-duration", "1s")
	if code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	for _, want := range []string{"plain os/exec cannot run", "permission denied", "tmpfs"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	checkWidth(t, "report", out)

	code, out = runFor(t, "-dir", dir, "-duration", "1s", "-json")
	var rep struct {
		ExecError string
		ExitCode  int
		FSType    string
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if code != 2 || rep.ExitCode != 2 || rep.ExecError == "" || rep.FSType != "tmpfs" {
		t.Errorf("-json: exit status %d, exitCode %d, execError %q, fsType %q; want 2, 2, an error, tmpfs",
			code, rep.ExitCode, rep.ExecError, rep.FSType)
	}
}
