package safeexecfix

import "go/types"

// A typeWalker tells whether a type involves os/exec's Cmd. The fixer asks
// two questions of types (see newMentioner and newAPIWalker); both walk
// composite types alike, and differ in how a named type other than
// exec.Cmd counts, which struct fields count, and whether type parameters
// count: their constraints, a signature's own, and the terms of a
// constraint's embedded types.
type typeWalker struct {
	named  func(*types.Named) bool
	field  func(*types.Var) bool
	params bool
	seen   map[types.Type]bool
	from   map[*types.TypeName]*types.Named // the API walker's: see declaredFrom
}

// newMentioner returns a walker that tells whether a value of a type
// would change type when a package moves to safeexec. Named types of
// other packages count by their structure: a struct of another package
// with an *exec.Cmd field involves it.
func newMentioner() *typeWalker {
	w := &typeWalker{
		field: func(*types.Var) bool { return true },
		seen:  make(map[types.Type]bool),
	}
	w.named = func(t *types.Named) bool {
		o := t.Origin()
		return w.once(o, func() bool { return w.mentions(o.Underlying()) })
	}
	return w
}

// newAPIWalker returns a walker that tells whether a type that pkg
// exports lets its importers see exec.Cmd: directly, through type
// arguments and type parameters' constraints, or through the underlying
// type, fields and methods of an unexported named type of the package,
// which its importers use without naming it. The exported named types of
// the package are checked on their own, and other packages' types do not
// change. from holds the named type that each defined type of the package
// is declared from (see declaredFrom).
func newAPIWalker(pkg *types.Package, from map[*types.TypeName]*types.Named) *typeWalker {
	w := &typeWalker{
		field:  func(f *types.Var) bool { return f.Exported() || f.Embedded() },
		params: true,
		seen:   make(map[types.Type]bool),
		from:   from,
	}
	w.named = func(t *types.Named) bool {
		return w.once(t, func() bool { return w.api(pkg, t) })
	}
	return w
}

// mentions reports whether t involves exec.Cmd.
func (w *typeWalker) mentions(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case nil, *types.Basic:
		return false
	case *types.Named:
		return isExecCmd(t) || w.named(t)
	case *types.TypeParam:
		return w.params && w.once(t, func() bool { return w.mentions(t.Constraint()) })
	case *types.Pointer:
		return w.mentions(t.Elem())
	case *types.Slice:
		return w.mentions(t.Elem())
	case *types.Array:
		return w.mentions(t.Elem())
	case *types.Chan:
		return w.mentions(t.Elem())
	case *types.Map:
		return w.mentions(t.Key()) || w.mentions(t.Elem())
	case *types.Tuple:
		for v := range t.Variables() {
			if w.mentions(v.Type()) {
				return true
			}
		}
		return false
	case *types.Signature:
		if w.params {
			for tp := range t.TypeParams().TypeParams() {
				if w.mentions(tp) {
					return true
				}
			}
		}
		return w.mentions(t.Params()) || w.mentions(t.Results())
	case *types.Struct:
		for f := range t.Fields() {
			if w.field(f) && w.mentions(f.Type()) {
				return true
			}
		}
		return false
	case *types.Interface:
		for m := range t.Methods() {
			if w.mentions(m.Type()) {
				return true
			}
		}
		if w.params {
			for e := range t.EmbeddedTypes() {
				if w.mentions(e) {
					return true
				}
			}
		}
		return false
	case *types.Union:
		for term := range t.Terms() {
			if w.mentions(term.Type()) {
				return true
			}
		}
		return false
	}
	return true // a kind of type this code does not know: be safe
}

// once returns what fn reports of key, computing it only the first time:
// while it is being computed, key counts as not involving exec.Cmd, since
// a cycle adds nothing.
func (w *typeWalker) once(key types.Type, fn func() bool) bool {
	if v, ok := w.seen[key]; ok {
		return v
	}
	w.seen[key] = false
	v := fn()
	w.seen[key] = v
	return v
}

// api reports whether the named type t of the API of pkg, not exec.Cmd,
// lets importers see exec.Cmd: by its type arguments, or, for an
// unexported type of the package, by the named type it is declared from,
// its underlying type, its type parameters and its exported methods.
func (w *typeWalker) api(pkg *types.Package, t *types.Named) bool {
	for arg := range t.TypeArgs().Types() {
		if w.mentions(arg) {
			return true
		}
	}
	obj := t.Obj()
	if obj.Pkg() != pkg || obj.Exported() {
		return false
	}
	if from := w.from[obj]; from != nil && w.mentions(from) {
		return true
	}
	if w.mentions(t.Underlying()) {
		return true
	}
	for m := range t.Methods() {
		if m.Exported() && w.mentions(m.Type()) {
			return true
		}
	}
	return false
}
