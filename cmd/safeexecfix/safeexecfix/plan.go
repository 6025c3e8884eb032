package safeexecfix

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// safeexecNames are the package-level names of os/exec that safeexec has,
// and cmdMembers the fields and methods of exec.Cmd that safeexec.Cmd has.
// TestNames checks them, and cmdExtras, against the package.
var (
	safeexecNames = set("Cmd", "Command", "CommandContext", "LookPath",
		"Error", "ExitError", "ErrNotFound", "ErrDot", "ErrWaitDelay")
	cmdMembers = set("Path", "Args", "Env", "Dir", "Stdin", "Stdout", "Stderr",
		"ExtraFiles", "SysProcAttr", "Process", "ProcessState", "Err", "Cancel",
		"WaitDelay", "String", "Environ", "Run", "Start", "Wait", "Output",
		"CombinedOutput", "StdinPipe", "StdoutPipe", "StderrPipe")
	// cmdExtras are the methods of safeexec.Cmd that exec.Cmd lacks, which
	// the stand-in for safeexec has too (fakeSafeexec gives their types).
	cmdExtras = set("Configure", "SetRetryBudget")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// A plan is what the fix does to one package: it moves every file that
// imports os/exec to safeexec, or, if any site forbids it, none.
type plan struct {
	pass      *analysis.Pass
	execFiles map[*ast.File]*ast.ImportSpec // the files importing os/exec, and how
	refusals  []refusal
	routes    map[*ast.File][]*route
	notRouted []notRouted
	deep      *typeWalker
	cgo       bool // the package has cgo files, which the fix does not edit
}

// A refusal is a site that keeps the package on os/exec.
type refusal struct {
	pos token.Pos
	msg string
}

func newPlan(pass *analysis.Pass) *plan {
	return &plan{
		pass:      pass,
		execFiles: make(map[*ast.File]*ast.ImportSpec),
		routes:    make(map[*ast.File][]*route),
		deep:      newMentioner(),
		cgo:       usesCgo(pass),
	}
}

// usesCgo reports whether the package has a file that imports "C": one
// of its files, or the file that cgo translated into one of them, which
// a line directive at its package clause names.
func usesCgo(pass *analysis.Pass) bool {
	for _, f := range pass.Files {
		if importsC(f) {
			return true
		}
		orig := pass.Fset.Position(f.Package).Filename
		if orig == pass.Fset.File(f.Package).Name() || !strings.HasSuffix(orig, ".go") {
			continue
		}
		src, err := pass.ReadFile(orig)
		if err != nil {
			src, err = os.ReadFile(orig)
		}
		if err != nil {
			continue
		}
		if of, err := parser.ParseFile(token.NewFileSet(), orig, src, parser.ImportsOnly|parser.SkipObjectResolution); err == nil && importsC(of) {
			return true
		}
	}
	return false
}

// importsC reports whether f imports "C".
func importsC(f *ast.File) bool {
	for _, spec := range f.Imports {
		if importPath(spec) == "C" {
			return true
		}
	}
	return false
}

const keepRecipe = "the package keeps os/exec; "

func (p *plan) refuse(pos token.Pos, format string, args ...any) {
	p.refusals = append(p.refusals, refusal{pos, fmt.Sprintf(format, args...)})
}

// decide finds the files to move and the sites that forbid it.
func (p *plan) decide() {
	for _, f := range p.pass.Files {
		for _, spec := range f.Imports {
			if importPath(spec) != "os/exec" {
				continue
			}
			switch {
			case spec.Name != nil && spec.Name.Name == "_":
				continue // nothing to move
			case spec.Name != nil && spec.Name.Name == ".":
				p.refuse(spec.Pos(), "os/exec is dot-imported (safeexec exports more names, which could collide; "+
					keepRecipe+"import it by name to let the fix move it)")
			case ast.IsGenerated(f):
				p.refuse(spec.Pos(), "os/exec is imported by a generated file (the fix does not edit generated code; "+
					keepRecipe+"change the generator to import %s)", safeexecPath)
			}
			p.execFiles[f] = spec
		}
	}
	if len(p.execFiles) == 0 {
		return
	}
	if p.cgo {
		p.refusals = nil
		p.refuse(p.firstExecImport(), "the fix does not edit cgo packages (cgo rewrites their files before the analysis "+
			"sees them, so edits would land in the wrong place; %s"+"move it to safeexec by hand)", keepRecipe)
		return
	}
	p.checkIgnored()
	for _, f := range p.pass.Files {
		p.checkUses(f)
	}
	p.checkAPI()
	p.checkImportEdits()
	if len(p.refusals) == 0 {
		p.typecheck()
	}
	if len(p.refusals) > 0 {
		p.routes = nil
	}
}

// checkIgnored refuses the move when a file of the package that build
// constraints exclude here imports os/exec: the type checker cannot see
// it, and the package moved here would not build where it is included.
// A file belongs to the package when its package clause names it.
func (p *plan) checkIgnored() {
	at := p.firstExecImport()
	for _, name := range p.pass.IgnoredFiles {
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		src, err := p.pass.ReadFile(name)
		if err != nil {
			p.refuse(at, "%s, excluded by its build constraints here, could not be read (%v; %s"+
				"the fix cannot check it)", filepath.Base(name), err, keepRecipe)
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly|parser.SkipObjectResolution)
		if err != nil || f.Name.Name != p.pass.Pkg.Name() {
			continue // not a file of this package (a file that does not parse does not build anywhere)
		}
		for _, spec := range f.Imports {
			if importPath(spec) == "os/exec" && (spec.Name == nil || spec.Name.Name != "_") {
				p.refuse(at, "%s, excluded by its build constraints here, uses os/exec too (the fix cannot check it, "+
					"and the package moved here would not build where that file is included; %s"+
					"move that file and this package by hand, together)", filepath.Base(name), keepRecipe)
				break
			}
		}
	}
}

// firstExecImport returns the first import of os/exec that the fix would
// move, in the order of the package's files.
func (p *plan) firstExecImport() token.Pos {
	for _, f := range p.pass.Files {
		if spec := p.execFiles[f]; spec != nil {
			return spec.Pos()
		}
	}
	return p.pass.Files[0].Pos()
}

// checkImportEdits refuses the move when the import declaration of a
// file cannot be rewritten: a file left on os/exec would not build with
// the others moved.
func (p *plan) checkImportEdits() {
	for _, f := range p.pass.Files {
		spec := p.execFiles[f]
		if spec == nil {
			continue
		}
		c := &importChange{file: f, old: spec, keep: len(p.routes[f]) > 0, name: "exec"}
		if _, err := c.edit(p.pass); err != nil {
			p.refuse(spec.Pos(), "the fix cannot move this import of os/exec: %v (%s"+"the files of a package move together)", err, keepRecipe)
		}
	}
}

// checkUses finds in f the uses of os/exec that safeexec cannot take, and
// the calls that hand a command to another package's function, which go
// through Configure where that is exactly equivalent.
func (p *plan) checkUses(f *ast.File) {
	info := p.pass.TypesInfo
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			fn, ok := info.Uses[calleeIdent(n)].(*types.Func)
			if !ok || fn.Pkg() == nil || fn.Pkg() == p.pass.Pkg || execObject(fn) || !p.deep.mentions(fn.Origin().Signature().Params()) {
				return true
			}
			if r, why := p.routeFor(f, n, fn); r != nil {
				p.routes[f] = append(p.routes[f], r)
			} else {
				p.notRouted = append(p.notRouted, notRouted{n, why})
			}
		case *ast.Ident:
			if obj := info.Uses[n]; execObject(obj) {
				p.checkExecName(n, obj)
			}
		}
		return true
	})
}

// A notRouted call hands an exec.Cmd to another package's function and
// cannot go through Configure, for the reason why.
type notRouted struct {
	call *ast.CallExpr
	why  string
}

// checkExecName refuses a use of an os/exec name that safeexec lacks.
func (p *plan) checkExecName(id *ast.Ident, obj types.Object) {
	if obj.Parent() == obj.Pkg().Scope() {
		if !safeexecNames[obj.Name()] {
			p.refuse(id.Pos(), "exec.%s has no counterpart in safeexec (%s"+
				"keep os/exec for this use)", obj.Name(), keepRecipe)
		}
		return
	}
	if cmdMember(obj) && !cmdMembers[obj.Name()] {
		p.refuse(id.Pos(), "exec.Cmd.%s has no counterpart in safeexec.Cmd (%s"+
			"keep os/exec for this use)", obj.Name(), keepRecipe)
	}
}

// cmdMember reports whether obj is a field or method of exec.Cmd.
func cmdMember(obj types.Object) bool {
	switch obj := obj.(type) {
	case *types.Func:
		recv := obj.Signature().Recv()
		return recv != nil && (isExecCmd(recv.Type()) || isExecCmdPointer(recv.Type()))
	case *types.Var:
		if !obj.IsField() {
			return false
		}
		cmd := obj.Pkg().Scope().Lookup("Cmd")
		if cmd == nil {
			return false
		}
		st, ok := cmd.Type().Underlying().(*types.Struct)
		if !ok {
			return false
		}
		for f := range st.Fields() {
			if f == obj {
				return true
			}
		}
	}
	return false
}

// checkAPI refuses the package's exported API that involves exec.Cmd,
// whose type the fix would change for its importers.
func (p *plan) checkAPI() {
	pkg := p.pass.Pkg
	if pkg.Name() == "main" || p.externalTest() {
		return // nobody imports it
	}
	from := p.declaredFrom()
	walk := newAPIWalker(pkg, from)
	api := func(obj types.Object, t types.Type) {
		if walk.mentions(t) {
			p.refuse(obj.Pos(), "exported %s involves *exec.Cmd (moving the package would change the type "+
				"that its importers see; %s"+"export a *safeexec.Cmd by hand if all importers can follow, "+
				"or keep os/exec)", describe(obj), keepRecipe)
		}
	}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		tn, isType := obj.(*types.TypeName)
		if !isType {
			if obj.Exported() {
				api(obj, obj.Type())
			}
			continue
		}
		if tn.IsAlias() {
			if tn.Exported() {
				api(tn, tn.Type())
			}
			continue
		}
		named, ok := tn.Type().(*types.Named)
		if !ok {
			continue
		}
		if tn.Exported() && from[tn] != nil {
			api(tn, from[tn])
		}
		switch u := named.Underlying().(type) {
		case *types.Struct:
			for f := range u.Fields() {
				if f.Exported() || f.Embedded() {
					api(f, f.Type())
				}
			}
		case *types.Interface:
			if tn.Exported() {
				api(tn, u)
			}
		default:
			if tn.Exported() {
				api(tn, u)
			}
		}
		for m := range named.Methods() {
			if m.Exported() {
				api(m, m.Type())
			}
		}
	}
}

// declaredFrom returns, for each defined type of the package declared
// from a named type (type P atomic.Pointer[exec.Cmd], type C exec.Cmd),
// that named type. The two share their structure, so importers convert
// between them, and the type checker keeps only the structure.
func (p *plan) declaredFrom() map[*types.TypeName]*types.Named {
	from := make(map[*types.TypeName]*types.Named)
	for _, f := range p.pass.Files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				tn, _ := p.pass.TypesInfo.Defs[ts.Name].(*types.TypeName)
				named, _ := types.Unalias(p.pass.TypesInfo.TypeOf(ts.Type)).(*types.Named)
				if tn != nil && !tn.IsAlias() && named != nil {
					from[tn] = named
				}
			}
		}
	}
	return from
}

// externalTest reports whether every file of the package is a _test.go
// file, as in an external test package, which only go test compiles, into
// the test binary, and no package can import.
func (p *plan) externalTest() bool {
	for _, f := range p.pass.Files {
		if !strings.HasSuffix(p.pass.Fset.File(f.Pos()).Name(), "_test.go") {
			return false
		}
	}
	return len(p.pass.Files) > 0
}

// describe names obj for a report: its kind, package and name.
func describe(obj types.Object) string {
	kind := "variable"
	name := obj.Name()
	switch obj := obj.(type) {
	case *types.Func:
		kind = "function"
		if recv := obj.Signature().Recv(); recv != nil {
			kind = "method"
			name = types.TypeString(recv.Type(), (*types.Package).Name) + "." + name
		}
	case *types.TypeName:
		kind = "type"
	case *types.Var:
		if obj.IsField() {
			kind = "field"
		}
	}
	if obj.Pkg() != nil && kind != "method" {
		name = obj.Pkg().Name() + "." + name
	}
	return kind + " " + name
}

// calleeIdent returns the name that call calls, if it calls a name.
func calleeIdent(call *ast.CallExpr) *ast.Ident {
	fun := ast.Unparen(call.Fun)
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = f.X
	case *ast.IndexListExpr:
		fun = f.X
	}
	switch f := fun.(type) {
	case *ast.Ident:
		return f
	case *ast.SelectorExpr:
		return f.Sel
	}
	return nil
}
