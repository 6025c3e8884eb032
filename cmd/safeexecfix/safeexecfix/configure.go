package safeexecfix

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
)

// A configuresFact marks a function that only configures the *exec.Cmd it
// takes as parameter Param: its body reads and sets the command's fields,
// compares it with nil, and passes it on only to functions of the same
// kind. It never starts the command, calls none of its methods, keeps no
// copy of the pointer and lets no function literal see it. For such a
// function, f(cmd) and cmd.Configure(func(x *exec.Cmd) { f(x) }) have the
// same effect on a command not yet started, which Configure requires.
type configuresFact struct {
	Param int
}

func (*configuresFact) AFact() {}

func (f *configuresFact) String() string { return "configures" }

// exportConfigureFacts finds the package's functions that only configure
// an *exec.Cmd parameter, assuming all candidates do and striking out
// those whose body says otherwise until none is struck.
func exportConfigureFacts(pass *analysis.Pass) {
	type candidate struct {
		decl  *ast.FuncDecl
		param *types.Var
		index int
	}
	cands := make(map[*types.Func]candidate)
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			fn, _ := pass.TypesInfo.Defs[fd.Name].(*types.Func)
			if fn == nil {
				continue
			}
			if i, param := configuredParam(fn.Signature()); param != nil {
				cands[fn] = candidate{fd, param, i}
			}
		}
	}
	configures := func(fn *types.Func, i int) bool {
		fn = fn.Origin()
		if c, ok := cands[fn]; ok {
			return c.index == i
		}
		var fact configuresFact
		return fn.Pkg() != pass.Pkg && pass.ImportObjectFact(fn, &fact) && fact.Param == i
	}
	for changed := true; changed; {
		changed = false
		for fn, c := range cands {
			if !onlyConfigures(pass.TypesInfo, c.decl.Body, c.param, configures) {
				delete(cands, fn)
				changed = true
			}
		}
	}
	for fn, c := range cands {
		pass.ExportObjectFact(fn, &configuresFact{Param: c.index})
	}
}

// configuredParam returns the one parameter of sig that involves exec.Cmd
// if it is exactly an *exec.Cmd, not variadic, and nothing else in sig
// involves exec.Cmd.
func configuredParam(sig *types.Signature) (int, *types.Var) {
	m := newMentioner()
	if m.mentions(sig.Results()) {
		return 0, nil
	}
	index, found := -1, 0
	for i := range sig.Params().Len() {
		if m.mentions(sig.Params().At(i).Type()) {
			index = i
			found++
		}
	}
	if found != 1 || (sig.Variadic() && index == sig.Params().Len()-1) {
		return 0, nil
	}
	v := sig.Params().At(index)
	if !isExecCmdPointer(v.Type()) {
		return 0, nil
	}
	return index, v
}

// onlyConfigures reports whether every use of v in root is a field access
// (not its address), a comparison with nil, or an argument that a
// configuring function takes, and none is inside a function literal.
func onlyConfigures(info *types.Info, root ast.Node, v *types.Var, configures func(*types.Func, int) bool) bool {
	ok := true
	var stack []ast.Node
	ast.Inspect(root, func(n ast.Node) bool {
		if !ok {
			return false
		}
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		if id, isID := n.(*ast.Ident); isID && info.Uses[id] == v {
			ok = configuringUse(info, id, stack, v, configures)
		}
		stack = append(stack, n)
		return true
	})
	return ok
}

// configuringUse reports whether the use id of v, whose ancestors are
// stack, only configures the command.
func configuringUse(info *types.Info, id *ast.Ident, stack []ast.Node, v *types.Var, configures func(*types.Func, int) bool) bool {
	for _, n := range stack {
		if _, lit := n.(*ast.FuncLit); lit {
			return false
		}
	}
	i := len(stack) - 1
	for i >= 0 {
		if _, paren := stack[i].(*ast.ParenExpr); !paren {
			break
		}
		i--
	}
	if i < 0 {
		return false
	}
	switch parent := stack[i].(type) {
	case *ast.SelectorExpr:
		sel := info.Selections[parent]
		if sel == nil || sel.Kind() != types.FieldVal {
			return false
		}
		// &c.Dir, &(c.Dir), &((c).Dir): the address of a field outlives
		// the call.
		j := i - 1
		for j >= 0 {
			if _, paren := stack[j].(*ast.ParenExpr); !paren {
				break
			}
			j--
		}
		if j >= 0 {
			if u, isUnary := stack[j].(*ast.UnaryExpr); isUnary && u.Op == token.AND {
				return false
			}
		}
		return true
	case *ast.BinaryExpr:
		if parent.Op != token.EQL && parent.Op != token.NEQ {
			return false
		}
		other := parent.X
		if ast.Unparen(other) == id {
			other = parent.Y
		}
		return info.Types[other].IsNil()
	case *ast.CallExpr:
		cid := calleeIdent(parent)
		if cid == nil || ast.Unparen(parent.Fun) == id {
			return false
		}
		fn, isFunc := info.Uses[cid].(*types.Func)
		if !isFunc {
			return false
		}
		if i > 0 {
			switch stack[i-1].(type) {
			case *ast.GoStmt, *ast.DeferStmt:
				return false // the call runs later, perhaps after Configure
			}
		}
		for ai, a := range parent.Args {
			if ast.Unparen(a) == id {
				return parent.Ellipsis == token.NoPos && configures(fn, ai)
			}
		}
	}
	return false
}

// A route is a call that hands a new *exec.Cmd to a function of another
// package that only configures it, rewritten to go through Configure.
type route struct {
	stmt  ast.Stmt
	call  *ast.CallExpr
	arg   ast.Expr // the *exec.Cmd argument
	v     *types.Var
	param string // the name of the function literal's parameter
}

// routeFor returns the route of call, a call of fn that involves an
// exec.Cmd, or nil and why there is none.
func (p *plan) routeFor(f *ast.File, call *ast.CallExpr, fn *types.Func) (*route, string) {
	info := p.pass.TypesInfo
	var fact configuresFact
	if fn.Signature().Recv() != nil && types.IsInterface(fn.Signature().Recv().Type()) {
		return nil, "an interface method, whose code the fix cannot see"
	}
	if !p.pass.ImportObjectFact(fn.Origin(), &fact) {
		return nil, "the fix cannot show that it only sets the command's fields"
	}
	if call.Ellipsis != token.NoPos || fact.Param >= len(call.Args) {
		return nil, "the command is passed in a way the fix does not follow"
	}
	arg := ast.Unparen(call.Args[fact.Param])
	id, _ := arg.(*ast.Ident)
	var v *types.Var
	if id != nil {
		v, _ = info.Uses[id].(*types.Var)
	}
	if v == nil || v.Pkg() != p.pass.Pkg || v.Parent() == p.pass.Pkg.Scope() || !isExecCmdPointer(v.Type()) {
		return nil, "the command is not a local variable, which the fix requires to route it"
	}
	for i, a := range call.Args {
		if i != fact.Param && (p.deep.mentions(info.TypeOf(a)) || uses(info, a, v)) {
			return nil, "another argument involves the command"
		}
	}
	if uses(info, call.Fun, v) {
		return nil, "the function expression involves the command"
	}
	path, _ := astutil.PathEnclosingInterval(f, call.Pos(), call.End())
	if len(path) < 2 || path[0] != call {
		return nil, "the fix could not place the call"
	}
	var stmt ast.Stmt
	switch s := path[1].(type) {
	case *ast.ExprStmt:
		stmt = s
	case *ast.AssignStmt:
		if s.Tok == token.ASSIGN && len(s.Rhs) == 1 && s.Rhs[0] == call {
			stmt = s
		}
	}
	if stmt == nil {
		return nil, "its result is used within an expression or a declaration, which a Configure function literal cannot return"
	}
	if why := p.notStartedAt(path[1:], stmt, v); why != "" {
		return nil, why
	}
	pos := stmt.Pos()
	if _, obj := p.pass.Pkg.Scope().Innermost(pos).LookupParent(osexecName, pos); obj != nil {
		return nil, "the name " + osexecName + ", which the fix would give os/exec for the call, is taken"
	}
	param := ""
	for _, name := range []string{"x", "xc", "lent"} {
		if !mentionsName(stmt, name) {
			param = name
			break
		}
	}
	if param == "" {
		return nil, "the fix found no free name for the lent command"
	}
	return &route{stmt: stmt, call: call, arg: arg, v: v, param: param}, ""
}

// notStartedAt says why the fix cannot show that v holds a new, unstarted
// command when stmt runs, or "" if it can: v is defined by exec.Command,
// exec.CommandContext or &exec.Cmd{...} in a statement of the same list
// as the one that holds stmt, no loop or function literal lies between
// them, the function has no goto, and the code between them uses v only
// to set or read its fields.
func (p *plan) notStartedAt(path []ast.Node, stmt ast.Stmt, v *types.Var) string {
	info := p.pass.TypesInfo
	const why = "the fix cannot show that the command is new and not yet started when the call runs"
	var body *ast.BlockStmt
	for _, n := range path {
		switch n := n.(type) {
		case *ast.FuncLit:
			body = n.Body
		case *ast.FuncDecl:
			body = n.Body
		}
		if body != nil {
			break
		}
	}
	if body == nil || hasGoto(body) {
		return why
	}
	for _, n := range path {
		var list []ast.Stmt
		switch n := n.(type) {
		case *ast.ForStmt, *ast.RangeStmt, *ast.FuncLit, *ast.FuncDecl:
			return why
		case *ast.BlockStmt:
			list = n.List
		case *ast.CaseClause:
			list = n.Body
		case *ast.CommClause:
			list = n.Body
		}
		for _, s := range list {
			if s.Pos() >= stmt.Pos() {
				break
			}
			if definesNew(info, s, v) {
				if !onlyFieldsBetween(info, body, v, s.End(), stmt.Pos(), p.configures) {
					return why
				}
				return ""
			}
		}
	}
	return why
}

// definesNew reports whether s is v := exec.Command(...), its
// CommandContext form, or v := &exec.Cmd{...}, or the var form of these.
func definesNew(info *types.Info, s ast.Stmt, v *types.Var) bool {
	var name *ast.Ident
	var value ast.Expr
	switch s := s.(type) {
	case *ast.AssignStmt:
		if s.Tok != token.DEFINE || len(s.Lhs) != 1 || len(s.Rhs) != 1 {
			return false
		}
		name, _ = s.Lhs[0].(*ast.Ident)
		value = s.Rhs[0]
	case *ast.DeclStmt:
		gd, ok := s.Decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR || len(gd.Specs) != 1 {
			return false
		}
		vs := gd.Specs[0].(*ast.ValueSpec)
		if len(vs.Names) != 1 || len(vs.Values) != 1 {
			return false
		}
		name, value = vs.Names[0], vs.Values[0]
	default:
		return false
	}
	if name == nil || info.Defs[name] != v {
		return false
	}
	switch e := ast.Unparen(value).(type) {
	case *ast.CallExpr:
		fn, ok := info.Uses[calleeIdent(e)].(*types.Func)
		return ok && execObject(fn) && (fn.Name() == "Command" || fn.Name() == "CommandContext")
	case *ast.UnaryExpr:
		lit, ok := e.X.(*ast.CompositeLit)
		return ok && e.Op == token.AND && isExecCmd(info.TypeOf(lit))
	}
	return false
}

// onlyFieldsBetween reports whether every use of v in body between the
// positions from and to reads or sets a field of the command, or hands it
// to a function that only configures it.
func onlyFieldsBetween(info *types.Info, body *ast.BlockStmt, v *types.Var, from, to token.Pos, configures func(*types.Func, int) bool) bool {
	ok := true
	var stack []ast.Node
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		if id, isID := n.(*ast.Ident); isID && id.Pos() > from && id.Pos() < to && info.Uses[id] == v {
			if !configuringUse(info, id, stack, v, configures) {
				ok = false
			}
		}
		stack = append(stack, n)
		return ok
	})
	return ok
}

// configures reports whether fn only configures its parameter i, an
// *exec.Cmd, by the facts known for this package and its dependencies.
func (p *plan) configures(fn *types.Func, i int) bool {
	var fact configuresFact
	return p.pass.ImportObjectFact(fn.Origin(), &fact) && fact.Param == i
}

// hasGoto reports whether body contains a goto, after which the order of
// statements is no longer that of the text.
func hasGoto(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if b, ok := n.(*ast.BranchStmt); ok && b.Tok == token.GOTO {
			found = true
		}
		return !found
	})
	return found
}

// mentionsName reports whether n has an identifier spelled name, which a
// new variable of that name could shadow.
func mentionsName(n ast.Node, name string) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == name {
			found = true
		}
		return !found
	})
	return found
}

// uses reports whether e mentions v.
func uses(info *types.Info, e ast.Node, v *types.Var) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == v {
			found = true
		}
		return !found
	})
	return found
}
