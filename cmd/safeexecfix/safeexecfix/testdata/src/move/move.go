package move

import (
	"fmt"
	"os"
	"os/exec" // want `os/exec can be replaced by safeexec \(a command it starts fails now and then with "text file busy" when it runs a file just written while another goroutine forks; import "github.com/forkgate/forkgate/safeexec" as exec\)`
	"strings"
)

func run(args ...string) error {
	var exitErr *exec.ExitError
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil && errorsAs(err, &exitErr) {
		return fmt.Errorf("%s: %v", strings.Join(args, " "), exitErr)
	}
	fmt.Print(string(out))
	return err
}

func errorsAs(err error, target **exec.ExitError) bool { return false }
