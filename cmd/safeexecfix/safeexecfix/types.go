package safeexecfix

import "go/types"

// A mentioner tells whether a type involves os/exec's Cmd, so that a value
// of it would change type when a package moves to safeexec.
type mentioner struct {
	// deep makes named types of other packages count by their structure:
	// a struct of another package with an *exec.Cmd field involves it.
	deep bool
	seen map[*types.Named]bool
}

func newMentioner(deep bool) *mentioner {
	return &mentioner{deep: deep, seen: make(map[*types.Named]bool)}
}

// mentions reports whether t involves exec.Cmd.
func (m *mentioner) mentions(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case nil, *types.Basic, *types.TypeParam:
		return false
	case *types.Named:
		if isExecCmd(t) {
			return true
		}
		if !m.deep {
			return false
		}
		t = t.Origin()
		if v, ok := m.seen[t]; ok {
			return v
		}
		m.seen[t] = false // a cycle adds nothing
		v := m.mentions(t.Underlying())
		m.seen[t] = v
		return v
	case *types.Pointer:
		return m.mentions(t.Elem())
	case *types.Slice:
		return m.mentions(t.Elem())
	case *types.Array:
		return m.mentions(t.Elem())
	case *types.Chan:
		return m.mentions(t.Elem())
	case *types.Map:
		return m.mentions(t.Key()) || m.mentions(t.Elem())
	case *types.Tuple:
		for v := range t.Variables() {
			if m.mentions(v.Type()) {
				return true
			}
		}
		return false
	case *types.Signature:
		return m.mentions(t.Params()) || m.mentions(t.Results())
	case *types.Struct:
		for f := range t.Fields() {
			if m.mentions(f.Type()) {
				return true
			}
		}
		return false
	case *types.Interface:
		for f := range t.Methods() {
			if m.mentions(f.Type()) {
				return true
			}
		}
		return false
	}
	return true // a kind of type this code does not know: be safe
}

// An apiWalker tells whether a type that a package exports lets its
// importers see exec.Cmd: directly, through type arguments and type
// parameters' constraints, or through the underlying type, fields and
// methods of an unexported named type of the package, which its importers
// use without naming it. The exported named types of the package are
// checked on their own, and other packages' types do not change.
type apiWalker struct {
	pkg  *types.Package
	seen map[types.Type]bool
}

func newAPIWalker(pkg *types.Package) *apiWalker {
	return &apiWalker{pkg: pkg, seen: make(map[types.Type]bool)}
}

// mentions reports whether t lets importers see exec.Cmd.
func (w *apiWalker) mentions(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case nil, *types.Basic:
		return false
	case *types.Named:
		if isExecCmd(t) {
			return true
		}
		if v, ok := w.seen[t]; ok {
			return v
		}
		w.seen[t] = false // a cycle adds nothing
		v := w.named(t)
		w.seen[t] = v
		return v
	case *types.TypeParam:
		if v, ok := w.seen[t]; ok {
			return v
		}
		w.seen[t] = false
		v := w.mentions(t.Constraint())
		w.seen[t] = v
		return v
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
		for tp := range t.TypeParams().TypeParams() {
			if w.mentions(tp) {
				return true
			}
		}
		return w.mentions(t.Params()) || w.mentions(t.Results())
	case *types.Struct:
		for f := range t.Fields() {
			if (f.Exported() || f.Embedded()) && w.mentions(f.Type()) {
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
		for e := range t.EmbeddedTypes() {
			if w.mentions(e) {
				return true
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

// named reports whether the named type t, not exec.Cmd, lets importers
// see exec.Cmd: by its type arguments, or, for an unexported type of the
// package, by its underlying type, its type parameters and its exported
// methods.
func (w *apiWalker) named(t *types.Named) bool {
	for arg := range t.TypeArgs().Types() {
		if w.mentions(arg) {
			return true
		}
	}
	obj := t.Obj()
	if obj.Pkg() != w.pkg || obj.Exported() {
		return false
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
