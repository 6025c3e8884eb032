package importcomment

import (
	"fmt"
	"os/exec" // want `os/exec can be replaced by safeexec`
	"strings"
)

func line() error {
	return exec.Command("echo", strings.ToUpper(fmt.Sprint(1))).Run()
}
