package safeexecfix_test

import (
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
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
		"ignored", "apideep", "apidefined", "importcomment", "nametest", "ambiguous",
		"example.com/conflib", "routewf", "funclit", "skiptest")
}

// TestOneLineImport runs the case of an import declaration on one line,
// which gofmt splits, so that it cannot live in testdata, which the
// repository keeps gofmt-clean.
func TestOneLineImport(t *testing.T) {
	dir := t.TempDir()
	pkg := filepath.Join(dir, "src", "oneline")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	src := "package oneline\n\n" +
		"import (\"fmt\"; \"os/exec\") // want `the fix cannot move this import of os/exec: " +
		"the import of os/exec shares its line with another import, which the fix does not rewrite: run gofmt`\n\n" +
		"// F runs true.\nfunc F() { fmt.Println(exec.Command(\"true\").Run()) }\n"
	if err := os.WriteFile(filepath.Join(pkg, "o.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "o.go.golden"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	analysistest.RunWithSuggestedFixes(t, dir, safeexecfix.Analyzer, "oneline")
}

// TestAnalyzerCgo runs the cases of cgo packages, where cgo can run.
func TestAnalyzerCgo(t *testing.T) {
	if !build.Default.CgoEnabled {
		t.Skip("cgo is disabled")
	}
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
		if runtime.GOOS == "darwin" || runtime.GOOS == "freebsd" || runtime.GOOS == "openbsd" {
			cc = "clang"
		}
	}
	if _, err := exec.LookPath(strings.Fields(cc + " x")[0]); err != nil {
		t.Skipf("no C compiler for cgo: %v", err)
	}
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), safeexecfix.Analyzer, "cgoexec", "cgowrite")
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
	known := slices.Concat(safeexecfix.CmdMembers(), safeexecfix.CmdExtras())
	for name := range members {
		if token.IsExported(name) && !slices.Contains(known, name) {
			t.Errorf("safeexec.Cmd has %s, which the analyzer does not know", name)
		}
	}
	for _, name := range safeexecfix.CmdExtras() {
		if !members[name] {
			t.Errorf("the analyzer takes safeexec.Cmd to have %s, which it does not", name)
		}
	}
	checkStandIn(t, ct, pt)
}

// checkStandIn checks that the stand-in for safeexec that the type check
// uses has every exported field and method of safeexec.Cmd, with the same
// types, so that a selector or an interface meets the same Cmd.
func checkStandIn(t *testing.T, ct, pt reflect.Type) {
	execPkg, err := importer.Default().Import("os/exec")
	if err != nil {
		t.Fatal(err)
	}
	cmd := safeexecfix.StandIn(execPkg).Scope().Lookup("Cmd").Type()
	str := func(t types.Type) string {
		// reflect spells byte as uint8.
		return strings.ReplaceAll(types.TypeString(t, (*types.Package).Name), "byte", "uint8")
	}
	for i := range ct.NumField() {
		f := ct.Field(i)
		if !f.IsExported() {
			continue
		}
		obj, _, _ := types.LookupFieldOrMethod(cmd, true, nil, f.Name)
		v, ok := obj.(*types.Var)
		if !ok {
			t.Errorf("the stand-in safeexec.Cmd lacks field %s", f.Name)
		} else if got := str(v.Type()); got != f.Type.String() {
			t.Errorf("the stand-in safeexec.Cmd.%s has type %s, safeexec's %s", f.Name, got, f.Type)
		}
	}
	for i := range pt.NumMethod() {
		m := pt.Method(i)
		obj, _, _ := types.LookupFieldOrMethod(cmd, true, nil, m.Name)
		fn, ok := obj.(*types.Func)
		if !ok {
			t.Errorf("the stand-in safeexec.Cmd lacks method %s", m.Name)
			continue
		}
		sig := fn.Signature()
		var want, got []string
		for j := 1; j < m.Type.NumIn(); j++ { // after the receiver
			want = append(want, m.Type.In(j).String())
		}
		want = append(want, "->")
		for j := range m.Type.NumOut() {
			want = append(want, m.Type.Out(j).String())
		}
		for v := range sig.Params().Variables() {
			got = append(got, str(v.Type()))
		}
		got = append(got, "->")
		for v := range sig.Results().Variables() {
			got = append(got, str(v.Type()))
		}
		if !slices.Equal(got, want) {
			t.Errorf("the stand-in safeexec.Cmd.%s has signature %v, safeexec's %v", m.Name, got, want)
		}
	}
}
