package forkgate_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// nested are the modules inside this repository besides the root one. The
// fixer is a module of its own so that a program that imports safeexec
// never gets golang.org/x/tools in its go.sum.
var nested = []string{"cmd/safeexecfix"}

// TestNestedModules runs the tests of the nested modules, which go test
// ./... at the root does not reach, so that the README's one command runs
// every test in the repository. It
// passes on -race, -short and -v.
func TestNestedModules(t *testing.T) {
	touchSources(t)
	args := []string{"test"}
	if raceEnabled() {
		args = append(args, "-race")
	}
	if testing.Short() {
		args = append(args, "-short")
	}
	if testing.Verbose() {
		args = append(args, "-v")
	}
	args = append(args, "./...")
	for _, dir := range nested {
		t.Run(dir, func(t *testing.T) {
			cmd := exec.Command("go", args...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			t.Logf("go %s in %s:\n%s", strings.Join(args, " "), dir, out)
			if err != nil {
				t.Errorf("go %s in %s: %v", strings.Join(args, " "), dir, err)
			}
		})
	}
}

// raceEnabled reports whether the test was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// touchSources reads every file of the repository that the nested tests
// use, so that go test's cache, which knows only the files a test opens,
// runs this test again when one of them changes.
func touchSources(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "docs") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			_, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
