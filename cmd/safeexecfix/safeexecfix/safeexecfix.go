// Package safeexecfix defines an Analyzer that moves a package from os/exec
// to github.com/forkgate/forkgate/safeexec and writes its executables with
// safeexec's writers.
package safeexecfix

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/analysis"
)

const doc = `replace os/exec with safeexec and write executables with WriteExecutable

A program that writes an executable and runs it fails now and then with
"text file busy" (ETXTBSY) when another goroutine forks at the same moment
(go.dev/issue/22315). Package github.com/forkgate/forkgate/safeexec mirrors
os/exec and removes the race. This analyzer reports, and with -fix rewrites:

  - each import of "os/exec", which becomes safeexec under the name the file
    used ("exec" when it had none), in its own group after the standard
    library, as gofmt and goimports keep it;
  - each os.WriteFile whose constant mode has an execute bit, which becomes
    WriteExecutable (a file that does not import safeexec gets the import);
  - each call that hands a new *exec.Cmd to a function of another package
    that only sets the command's fields, which goes through Cmd.Configure,
    with os/exec kept under the name osexec for that call.

It only reports other ways of making an executable (os.OpenFile with an
execute bit, an os.Chmod or File.Chmod of a file created in the same
function), with the CreateExecutable recipe; directories are left alone.

A package keeps os/exec, and each reason is reported, when its exported
API involves exec.Cmd (its importers would see the type change), or when
the package, type-checked as the fix would leave it against a stand-in for
safeexec, has a type error: an *exec.Cmd meets code the fix does not
change, such as a function of another package that takes, returns or
stores one. The decision is per package, with its tests, so its files
always agree. The type checker and the code of the functions decide;
names are never trusted. A value that leaves the package as an interface
(a %v, a type switch on *exec.Cmd elsewhere) changes type unseen.

WriteExecutable is not os.WriteFile. It writes a new file and moves it into
place when it is complete, so: the old file's mode, owner and hard links do
not carry over (the new file has mode perm less the umask, whether the file
existed or not); a symbolic link at the name is replaced, not written
through; it needs write access to the directory, not only to the file; it
fails where os.WriteFile would have written to a non-regular file such as a
device; and it returns only when nobody holds the file open for writing, so
it may wait up to safeexec's retry budget, and fails with ETXTBSY after it.

Run it with "go fix -fixtool=$(which safeexecfix) ./...", or with
"go vet -vettool=$(which safeexecfix) ./..." for the report alone, or as
"safeexecfix -fix ./..." (add -diff to print the changes instead).`

// Analyzer reports and fixes the uses of os/exec and the executable writers
// of a package.
var Analyzer = &analysis.Analyzer{
	Name:      "safeexecfix",
	Doc:       doc,
	URL:       "https://github.com/forkgate/forkgate/tree/main/cmd/safeexecfix",
	Run:       run,
	FactTypes: []analysis.Fact{new(configuresFact)},
}

const (
	safeexecPath = "github.com/forkgate/forkgate/safeexec"
	osexecName   = "osexec" // the name os/exec keeps where a call needs it
)

func run(pass *analysis.Pass) (any, error) {
	exportConfigureFacts(pass)
	if testedElsewhere(pass) {
		// The package's test variant, which singlechecker also loads,
		// sees every file and decides for all of them.
		return nil, nil
	}
	p := newPlan(pass)
	p.decide()
	p.report()
	return nil, nil
}

// testedElsewhere reports whether pass is the plain variant of a package
// that has tests in the same package, which a driver with tests loaded
// analyzes again with them. go vet and go fix analyze only that variant.
func testedElsewhere(pass *analysis.Pass) bool {
	if len(pass.Files) == 0 {
		return false
	}
	var dir string
	for _, f := range pass.Files {
		name := pass.Fset.File(f.Pos()).Name()
		if strings.HasSuffix(name, "_test.go") {
			return false
		}
		dir = filepath.Dir(name)
	}
	ignored := make(map[string]bool)
	for _, name := range pass.IgnoredFiles {
		ignored[filepath.Clean(name)] = true
	}
	tests, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	for _, t := range tests {
		if ignored[filepath.Clean(t)] {
			continue // excluded by build constraints: no test variant has it
		}
		src, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if packageClause(src) == pass.Pkg.Name() {
			return true
		}
	}
	return false
}

// packageClause returns the package name a Go file declares, or "".
func packageClause(src []byte) string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.PackageClauseOnly)
	if err != nil {
		return ""
	}
	return f.Name.Name
}

// execObject reports whether obj belongs to os/exec.
func execObject(obj types.Object) bool {
	return obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == "os/exec"
}

// isExecCmd reports whether t is os/exec's Cmd.
func isExecCmd(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && execObject(n.Obj()) && n.Obj().Name() == "Cmd"
}

// isExecCmdPointer reports whether t is *exec.Cmd.
func isExecCmdPointer(t types.Type) bool {
	p, ok := types.Unalias(t).(*types.Pointer)
	return ok && isExecCmd(p.Elem())
}

// importPath returns the path that spec imports.
func importPath(spec *ast.ImportSpec) string {
	return strings.Trim(spec.Path.Value, "`\"")
}
