package safeexec

// A helper written for os/exec that gives a command a controlling
// terminal, used through Cmd.Configure (issue #15).

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func init() {
	// ctty reports whether descriptor 3 is the controlling terminal of
	// the helper's session, and whether the helper leads that session.
	helpers["ctty"] = func(args []string) int {
		sid, err := unix.IoctlGetInt(3, unix.TIOCGSID)
		if err != nil {
			fmt.Printf("no controlling terminal on descriptor 3: %v\n", err)
			return 1
		}
		fmt.Printf("controlling terminal on descriptor 3, session leader %v\n", sid == os.Getpid())
		return 0
	}
}

// setCtty makes tty the controlling terminal of cmd's process in a new
// session, as SetCtty of github.com/rogpeppe/go-internal's testscript
// does: the function that broke after the import swap in issue #15.
func setCtty(cmd *exec.Cmd, tty *os.File) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
	cmd.ExtraFiles = []*os.File{tty}
}

// openPty opens a pseudo-terminal and returns its terminal end, or skips.
func openPty(t *testing.T) *os.File {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("requires /dev/ptmx (%v)", err)
	}
	t.Cleanup(func() { ptm.Close() })
	fd := int(ptm.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("requires unlocking a pseudo-terminal (%v)", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("requires a pseudo-terminal's number (%v)", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("requires /dev/pts (%v)", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}

// TestConfigureCtty runs a helper that reports its controlling terminal,
// configured by setCtty through os/exec and through Configure, which must
// agree; and, to show that the check can fail, through the adapter that
// copied SysProcAttr alone, which issue #15 reports, and with ExtraFiles
// alone.
func TestConfigureCtty(t *testing.T) {
	t.Parallel()
	const haveCtty = "controlling terminal on descriptor 3, session leader true\n"
	tests := []struct {
		name    string
		run     func(t *testing.T, tty *os.File, out *strings.Builder) error
		wantOut string // what the helper prints, if it runs
		wantErr string // a part of the error, or "" for nil
	}{
		{"os/exec", func(t *testing.T, tty *os.File, out *strings.Builder) error {
			x := helperExecCommand(t, "ctty")
			x.Env, x.Stdout = quickExit(x.Env), out
			setCtty(x, tty)
			return x.Run()
		}, haveCtty, ""},
		{"Configure", func(t *testing.T, tty *os.File, out *strings.Builder) error {
			c := quickHelper(t, "ctty")
			c.Stdout = out
			c.Configure(func(x *exec.Cmd) { setCtty(x, tty) })
			return c.Run()
		}, haveCtty, ""},
		{"SysProcAttr copied by hand", func(t *testing.T, tty *os.File, out *strings.Builder) error {
			c := quickHelper(t, "ctty")
			c.Stdout = out
			x := new(exec.Cmd)
			setCtty(x, tty)
			c.SysProcAttr = x.SysProcAttr // and ExtraFiles forgotten
			return c.Run()
		}, "", "Setctty set but Ctty not valid in child"},
		{"ExtraFiles alone", func(t *testing.T, tty *os.File, out *strings.Builder) error {
			c := quickHelper(t, "ctty")
			c.Stdout = out
			c.Configure(func(x *exec.Cmd) { x.ExtraFiles = []*os.File{tty} })
			return c.Run()
		}, "no controlling terminal on descriptor 3: inappropriate ioctl for device\n", "exit status 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tty := openPty(t)
			var out strings.Builder
			err := tt.run(t, tty, &out)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Run() = %v, want an error containing %q (\"\" for nil)", err, tt.wantErr)
			}
			if got := out.String(); got != tt.wantOut {
				t.Errorf("the helper printed %q, want %q", got, tt.wantOut)
			}
		})
	}
}
