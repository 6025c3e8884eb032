// Safeexecfix moves Go packages from os/exec to
// github.com/forkgate/forkgate/safeexec and writes their executables with
// safeexec's writers. Install it from a clone of the repository, then run
// it through go vet (report only) or go fix (Go 1.26 or later):
//
//	(cd cmd/safeexecfix && go install .)
//	go vet -vettool=$(go env GOPATH)/bin/safeexecfix ./...
//	go fix -fixtool=$(go env GOPATH)/bin/safeexecfix ./...
//
// or on its own, as safeexecfix [-fix [-diff]] packages. Run
// "safeexecfix -help" for what it reports and changes.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/forkgate/forkgate/cmd/safeexecfix/safeexecfix"
)

func main() { singlechecker.Main(safeexecfix.Analyzer) }
