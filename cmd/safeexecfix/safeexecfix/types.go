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
