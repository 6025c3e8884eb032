package safeexecfix

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"strconv"
	"strings"
)

// typecheck type-checks the package as the fix would leave it, with a
// stand-in for safeexec that has its API, and refuses the move at every
// error: the type checker, not a rule of thumb, decides whether an
// *exec.Cmd meets code that the fix does not change. The rewrite keeps
// every line where it was, so errors map back to the original lines.
func (p *plan) typecheck() {
	execPkg := p.importOf("os/exec")
	if execPkg == nil {
		p.refuse(p.pass.Files[0].Pos(), "the fix found no type information for os/exec (the package keeps os/exec)")
		return
	}
	fake := fakeSafeexec(execPkg)
	fset := token.NewFileSet()
	var files []*ast.File
	edited := make(map[string]map[int]token.Pos) // file → edited lines → where to report
	for _, f := range p.pass.Files {
		tf := p.pass.Fset.File(f.Pos())
		src, err := p.pass.ReadFile(tf.Name())
		if err != nil {
			p.refuse(f.Pos(), "the fix could not read the file (%v; the package keeps os/exec)", err)
			return
		}
		edits, lines := p.memoryEdits(f, tf, src)
		edited[tf.Name()] = lines
		nf, err := parser.ParseFile(fset, tf.Name(), apply(string(src), edits), parser.SkipObjectResolution)
		if err != nil {
			p.refuse(f.Pos(), "the fix could not rewrite the file (%v; the package keeps os/exec)", err)
			return
		}
		files = append(files, nf)
	}
	conf := types.Config{
		GoVersion:   p.pass.Pkg.GoVersion(),
		Sizes:       p.pass.TypesSizes,
		FakeImportC: true,
		Importer: importerFunc(func(path string) (*types.Package, error) {
			if path == safeexecPath {
				return fake, nil
			}
			if pkg := p.importOf(path); pkg != nil {
				return pkg, nil
			}
			return nil, fmt.Errorf("no package %s", path)
		}),
		Error: func(err error) {
			var terr types.Error
			if !errors.As(err, &terr) || terr.Soft && strings.Contains(terr.Msg, "not used") {
				return // imports left unused are removed when fixes are applied
			}
			p.refuseTypeError(terr, edited)
		},
	}
	conf.Check(p.pass.Pkg.Path(), fset, files, nil)
}

// refuseTypeError reports an error of the rewritten package at the same
// place in the original, with why the call could not be routed, if it is
// one that the fix tried to route.
func (p *plan) refuseTypeError(terr types.Error, edited map[string]map[int]token.Pos) {
	pos := terr.Fset.Position(terr.Pos)
	var at token.Pos
	for _, f := range p.pass.Files {
		tf := p.pass.Fset.File(f.Pos())
		if tf.Name() != pos.Filename || pos.Line > tf.LineCount() {
			continue
		}
		if r, ok := edited[tf.Name()][pos.Line]; ok {
			at = r
		} else {
			at = tf.LineStart(pos.Line) + token.Pos(pos.Column-1)
		}
	}
	if !at.IsValid() {
		at = p.pass.Files[0].Pos()
	}
	why := ""
	for _, nr := range p.notRouted {
		if nr.call.Pos() <= at && at < nr.call.End() {
			why = ", and the call cannot go through Cmd.Configure: " + nr.why
		}
	}
	p.refuse(at, "%s after the move to safeexec (the fix does not change the code it meets%s; the package keeps os/exec: "+
		"route the call through Cmd.Configure if that code only sets the command's fields, or keep an os/exec Cmd for it)",
		terr.Msg, why)
}

// memoryEdits returns the edits that move f to safeexec and route its
// calls through Configure, each on the line it replaces, and the lines
// edited, with where to report an error on each.
func (p *plan) memoryEdits(f *ast.File, tf *token.File, src []byte) ([]edit, map[int]token.Pos) {
	var edits []edit
	lines := make(map[int]token.Pos)
	spec := p.execFiles[f]
	if spec == nil {
		return nil, lines
	}
	routes := p.routes[f]
	name := "exec"
	if spec.Name != nil {
		name = spec.Name.Name
	}
	text := name + " " + strconv.Quote(safeexecPath)
	if len(routes) > 0 {
		text = osexecName + ` "os/exec"; ` + text
	}
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT && !gd.Lparen.IsValid() && gd.Specs[0] == spec {
			text = "import (" + text + ")"
			spec = nil
			edits = append(edits, edit{tf.Offset(gd.Pos()) + len("import"), tf.Offset(gd.End()), " (" + strings.TrimPrefix(text, "import (")})
			lines[tf.Line(gd.Pos())] = p.execFiles[f].Pos()
		}
	}
	if spec != nil {
		edits = append(edits, edit{tf.Offset(spec.Pos()), tf.Offset(spec.End()), text})
		lines[tf.Line(spec.Pos())] = spec.Pos()
	}
	for _, r := range routes {
		stmt := string(src[tf.Offset(r.stmt.Pos()):tf.Offset(r.arg.Pos())]) + r.param + string(src[tf.Offset(r.arg.End()):tf.Offset(r.stmt.End())])
		edits = append(edits, edit{tf.Offset(r.stmt.Pos()), tf.Offset(r.stmt.End()), r.configure(stmt)})
		for l := tf.Line(r.stmt.Pos()); l <= tf.Line(r.stmt.End()); l++ {
			lines[l] = r.call.Pos()
		}
	}
	return edits, lines
}

// configure returns the Configure call that runs stmt, in which the
// command is the lent one.
func (r *route) configure(stmt string) string {
	return fmt.Sprintf("%s.Configure(func(%s *%s.Cmd) { %s })", r.v.Name(), r.param, osexecName, stmt)
}

// importOf returns the package that the analyzed package imports by path.
func (p *plan) importOf(path string) *types.Package {
	for _, pkg := range p.pass.Pkg.Imports() {
		if pkg.Path() == path || strings.HasSuffix(pkg.Path(), "/vendor/"+path) {
			return pkg
		}
	}
	return nil
}

// An extraMethod is a method of safeexec.Cmd that exec.Cmd lacks; none
// has results.
type extraMethod struct {
	name   string
	params *types.Tuple
}

// extraMethods returns the methods in cmdExtras, with their parameters:
// Configure(f func(*exec.Cmd)) and SetRetryBudget(d time.Duration), whose
// time.Duration is the type of exec.Cmd's WaitDelay.
func extraMethods(pkg *types.Package, execCmd *types.Named) []extraMethod {
	param := func(name string, t types.Type) *types.Tuple {
		return types.NewTuple(types.NewVar(token.NoPos, pkg, name, t))
	}
	lend := types.NewSignatureType(nil, nil, nil, param("", types.NewPointer(execCmd)), nil, false)
	ms := []extraMethod{{"Configure", param("f", lend)}}
	for f := range execCmd.Underlying().(*types.Struct).Fields() {
		if f.Name() == "WaitDelay" {
			ms = append(ms, extraMethod{"SetRetryBudget", param("d", f.Type())})
		}
	}
	return ms
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// fakeSafeexec returns a stand-in for package safeexec, made from
// os/exec's API as safeexec mirrors it: a Cmd of its own with exec.Cmd's
// exported fields and the methods that safeexec has, Command,
// CommandContext and LookPath returning it, the error types and values as
// exec's own, and Configure.
func fakeSafeexec(execPkg *types.Package) *types.Package {
	pkg := types.NewPackage(safeexecPath, "safeexec")
	scope := pkg.Scope()
	execCmd := execPkg.Scope().Lookup("Cmd").Type().(*types.Named)
	var fields []*types.Var
	for f := range execCmd.Underlying().(*types.Struct).Fields() {
		if f.Exported() && cmdMembers[f.Name()] {
			fields = append(fields, types.NewField(token.NoPos, pkg, f.Name(), f.Type(), f.Embedded()))
		}
	}
	tn := types.NewTypeName(token.NoPos, pkg, "Cmd", nil)
	cmd := types.NewNamed(tn, types.NewStruct(fields, nil), nil)
	scope.Insert(tn)
	recv := types.NewVar(token.NoPos, pkg, "c", types.NewPointer(cmd))
	for m := range execCmd.Methods() {
		if m.Exported() && cmdMembers[m.Name()] {
			sig := m.Signature()
			cmd.AddMethod(types.NewFunc(token.NoPos, pkg, m.Name(),
				types.NewSignatureType(recv, nil, nil, sig.Params(), sig.Results(), sig.Variadic())))
		}
	}
	for _, m := range extraMethods(pkg, execCmd) {
		cmd.AddMethod(types.NewFunc(token.NoPos, pkg, m.name, types.NewSignatureType(recv, nil, nil, m.params, nil, false)))
	}

	result := types.NewTuple(types.NewVar(token.NoPos, pkg, "", types.NewPointer(cmd)))
	for name := range safeexecNames {
		obj := execPkg.Scope().Lookup(name)
		if obj == nil || name == "Cmd" {
			continue
		}
		switch obj := obj.(type) {
		case *types.TypeName:
			alias := types.NewTypeName(token.NoPos, pkg, name, nil)
			types.NewAlias(alias, obj.Type())
			scope.Insert(alias)
		case *types.Var:
			scope.Insert(types.NewVar(token.NoPos, pkg, name, obj.Type()))
		case *types.Func:
			sig := obj.Signature()
			res := sig.Results()
			if name == "Command" || name == "CommandContext" {
				res = result
			}
			scope.Insert(types.NewFunc(token.NoPos, pkg, name, types.NewSignatureType(nil, nil, nil, sig.Params(), res, sig.Variadic())))
		}
	}
	pkg.MarkComplete()
	return pkg
}
