package safeexec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// FUSE opcodes (include/uapi/linux/fuse.h).
var fuseOps = map[uint32]string{
	1: "LOOKUP", 2: "FORGET", 3: "GETATTR", 4: "SETATTR", 10: "UNLINK", 12: "RENAME",
	14: "OPEN", 15: "READ", 16: "WRITE", 18: "RELEASE", 22: "GETXATTR", 25: "FLUSH",
	26: "INIT", 35: "CREATE", 42: "BATCH_FORGET", 45: "RENAME2",
}

// TestFUSERequests counts the requests a single-threaded bindfs daemon
// gets for WriteExecutable replacing a file, beside os.WriteFile and
// os.Rename doing the same, once the mount is known: strace reads them as
// the daemon reads them from /dev/fuse. A File may make the read-only
// OPEN of the drain, its RELEASE and the SETATTR of the mode beyond what
// os.WriteFile and os.Rename make, and nothing more.
func TestFUSERequests(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "trace")
	// Entries and attributes the kernel caches for an hour, so that no
	// stall of the test past the default second adds a LOOKUP to one side.
	mnt, unmount := mountStraced(t, "bindfs", []string{"entry_timeout=3600", "attr_timeout=3600"},
		"-o", trace, "-e", "trace=read", "-xx", "-s", "96")
	data := []byte("#!/bin/sh\nexit 0\n")
	if err := WriteExecutable(filepath.Join(mnt, "first"), data, 0o755); err != nil {
		t.Fatal(err) // the first Create on a mount learns it
	}
	const n = 20
	ways := []struct {
		name  string
		write func(target string, i int) error
	}{
		{"plain", func(target string, i int) error {
			tmp := filepath.Join(mnt, ".tmp"+strconv.Itoa(i))
			if err := os.WriteFile(tmp, data, 0o755); err != nil {
				return err
			}
			return os.Rename(tmp, target)
		}},
		{"safeexec", func(target string, _ int) error { return WriteExecutable(target, data, 0o755) }},
	}
	for _, w := range ways {
		target := filepath.Join(mnt, w.name)
		if err := os.WriteFile(target, data, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Stat(filepath.Join(mnt, "mark-begin-"+w.name)) // a LOOKUP the trace can find
		for i := range n {
			if err := w.write(target, i); err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
		}
		os.Stat(filepath.Join(mnt, "mark-end-"+w.name))
	}
	unmount() // strace has written everything once it exits
	counts := fuseRequests(t, trace)
	plain, safe := counts["plain"], counts["safeexec"]
	t.Logf("requests for %d writes: plain %v; safeexec %v", n, plain, safe)
	if plain["RENAME"] != n || safe["RENAME"] != n {
		t.Fatalf("RENAME: plain %d, safeexec %d, want %d each: the trace is not of these writes", plain["RENAME"], safe["RENAME"], n)
	}
	extra := map[string]bool{"OPEN": true, "RELEASE": true, "SETATTR": true}
	for op := range merge(plain, safe) {
		if op == "FORGET" || op == "BATCH_FORGET" {
			continue // the kernel's, as it drops inodes: the replaced files
		}
		want := plain[op]
		if extra[op] {
			want += n
		}
		if safe[op] > want {
			t.Errorf("%s: safeexec %d, want at most %d (plain %d)", op, safe[op], want, plain[op])
		}
	}
}

// fuseRequests reads strace's trace of a FUSE daemon and counts the
// requests between the LOOKUPs of "mark-begin-NAME" and "mark-end-NAME",
// by opcode, for each NAME.
func fuseRequests(t *testing.T, trace string) map[string]map[string]int {
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read := regexp.MustCompile(`read\(\d+, "((?:\\x[0-9a-f]{2})+)"`)
	counts := map[string]map[string]int{}
	var in map[string]int
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := read.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		b, err := hex.DecodeString(strings.ReplaceAll(m[1], `\x`, ""))
		if err != nil || len(b) < 40 {
			continue
		}
		op := fuseOps[binary.LittleEndian.Uint32(b[4:8])]
		if op == "" {
			op = "op" + strconv.Itoa(int(binary.LittleEndian.Uint32(b[4:8])))
		}
		if op == "LOOKUP" {
			name, _, _ := bytes.Cut(b[40:], []byte{0})
			if w, ok := strings.CutPrefix(string(name), "mark-begin-"); ok {
				in = map[string]int{}
				counts[w] = in
				continue
			}
			if strings.HasPrefix(string(name), "mark-end-") {
				in = nil
				continue
			}
		}
		if in != nil {
			in[op]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return counts
}

// merge returns the keys of a and b.
func merge(a, b map[string]int) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}
