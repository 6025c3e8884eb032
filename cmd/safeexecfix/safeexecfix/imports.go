package safeexecfix

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/token"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// An importChange is what a file's imports become: the os/exec import
// replaced by safeexec, or kept as osexec beside it, or safeexec added.
type importChange struct {
	file   *ast.File
	old    *ast.ImportSpec // the os/exec import to move, or nil to add safeexec
	keep   bool            // keep os/exec, as osexec
	name   string          // safeexec's name in the file, "" for none
	cached *analysis.TextEdit
}

// edit returns the edit of the import declaration, which every fix of the
// file carries, so that each fix builds on its own and identical edits
// merge. The declaration is rewritten whole and formatted, so the result
// is what gofmt keeps: the standard library first, safeexec in the group
// of the other paths, or in a new group after it.
func (c *importChange) edit(pass *analysis.Pass) (analysis.TextEdit, error) {
	if c.cached != nil {
		return *c.cached, nil
	}
	tf := pass.Fset.File(c.file.Pos())
	src, err := pass.ReadFile(tf.Name())
	if err != nil {
		return analysis.TextEdit{}, err
	}
	spec := strconv.Quote(safeexecPath)
	if c.name != "" {
		spec = c.name + " " + spec
	}
	var e analysis.TextEdit
	decl := c.decl()
	if decl == nil {
		// No import yet: add one after the package clause.
		pos := c.file.Name.End()
		e = analysis.TextEdit{Pos: pos, End: pos, NewText: []byte("\n\nimport " + spec)}
		c.cached = &e
		return e, nil
	}
	if c.old != nil && decl.Lparen.IsValid() {
		for _, s := range decl.Specs {
			if s != c.old && tf.Line(s.Pos()) <= tf.Line(c.old.End()) && tf.Line(c.old.Pos()) <= tf.Line(s.End()) {
				return analysis.TextEdit{}, fmt.Errorf("the import of os/exec shares its line with another import, " +
					"which the fix does not rewrite: run gofmt, which splits the line, and the fix again")
			}
		}
	}
	start, end := tf.Offset(decl.Pos()), tf.Offset(decl.End())
	text := string(src[start:end])
	at := func(pos token.Pos) int { return tf.Offset(pos) - start }
	var edits []edit
	switch {
	case !decl.Lparen.IsValid() && c.old != nil && !c.keep:
		text = "import " + spec
	case !decl.Lparen.IsValid():
		old := string(src[tf.Offset(decl.Specs[0].Pos()):tf.Offset(decl.Specs[0].End())])
		if c.keep {
			old = osexecName + ` "os/exec"`
		}
		text = "import (\n\t" + old + "\n\n\t" + spec + "\n)"
	default:
		if c.old != nil {
			if c.keep {
				edits = append(edits, edit{at(c.old.Pos()), at(c.old.End()), osexecName + ` "os/exec"`})
			} else {
				from, to := lineOf(text, at(c.old.Pos()), at(c.old.End()))
				if c.old.Doc != nil {
					from, _ = lineOf(text, at(c.old.Doc.Pos()), at(c.old.Doc.Pos()))
				}
				edits = append(edits, edit{from, to, ""})
			}
		}
		edits = append(edits, c.insertion(text, at))
		text = apply(text, edits)
	}
	out, err := format.Source([]byte("package p\n\n" + text))
	if err != nil {
		return analysis.TextEdit{}, fmt.Errorf("formatting the imports of %s: %v", tf.Name(), err)
	}
	out = bytes.TrimPrefix(out, []byte("package p\n\n"))
	out = bytes.TrimSuffix(out, []byte("\n"))
	e = analysis.TextEdit{Pos: decl.Pos(), End: decl.End(), NewText: out}
	c.cached = &e
	return e, nil
}

// decl returns the import declaration to change: the one holding the
// os/exec import, else the first parenthesized one, else the last one.
func (c *importChange) decl() *ast.GenDecl {
	var last *ast.GenDecl
	for _, d := range c.file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		for _, s := range gd.Specs {
			if s == c.old {
				return gd
			}
		}
		if c.old == nil && gd.Lparen.IsValid() {
			return gd
		}
		last = gd
	}
	return last
}

// insertion returns the edit that adds safeexec's import to a
// parenthesized declaration: at the line of its first import from outside
// the standard library, or else in a group of its own at the end. The
// comments of the os/exec import it replaces, above it and after it on
// its line, go with it.
func (c *importChange) insertion(text string, at func(token.Pos) int) edit {
	spec := "\t" + strconv.Quote(safeexecPath)
	if c.name != "" {
		spec = "\t" + c.name + " " + strconv.Quote(safeexecPath)
	}
	if c.old != nil && !c.keep {
		if doc := c.old.Doc; doc != nil {
			spec = "\t" + text[at(doc.Pos()):at(doc.End())] + "\n" + spec
		}
		if com := c.old.Comment; com != nil {
			spec += " " + text[at(com.Pos()):at(com.End())]
		}
	}
	decl := c.decl()
	for _, s := range decl.Specs {
		is := s.(*ast.ImportSpec)
		if is != c.old && !standard(importPath(is)) {
			from, _ := lineOf(text, at(is.Pos()), at(is.End()))
			if is.Doc != nil {
				from, _ = lineOf(text, at(is.Doc.Pos()), at(is.Doc.Pos()))
			}
			return edit{from, from, spec + "\n"}
		}
	}
	from, _ := lineOf(text, at(decl.Rparen), at(decl.Rparen))
	return edit{from, from, "\n" + spec + "\n"}
}

// standard reports whether path is in the standard library, by goimports'
// rule: its first element has no dot.
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// lineOf returns the start of the line that holds text[from:to], and the
// start of the next line.
func lineOf(text string, from, to int) (int, int) {
	start := strings.LastIndexByte(text[:from], '\n') + 1
	end := strings.IndexByte(text[to:], '\n')
	if end < 0 {
		return start, len(text)
	}
	return start, to + end + 1
}

// An edit replaces text[from:to].
type edit struct {
	from, to int
	text     string
}

// apply applies edits, which do not overlap, to text.
func apply(text string, edits []edit) string {
	// Apply from the end, so that earlier offsets stay valid.
	for i := range edits {
		for j := i + 1; j < len(edits); j++ {
			if edits[j].from > edits[i].from {
				edits[i], edits[j] = edits[j], edits[i]
			}
		}
	}
	for _, e := range edits {
		text = text[:e.from] + e.text + text[e.to:]
	}
	return text
}
