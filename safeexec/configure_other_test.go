//go:build !linux

package safeexec

import "testing"

// TestConfigureCtty is in configure_linux_test.go: it opens a
// pseudo-terminal with Linux's ioctls.
func TestConfigureCtty(t *testing.T) {
	t.Skip("requires Linux: the test opens a pseudo-terminal through /dev/ptmx with Linux's ioctls")
}
