package addimport

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeTool writes a fake tool for a test.
func fakeTool(t *testing.T, script string) string {
	name := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(name, []byte(script), 0o700); err != nil { // want `os.WriteFile writes an executable .*write it with safeexec.WriteExecutable`
		t.Fatal(err)
	}
	return name
}
