package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// fsNames names the statfs(2) f_type values of common filesystems.
var fsNames = map[int64]string{
	0xef53:     "ext2/3/4",
	0x01021994: "tmpfs",
	0x794c7630: "overlayfs",
	0x58465342: "xfs",
	0x9123683e: "btrfs",
	0x2fc12fc1: "zfs",
	0xf2f52010: "f2fs",
	0xca451a4e: "bcachefs",
	0x6969:     "nfs",
	0xff534d42: "cifs",
	0xfe534d42: "smb2",
	0x65735546: "fuse",
	0x01021997: "9p",
	0x858458f6: "ramfs",
	0x4d44:     "vfat",
	0x2011bab0: "exfat",
	0x5346544e: "ntfs",
	0x00c36400: "ceph",
	0x73717368: "squashfs",
	0x6a656a63: "virtiofs",
}

// fsType returns the name of the filesystem dir is on, from statfs(2)
// and, for FUSE, the subtype in /proc/self/mountinfo, and its f_type.
func fsType(dir string) (string, uint64) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "unknown (" + err.Error() + ")", 0
	}
	name, ok := fsNames[int64(st.Type)]
	if !ok {
		name = "unknown"
	}
	switch mi := mountType(dir); {
	case mi == "" || mi == name:
	case name == "unknown", name == "ext2/3/4" && strings.HasPrefix(mi, "ext"):
		name = mi
	default:
		name += " (mounted as " + mi + ")"
	}
	return name, uint64(st.Type)
}

// mountType returns the type /proc/self/mountinfo gives for the mount
// that holds dir, such as "fuse.bindfs", or "".
func mountType(dir string) string {
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return ""
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	best, typ := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options... - type source
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 5 || sep < 0 || sep+1 >= len(fields) {
			continue
		}
		mp := fields[4]
		if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) >= len(best) {
			best, typ = mp, fields[sep+1]
		}
	}
	return typ
}
