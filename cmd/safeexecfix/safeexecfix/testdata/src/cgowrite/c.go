package cgowrite

import "os"

// static int two(void) { return 2; }
import "C"

// Two calls C.
func Two() int { return int(C.two()) }

// Write writes an executable.
func Write(name string, b []byte) error { return os.WriteFile(name, b, 0o755) } // want `os.WriteFile writes an executable .*the fix does not edit cgo packages`
