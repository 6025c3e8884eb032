package named

import (
	"context"
	run "os/exec" // want `os/exec can be replaced by safeexec .*import "github.com/forkgate/forkgate/safeexec" as run\)`
)

func Start(ctx context.Context) error {
	return run.CommandContext(ctx, "true").Start()
}
