// Safeexecfix moves Go packages from os/exec to
// github.com/forkgate/forkgate/safeexec and writes their executables with
// safeexec's writers. Run it through go fix or go vet:
//
//	go install github.com/forkgate/forkgate/cmd/safeexecfix@latest
//	go fix -fixtool=$(go env GOPATH)/bin/safeexecfix ./...
//	go vet -vettool=$(go env GOPATH)/bin/safeexecfix ./...
//
// or on its own, as safeexecfix [-fix [-diff]] packages. Run
// "safeexecfix -help" for what it reports and changes.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/forkgate/forkgate/cmd/safeexecfix/safeexecfix"
)

func main() { singlechecker.Main(safeexecfix.Analyzer) }
