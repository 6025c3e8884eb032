package safeexecfix

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
)

const busy = `a program that runs it while another goroutine forks may fail with "text file busy"`

// report reports the plan: the refusals, or the moves and routes; and the
// writers in every file.
func (p *plan) report() {
	moved := len(p.execFiles) > 0 && len(p.refusals) == 0
	for _, r := range p.refusals {
		p.pass.Report(analysis.Diagnostic{Pos: r.pos, Message: r.msg})
	}
	for _, f := range p.pass.Files {
		var change *importChange
		if spec := p.execFiles[f]; moved && spec != nil {
			name := "exec"
			if spec.Name != nil {
				name = spec.Name.Name
			}
			change = &importChange{file: f, old: spec, keep: len(p.routes[f]) > 0, name: name}
			p.reportMove(change)
			for _, r := range p.routes[f] {
				p.reportRoute(change, r)
			}
		}
		p.reportWriters(f, change)
	}
}

func (p *plan) reportMove(c *importChange) {
	d := analysis.Diagnostic{
		Pos: c.old.Pos(),
		End: c.old.End(),
		Message: fmt.Sprintf("os/exec can be replaced by safeexec (a command it starts fails now and then with "+
			"\"text file busy\" when it runs a file just written while another goroutine forks; import %q as %s)",
			safeexecPath, c.name),
	}
	if e, err := c.edit(p.pass); err == nil {
		d.SuggestedFixes = []analysis.SuggestedFix{{Message: "import safeexec instead of os/exec", TextEdits: []analysis.TextEdit{e}}}
	} else {
		d.Message = noFix(d.Message, err)
	}
	p.pass.Report(d)
}

func (p *plan) reportRoute(c *importChange, r *route) {
	tf := p.pass.Fset.File(r.stmt.Pos())
	src, err := p.pass.ReadFile(tf.Name())
	d := analysis.Diagnostic{
		Pos: r.call.Pos(),
		End: r.call.End(),
		Message: fmt.Sprintf("%s takes an *exec.Cmd, which a *safeexec.Cmd is not (it only sets the command's fields; "+
			"call it through %s.Configure(func(%s *%s.Cmd) {...}))", types.ExprString(r.call.Fun), r.v.Name(), r.param, osexecName),
	}
	ie, err2 := c.edit(p.pass)
	if err2 != nil {
		d.Message = noFix(d.Message, err2)
	}
	if err == nil && err2 == nil {
		off := func(pos token.Pos) int { return tf.Offset(pos) }
		stmt := string(src[off(r.stmt.Pos()):off(r.arg.Pos())]) + r.param + string(src[off(r.arg.End()):off(r.stmt.End())])
		text := r.configure(stmt)
		d.SuggestedFixes = []analysis.SuggestedFix{{
			Message:   "configure the command through Cmd.Configure",
			TextEdits: []analysis.TextEdit{ie, {Pos: r.stmt.Pos(), End: r.stmt.End(), NewText: []byte(text)}},
		}}
	}
	p.pass.Report(d)
}

// noFix adds to msg, which ends in a parenthesis, why no fix is offered.
func noFix(msg string, why error) string {
	return strings.TrimSuffix(msg, ")") + "; no fix is offered: " + why.Error() + ")"
}

// reportWriters reports the executables that f writes, and rewrites its
// os.WriteFile calls into WriteExecutable where safeexec has a name in f
// or can be given one.
func (p *plan) reportWriters(f *ast.File, moved *importChange) {
	var added *importChange
	for _, w := range findWriters(p.pass.TypesInfo, f) {
		d := analysis.Diagnostic{Pos: w.call.Pos(), End: w.call.End()}
		name, change := p.safeexecName(f, moved, w.call.Pos())
		if name == "" {
			name = "safeexec"
		}
		switch w.fn {
		case "WriteFile":
			if !w.ok {
				d.Message = fmt.Sprintf("os.WriteFile writes an executable (%s; mode %#o has bits that %s.WriteExecutable "+
					"refuses: use only permission, setuid, setgid and sticky bits, then WriteExecutable)", busy, w.perm, name)
				break
			}
			d.Message = fmt.Sprintf("os.WriteFile writes an executable (%s; write it with %s.WriteExecutable, "+
				"which replaces the file: see the fixer's doc)", busy, name)
			if p.inRoute(f, w.call) {
				// The route's edit rewrites the whole statement.
				d.Message = fmt.Sprintf("os.WriteFile writes an executable (%s; write it with %s.WriteExecutable, "+
					"which replaces the file: see the fixer's doc; no fix here: the call is inside a statement "+
					"that goes through Cmd.Configure, run the fix again once it does)", busy, name)
				break
			}
			if change == nil && moved == nil && p.safeexecImported(f) == "" {
				if added == nil {
					added = &importChange{file: f}
				}
				change = added
			}
			if name != "" && (change != nil || p.safeexecImported(f) != "") {
				edits := []analysis.TextEdit{{Pos: w.call.Fun.Pos(), End: w.call.Fun.End(), NewText: []byte(name + ".WriteExecutable")}}
				if change != nil {
					e, err := change.edit(p.pass)
					if err != nil {
						d.Message = noFix(d.Message, err)
						break
					}
					edits = append(edits, e)
				}
				if p.nameFree(f, w.call.Pos(), name, change) {
					d.SuggestedFixes = []analysis.SuggestedFix{{Message: "write it with WriteExecutable", TextEdits: edits}}
				}
			}
		case "OpenFile":
			d.Message = fmt.Sprintf("os.OpenFile creates an executable (%s while it is open; create it with "+
				"f, err := %s.CreateExecutable(name, %#o), write to f and Close it before running it)", busy, name, w.perm)
		default:
			d.Message = fmt.Sprintf("%s makes a file created in this function executable (%s while it is open; "+
				"create it with f, err := %s.CreateExecutable(name, %#o), write to f and Close it before running it)",
				map[string]string{"Chmod": "os.Chmod", "File.Chmod": "File.Chmod"}[w.fn], busy, name, w.perm)
		}
		if p.cgo {
			d.SuggestedFixes = nil
			d.Message = strings.TrimSuffix(d.Message, ")") + "; the fix does not edit cgo packages, " +
				"whose files cgo rewrites before the analysis sees them: edit it by hand)"
		}
		p.pass.Report(d)
	}
}

// inRoute reports whether call lies in a statement of f that the fix
// routes through Configure.
func (p *plan) inRoute(f *ast.File, call *ast.CallExpr) bool {
	for _, r := range p.routes[f] {
		if r.stmt.Pos() <= call.Pos() && call.End() <= r.stmt.End() {
			return true
		}
	}
	return false
}

// safeexecName returns the name safeexec has, or will have, in f, and the
// import change that gives it that name, if any.
func (p *plan) safeexecName(f *ast.File, moved *importChange, pos token.Pos) (string, *importChange) {
	if moved != nil {
		return moved.name, moved
	}
	if name := p.safeexecImported(f); name != "" {
		return name, nil
	}
	return "safeexec", nil
}

// safeexecImported returns the name under which f imports safeexec, or "".
func (p *plan) safeexecImported(f *ast.File) string {
	for _, s := range f.Imports {
		if importPath(s) != safeexecPath {
			continue
		}
		if s.Name == nil {
			return "safeexec"
		}
		if s.Name.Name != "_" && s.Name.Name != "." {
			return s.Name.Name
		}
	}
	return ""
}

// nameFree reports whether name, at pos in f, will denote safeexec once
// change is made: it denotes os/exec being moved, or safeexec, or nothing
// when change adds the import.
func (p *plan) nameFree(f *ast.File, pos token.Pos, name string, change *importChange) bool {
	_, obj := p.pass.Pkg.Scope().Innermost(pos).LookupParent(name, pos)
	pn, ok := obj.(*types.PkgName)
	switch {
	case obj == nil:
		return change != nil && change.old == nil
	case !ok:
		return false
	case change != nil && change.old != nil:
		return pn.Imported().Path() == "os/exec"
	default:
		return pn.Imported().Path() == safeexecPath
	}
}
