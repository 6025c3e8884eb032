package writers

import (
	"os"
	"os/exec" // want `os/exec can be replaced by safeexec`
	"path/filepath"
)

func stub(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil { // a directory: not reported
		return "", err
	}
	name := filepath.Join(dir, "stub")
	err := os.WriteFile(name, []byte("#!/bin/sh\n"), 0o755) // want `os.WriteFile writes an executable \(a program that runs it while another goroutine forks may fail with "text file busy"; write it with exec.WriteExecutable, which replaces the file: see the fixer's doc\)`
	if err != nil {
		return "", err
	}
	os.WriteFile(filepath.Join(dir, "data"), nil, 0o644) // not executable
	os.WriteFile(name, nil, os.ModeDir|0o755)            // want `os.WriteFile writes an executable .*mode 020000000755 has bits that exec.WriteExecutable refuses`
	out, err := exec.Command(name).Output()
	return string(out), err
}
