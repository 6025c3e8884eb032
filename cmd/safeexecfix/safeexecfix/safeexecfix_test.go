package safeexecfix_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/forkgate/forkgate/cmd/safeexecfix/safeexecfix"
	"github.com/forkgate/forkgate/safeexec"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestAnalyzer runs every rewrite and every refusal in testdata/src, one
// package each, against its .golden files.
func TestAnalyzer(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), safeexecfix.Analyzer,
		"move", "named", "single", "thirdparty", "writers", "addimport", "creators",
		"example.com/helper", "route", "starter", "api", "field", "result", "dot", "loop", "returns", "mixed", "generated",
		"ignored", "apideep", "nametest")
}

// TestNames checks the names the analyzer believes safeexec has against
// the package itself.
func TestNames(t *testing.T) {
	fset := token.NewFileSet()
	files, _ := filepath.Glob("../../../safeexec/*.go")
	scope := make(map[string]bool)
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					scope[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						scope[s.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range s.Names {
							scope[n.Name] = true
						}
					}
				}
			}
		}
	}
	if !scope["Command"] {
		t.Fatalf("found no safeexec source in ../../../safeexec (%d files)", len(files))
	}
	for _, name := range safeexecfix.SafeexecNames() {
		if !scope[name] {
			t.Errorf("the analyzer takes exec.%s to be in safeexec, which does not declare it", name)
		}
	}
	members := make(map[string]bool)
	ct := reflect.TypeFor[safeexec.Cmd]()
	for i := range ct.NumField() {
		members[ct.Field(i).Name] = true
	}
	pt := reflect.TypeFor[*safeexec.Cmd]()
	for i := range pt.NumMethod() {
		members[pt.Method(i).Name] = true
	}
	for _, name := range safeexecfix.CmdMembers() {
		if !members[name] {
			t.Errorf("the analyzer takes exec.Cmd.%s to be in safeexec.Cmd, which has no such field or method", name)
		}
	}
}
