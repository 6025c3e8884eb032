//go:build darwin || freebsd

package main

import (
	"bytes"

	"golang.org/x/sys/unix"
)

// fsType returns the name statfs(2) gives the filesystem dir is on.
func fsType(dir string) (string, uint64) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "unknown (" + err.Error() + ")", 0
	}
	name, _, _ := bytes.Cut(st.Fstypename[:], []byte{0})
	return string(name), 0
}
