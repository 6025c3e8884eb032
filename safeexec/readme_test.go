package safeexec

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeImport matches the line of the README's Quick start file that
// imports this package, with the name it is imported as.
var readmeImport = regexp.MustCompile(`(?m)^\t((?:\w+ )?"github\.com/forkgate/forkgate/safeexec")$`)

// readmeSnippet matches a Go code block of the README.
var readmeSnippet = regexp.MustCompile("(?ms)^```go\n(.*?)^```$")

// stdImports are the standard packages a README snippet may use without
// importing them; the test imports those it names.
var stdImports = []string{"context", "errors", "fmt", "io", "os", "path/filepath", "time"}

// TestReadmeSnippets builds the Go code blocks of ../README.md, as written,
// in a scratch module that requires this checkout through a replace
// directive (issues #9, #14). Each block is gofmt'ed and its lines fit in
// 100 columns. A block that starts with a package clause is a whole file,
// built as it is, so the Quick start's imports pass gofmt too. Any other
// block is a list of declarations, compiled as a package of its own that
// imports this package as the Quick start's file does, so a snippet that
// names the package otherwise does not build. It needs the go command and
// the module cache (or proxy) that built this test. It does not run in
// parallel, so that its compiles slow no storm test.
func TestReadmeSnippets(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("requires the go command (%v)", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	imp := readmeImport.FindSubmatch(readme)
	if imp == nil {
		t.Fatalf("README.md: no import line matches %v", readmeImport)
	}
	snippets := readmeSnippet.FindAllSubmatch(readme, -1)
	if len(snippets) == 0 {
		t.Fatalf("README.md: no Go code blocks match %v", readmeSnippet)
	}

	dir := t.TempDir()
	gomod := fmt.Sprintf("module readme.test\n\ngo 1.26.0\n\nrequire github.com/forkgate/forkgate v0.0.0\n\nreplace github.com/forkgate/forkgate => %s\n", root)
	write(t, filepath.Join(dir, "go.mod"), []byte(gomod))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.sum"), sum)
	for i, m := range snippets {
		src := m[1]
		if got, err := format.Source(src); err != nil || !bytes.Equal(got, src) {
			t.Errorf("README.md Go block %d is not gofmt'ed (%v):\n%s", i+1, err, src)
		}
		for _, line := range strings.Split(string(src), "\n") {
			if n := len(strings.ReplaceAll(line, "\t", "        ")); n > 100 {
				t.Errorf("README.md Go block %d has a line of %d columns, over 100: %s", i+1, n, line)
			}
		}
		var b bytes.Buffer
		if bytes.HasPrefix(src, []byte("package ")) {
			b.Write(src)
			write(t, filepath.Join(dir, fmt.Sprintf("snippet%d", i+1), "snippet.go"), b.Bytes())
			continue
		}
		fmt.Fprintf(&b, "package snippet%d\n\nimport (\n", i+1)
		for _, path := range stdImports {
			if regexp.MustCompile(`\b` + filepath.Base(path) + `\.[A-Z]`).Match(src) {
				fmt.Fprintf(&b, "\t%q\n", path)
			}
		}
		fmt.Fprintf(&b, "\n\t%s\n)\n\n// README.md, Go block %d:\n\n%s", imp[1], i+1, src)
		write(t, filepath.Join(dir, fmt.Sprintf("snippet%d", i+1), "snippet.go"), b.Bytes())
	}

	// Binaries go to a directory of their own, since a main package's
	// default output, named for its directory, would meet that directory.
	cmd := exec.Command(goTool, "build", "-o", t.TempDir()+string(filepath.Separator), "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("go build of the README's Go blocks: %v\n%s", err, out)
	}
}

// write writes data to name, making its directory.
func write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
