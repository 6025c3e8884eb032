package safeexecfix

import (
	"go/ast"
	"go/constant"
	"go/types"
	"io/fs"
)

// A writer is a call that makes an executable file.
type writer struct {
	call *ast.CallExpr
	fn   string // "WriteFile", "OpenFile", "Chmod" or "File.Chmod"
	perm uint64
	ok   bool // WriteFile with a mode that WriteExecutable takes
}

// findWriters returns the calls of f that write executables: os.WriteFile
// and os.OpenFile with a constant mode that has an execute bit, and
// os.Chmod or File.Chmod to such a mode of a file that the same function
// creates with os.Create, os.OpenFile or os.WriteFile. Directories, which
// os.Mkdir makes, are not executables.
func findWriters(info *types.Info, f *ast.File) []writer {
	var ws []writer
	for _, d := range f.Decls {
		ast.Inspect(d, func(n ast.Node) bool {
			var body *ast.BlockStmt
			switch n := n.(type) {
			case *ast.FuncDecl:
				body = n.Body
			case *ast.FuncLit:
				body = n.Body
			default:
				return true
			}
			if body != nil {
				ws = append(ws, writersIn(info, body)...)
			}
			return true // on to the function literals inside
		})
	}
	return ws
}

// writersIn returns the writers of one function body, not counting the
// function literals in it, which findWriters visits on their own.
func writersIn(info *types.Info, body *ast.BlockStmt) []writer {
	var ws, chmods []writer
	created := make(map[types.Object]bool) // names and files created here
	createdConst := make(map[string]bool)
	ast.Inspect(body, func(n ast.Node) bool {
		if _, lit := n.(*ast.FuncLit); lit {
			return false
		}
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Rhs) == 1 {
			if call, ok := as.Rhs[0].(*ast.CallExpr); ok && creates(info, call) {
				if id, ok := as.Lhs[0].(*ast.Ident); ok && id.Name != "_" {
					created[info.ObjectOf(id)] = true
				}
			}
		}
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if creates(info, call) {
			if obj := identObj(info, call.Args[0]); obj != nil {
				created[obj] = true
			}
			if s, ok := constString(info, call.Args[0]); ok {
				createdConst[s] = true
			}
		}
		switch {
		case isOSFunc(info, call, "WriteFile") && len(call.Args) == 3:
			if perm, ok := execPerm(info, call.Args[2]); ok {
				ws = append(ws, writer{call: call, fn: "WriteFile", perm: perm, ok: validPerm(perm)})
			}
		case isOSFunc(info, call, "OpenFile") && len(call.Args) == 3:
			if perm, ok := execPerm(info, call.Args[2]); ok && mayCreate(info, call) {
				ws = append(ws, writer{call: call, fn: "OpenFile", perm: perm})
			}
		case isOSFunc(info, call, "Chmod") && len(call.Args) == 2:
			if perm, ok := execPerm(info, call.Args[1]); ok {
				chmods = append(chmods, writer{call: call, fn: "Chmod", perm: perm})
			}
		case isFileChmod(info, call) && len(call.Args) == 1:
			if perm, ok := execPerm(info, call.Args[0]); ok {
				chmods = append(chmods, writer{call: call, fn: "File.Chmod", perm: perm})
			}
		}
		return true
	})
	for _, c := range chmods {
		var target ast.Expr
		if c.fn == "Chmod" {
			target = c.call.Args[0]
		} else {
			target = c.call.Fun.(*ast.SelectorExpr).X
		}
		s, isConst := constString(info, target)
		if obj := identObj(info, target); (obj != nil && created[obj]) || (isConst && createdConst[s]) {
			ws = append(ws, c)
		}
	}
	return ws
}

// creates reports whether call may create a file: os.Create, os.WriteFile,
// or os.OpenFile with flags that may have os.O_CREATE.
func creates(info *types.Info, call *ast.CallExpr) bool {
	if isOSFunc(info, call, "OpenFile") && len(call.Args) == 3 {
		return mayCreate(info, call)
	}
	return isOSFunc(info, call, "Create", "WriteFile") && len(call.Args) > 0
}

// isOSFunc reports whether call calls one of package os's functions names.
func isOSFunc(info *types.Info, call *ast.CallExpr, names ...string) bool {
	id := calleeIdent(call)
	fn, ok := info.Uses[id].(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "os" || fn.Signature().Recv() != nil {
		return false
	}
	for _, n := range names {
		if fn.Name() == n {
			return true
		}
	}
	return false
}

// isFileChmod reports whether call calls (*os.File).Chmod.
func isFileChmod(info *types.Info, call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "os" || fn.Name() != "Chmod" {
		return false
	}
	recv := fn.Signature().Recv()
	return recv != nil
}

// execPerm returns the constant mode e, if it has an execute bit.
func execPerm(info *types.Info, e ast.Expr) (uint64, bool) {
	tv, ok := info.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.Int {
		return 0, false
	}
	perm, exact := constant.Uint64Val(tv.Value)
	return perm, exact && perm&0o111 != 0
}

// validPerm reports whether WriteExecutable takes perm: only permission,
// setuid, setgid and sticky bits.
func validPerm(perm uint64) bool {
	return perm&^uint64(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) == 0
}

// mayCreate reports whether the flags of call, an os.OpenFile, may create
// a file: they are not a constant without os.O_CREATE (whose value
// depends on the target system, so it is taken from package os).
func mayCreate(info *types.Info, call *ast.CallExpr) bool {
	tv, ok := info.Types[call.Args[1]]
	if !ok || tv.Value == nil {
		return true
	}
	fn := info.Uses[calleeIdent(call)].(*types.Func)
	create, ok := fn.Pkg().Scope().Lookup("O_CREATE").(*types.Const)
	if !ok {
		return true
	}
	flags, ok1 := constant.Int64Val(tv.Value)
	bit, ok2 := constant.Int64Val(create.Val())
	return !ok1 || !ok2 || flags&bit != 0
}

// identObj returns the object that e names, if e is a name.
func identObj(info *types.Info, e ast.Expr) types.Object {
	if id, ok := ast.Unparen(e).(*ast.Ident); ok {
		return info.ObjectOf(id)
	}
	return nil
}

// constString returns e's value if e is a constant string.
func constString(info *types.Info, e ast.Expr) (string, bool) {
	tv, ok := info.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}
