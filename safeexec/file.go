package safeexec

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"unicode/utf8"
)

// File is an executable being written. It is made by [CreateExecutable],
// written like an [os.File], and installed under its name by [File.Close].
//
// Until Close, nobody can run what is being written: on Linux the file has
// no name at all where the filesystem allows (O_TMPFILE) and /proc is
// mounted; elsewhere it has a hidden temporary name in the same directory,
// .NAME.safeexec-XXXXXXXXXXXXX with 13 base-36 digits, and no execute bit.
// Close sets the mode and puts the file in place with one rename (or
// link), so a running program can be replaced, and a reader sees the old
// file or the whole new one.
//
// If the process dies before Close, an unnamed file is gone with it, and a
// temporary name holds the part written, not executable; a process killed
// inside Close may leave the complete file under a temporary name. Such a
// leftover can be removed at any time: nothing refers to it.
//
// The File holds a descriptor of the directory and works relative to it,
// so a later [os.Chdir] cannot redirect the install. Close makes sure that
// nobody holds the file open for writing any more, so that anyone can run
// it without meeting ETXTBSY (see the package documentation).
//
// A File is not safe for concurrent use: its methods must not be called
// from more than one goroutine at a time.
type File struct {
	f          *os.File    // the file being written, or nil once closed
	r          *os.File    // the same file, read-only, for the drain and the link; nil until needed
	dir        *os.File    // the target's directory; every name below is in it
	name       string      // the name given to CreateExecutable, for errors
	base       string      // the target's name in dir
	tmp        string      // the file's temporary name, or "" while it has none
	exists     bool        // whether base existed at Create
	pr, pw     *os.File    // the pipe drain's pipe, made before f was opened
	mount      uint64      // the directory's mount, and so the file's; never reused, or 0
	created    os.FileInfo // a named f as created, to know it again at Close
	pin        *os.File    // holds a named f's inode from Create to Close (see pin)
	signalled  bool        // whether a lease on r is set to signal SIGURG (see prepareLease)
	werr       error       // the first failed write; Close then discards the file
	forkLocked bool        // whether the File holds syscall.ForkLock's read side
	chmod      bool        // whether Close must set mode (named, or special bits)
	mode       os.FileMode // the mode Close sets, if chmod
	synced     bool        // whether Sync was called: Close makes the install durable
	force      vouch       // what must vouch for the file, if not chosen: forceVia at Create
	via        vouch       // what will vouch for the file at Close (see choose)
	fallback   vouch       // what will if the kernel refuses the lease after all
	refused    error       // why the kernel refused the lease at Create, if it did
}

// testHook, when a test sets it, is called at the named steps of Create
// and Close: "open", "opened" (the file is open for writing), "closed"
// (it no longer is here), "reopened" (Close opened a named file
// read-only), "link", "rename" and "installed".
var testHook func(step string)

func hook(step string) {
	if testHook != nil {
		testHook(step)
	}
}

// forceNamed, when a test sets it, makes the Files created from then on
// have a temporary name, as if their filesystem had no unnamed files.
var forceNamed bool

// CreateExecutable creates an executable file that is installed as name,
// with mode perm (before umask), when [File.Close] succeeds. If name exists,
// Close replaces it; if name is a symbolic link, Close replaces the link,
// not its target.
//
// The name must be one a file can be created under: CreateExecutable fails
// with an [*fs.PathError] naming it if it is empty, ends in a separator,
// names a directory, or has a final element too long for the filesystem,
// and if perm has no execute bit or has bits other than the permission,
// setuid, setgid and sticky bits. It creates nothing then.
//
// CreateExecutable never waits for forks, nor forks for it, unless
// [SetGlobalGate] is on: then it takes [syscall.ForkLock] until Close.
func CreateExecutable(name string, perm os.FileMode) (*File, error) {
	dir, base, err := checkName(name, perm)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	f := &File{name: name, base: base, force: forceVia}
	if err := f.create(dir, perm); err != nil {
		f.discard()
		f.release()
		return nil, &fs.PathError{Op: "open", Path: name, Err: underlying(err)}
	}
	return f, nil
}

// checkName splits name into its directory and final element, and checks
// that an executable can be created under it with mode perm.
func checkName(name string, perm os.FileMode) (dir, base string, err error) {
	if name == "" {
		return "", "", syscall.ENOENT // as os.OpenFile("") says
	}
	if err := checkMode(perm); err != nil {
		return "", "", err
	}
	dir, base = filepath.Split(name)
	if base == "" || base == "." || base == ".." {
		return "", "", syscall.EISDIR
	}
	if dir == "" {
		dir = "."
	}
	return dir, base, nil
}

// underlying returns the error inside err's *fs.PathError or
// *os.LinkError, whose names are not the one the caller gave.
func underlying(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// create opens the directory, checks the target's name in it, makes the
// pipe drain's pipe if this mount may need it, and then the file; and it
// asks what will vouch for the file at Close, so that Close does the
// least it can.
func (f *File) create(dir string, perm os.FileMode) error {
	var err error
	if f.dir, err = openDir(dir); err != nil {
		return err
	}
	// A directory at the target fails here, as it would at Close.
	if f.exists, f.mount, err = inspect(f.dir, f.base); err != nil {
		return err
	}
	m := knownMount(f.mount)
	if canFork && (!m.lease && f.force == chosen || f.force == byPipe) {
		// The pipe must be older than the file, so that every fork that
		// copies the file copies its write end too (see drainPipe). It
		// is made before ForkLock: on some systems os.Pipe takes its read
		// side too, and a second read lock waits behind a waiting fork.
		if f.pr, f.pw, err = os.Pipe(); err != nil {
			return err
		}
	}
	if globalGate.Load() {
		joinForkLock()
		f.forkLocked = true
		forkLockHolders.files.Add(1)
	}
	unnamed := !m.named && !forceNamed && canUnname()
	umask := func() (os.FileMode, error) { return readUmask(f.dir, f.base) }
	if !unnamed {
		// A named file needs the umask: read it before the file is
		// open, so that the descriptor is open no longer than it must.
		mask, err := umask()
		umask = func() (os.FileMode, error) { return mask, err }
	}
	hook("open")
	if f.f, f.tmp, err = openFile(f.dir, f.name, f.base, perm, unnamed); err != nil {
		return err
	}
	hook("opened")
	if unnamed && f.tmp != "" {
		noteNamed(f.mount) // not to try again there
	}
	if f.pw != nil {
		if err := f.orderAbovePipe(); err != nil {
			return err
		}
	}
	if err := f.noteMode(perm, umask); err != nil {
		return err
	}
	if f.tmp != "" {
		if f.pin, err = pin(f.f, f.dir, f.name, f.tmp, f.created); err != nil {
			return err
		}
	}
	if f.tmp == "" {
		// Once f is closed, nothing leads to an unnamed file: the
		// read-only descriptor that Close drains on and links must be
		// opened now. A named file is reopened by its name in Close,
		// after f is closed, so that no child forked meanwhile waits at
		// its exec behind that open (see the FUSE note in drain.go).
		if f.r, err = reopenRead(f.f); err != nil {
			return err
		}
	}
	f.via, f.fallback, err = f.choose()
	return err
}

// noteMode records the mode Close must set, perm &^ the umask that umask
// returns if it can tell, and makes sure that the owner can read the file
// until then, for the read-only reopen. A file with a name was created
// with no execute bit: Close sets the mode. So does it when the mode lacks
// owner read, or has setuid, setgid or sticky, which opening does not set
// and a write may clear.
func (f *File) noteMode(perm os.FileMode, umask func() (os.FileMode, error)) error {
	special := perm & (fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	f.chmod = f.tmp != "" || perm&0o400 == 0 || special != 0
	if !f.chmod {
		return nil // the file has the mode to install
	}
	fi, err := f.f.Stat()
	if err != nil {
		return err
	}
	f.created = fi
	// The file was created with perm|0o400, less the umask, and a named
	// one with no execute bit.
	m := fi.Mode().Perm()
	if f.tmp != "" {
		mask, err := umask()
		if err != nil {
			return err
		}
		m = (perm.Perm() | 0o400) &^ mask
	}
	f.mode = m&^(0o400&^perm) | special
	if fi.Mode()&0o400 == 0 {
		return f.f.Chmod(fi.Mode() | 0o400) // a umask that takes it away
	}
	return nil
}

// probeUmask returns the umask that mkdir sees: mkdir makes a directory
// with mode 0o777 under a new name for base, removes it, and returns the
// mode it had. Reading the umask by setting it would race with every
// goroutine that creates a file meanwhile.
func probeUmask(base string, mkdir func(name string) (os.FileMode, error)) (os.FileMode, error) {
	for range 100 {
		m, err := mkdir(tempName(base))
		if !errors.Is(err, fs.ErrExist) {
			return 0o777 &^ m, err
		}
	}
	return 0, fs.ErrExist
}

// openFile opens the file to be written in dir, with mode perm before
// the umask: unnamed (tmp "") where unnamed is set and the filesystem
// allows, else under a new temporary name for base, with no execute bit.
func openFile(dir *os.File, name, base string, perm os.FileMode, unnamed bool) (f *os.File, tmp string, err error) {
	// The owner may read the file: it is reopened read-only.
	mode := perm&fs.ModePerm | 0o400
	if unnamed {
		f, err = openUnnamed(dir, name, mode)
		if !errors.Is(err, errors.ErrUnsupported) {
			return f, "", err
		}
	}
	for range 100 {
		tmp = tempName(base)
		f, err = openAt(dir, name, tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, mode&^0o111)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return f, tmp, err
		}
	}
	return nil, "", fs.ErrExist
}

// tempName returns a new temporary name for base: hidden, in the same
// directory, and no longer than base itself when base is long, so that it
// fits wherever base does.
func tempName(base string) string {
	const suffix = len(".") + len(".safeexec-") + 13
	if len(base) > 100 {
		n := len(base) - suffix
		for n > 0 && !utf8.RuneStart(base[n]) {
			n--
		}
		base = base[:n]
	}
	// With the top bit set, every uint64 has 13 digits in base 36.
	return "." + base + ".safeexec-" + strconv.FormatUint(rand.Uint64()|1<<63, 36)
}

// WriteExecutable writes data to an executable named name, creating it with
// mode perm (before umask) or replacing it, as [os.WriteFile] does for
// ordinary files. When it returns nil, the file is complete and can be run.
// When it fails, it leaves name as it was. It takes the names and modes
// that [CreateExecutable] takes.
func WriteExecutable(name string, data []byte, perm os.FileMode) error {
	f, err := CreateExecutable(name, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Close()
}

// Close sets the file's mode and installs it under its name. Before it
// returns nil, it makes sure that nobody holds the file open for writing
// any more, so that it can be run (see the package documentation for how
// and where). That wait lasts until the retry budget (see [SetRetryBudget])
// runs out, or a second if the budget is shorter; [File.CloseContext]
// bounds it instead by a context.
//
// If [File.Sync] was called, Close also syncs what was written after it
// and the directory, so that once Close returns nil the installed file
// survives a power cut; without Sync, after a power cut name may hold the
// old file, or the new one empty or in part.
//
// If a write failed, Close discards the file and returns that error. If
// the file is still open for writing when the wait ends, Close returns an
// error that satisfies errors.Is(err, syscall.ETXTBSY). Whenever Close
// fails, it leaves name as it was and discards the file. Errors are
// [*fs.PathError]s on the name given, but a failure to put the file in
// place, which is an [*os.LinkError]. A second Close returns an error.
func (f *File) Close() error {
	return f.CloseContext(context.Background())
}

// CloseContext is like [File.Close] but waits for the file to be closed
// everywhere only until ctx is done, whatever the retry budget; it then
// fails with an error that satisfies errors.Is(err, syscall.ETXTBSY) and
// errors.Is(err, ctx.Err()). Without a deadline, ctx bounds the wait only
// when it is canceled, and the retry budget still does. CloseContext
// panics if ctx is nil, as [CommandContext] does. It is for a
// caller who bounds the whole of its work by a context, as
// [CommandContext] does for a command.
func (f *File) CloseContext(ctx context.Context) error {
	if ctx == nil {
		panic("safeexec: nil Context")
	}
	if f == nil {
		return os.ErrInvalid
	}
	if f.f == nil {
		return f.closedError("close")
	}
	err := f.werr
	if err == nil {
		err = f.install(ctx)
	}
	if err != nil {
		f.discard()
	}
	f.release()
	return err
}

// install sets the mode, waits until nobody holds the file open for
// writing (see drain.go), and puts it in place.
func (f *File) install(ctx context.Context) error {
	if f.synced {
		if err := f.f.Sync(); err != nil {
			return f.pathErr("sync", err)
		}
	}
	// The mode is set through the read-only descriptor where there will
	// be one after the drain, else before the writable one is closed.
	late := f.r != nil || f.via == byLease
	if f.chmod && !late {
		if err := f.f.Chmod(f.mode); err != nil {
			return f.pathErr("chmod", err)
		}
	}
	if err := f.drain(ctx); err != nil {
		return err
	}
	if f.chmod && late {
		if err := f.r.Chmod(f.mode); err != nil {
			return f.pathErr("chmod", err)
		}
	}
	if f.tmp != "" && f.r != nil {
		// A named file is renamed, not linked through r: let it go
		// first, as os.WriteFile lets go of its file before os.Rename.
		f.r.Close()
		f.r = nil
	}
	hook("link")
	if err := f.link(); err != nil {
		return err
	}
	hook("installed")
	if f.synced {
		if err := syncDir(f.dir); err != nil {
			return f.pathErr("sync", err)
		}
	}
	return nil
}

// link puts the file in place: an unnamed file is linked in under its
// name if nothing was there at Create, else under a temporary name, and a
// temporary name is renamed over the target.
func (f *File) link() error {
	if f.tmp == "" {
		if !f.exists {
			err := linkAt(f.r, f.dir, f.base)
			if err == nil || !errors.Is(err, fs.ErrExist) {
				return f.linkErr("link", err)
			}
		}
		for range 100 {
			f.tmp = tempName(f.base)
			err := linkAt(f.r, f.dir, f.tmp)
			if err == nil {
				break
			}
			if f.tmp = ""; !errors.Is(err, fs.ErrExist) {
				return f.linkErr("link", err)
			}
		}
		if f.tmp == "" {
			return f.linkErr("link", fs.ErrExist)
		}
	} else if err := f.checkTemp(); err != nil {
		return err
	}
	hook("rename")
	if err := renameAt(f.dir, f.tmp, f.base); err != nil {
		return f.linkErr("rename", err)
	}
	f.tmp = ""
	return nil
}

// Abort discards the file without installing it and leaves name as it
// was. After Close, or a first Abort, it does nothing and returns nil, so
// that it can be deferred right after CreateExecutable, even before its
// error is checked: Abort of a nil *File returns nil too.
func (f *File) Abort() error {
	if f == nil || f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	if rerr := f.discard(); err == nil {
		err = rerr
	}
	f.release()
	return f.pathErr("close", err)
}

// discard removes the file's temporary name, if it has one.
func (f *File) discard() error {
	if f.tmp == "" {
		return nil
	}
	err := removeAt(f.dir, f.tmp)
	f.tmp = ""
	return err
}

// release closes the descriptors f still holds, and gives up its share of
// ForkLock.
func (f *File) release() {
	for _, d := range []*os.File{f.f, f.r, f.pin, f.pw, f.pr, f.dir} {
		if d != nil {
			d.Close()
		}
	}
	f.f, f.r, f.pin, f.pw, f.pr, f.dir = nil, nil, nil, nil, nil, nil
	f.releaseForkLock()
}

// linkErr returns err, if not nil, as the *os.LinkError of op from the
// file's temporary path (or its descriptor) to its name.
func (f *File) linkErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return &os.LinkError{Op: op, Old: f.tmpPath(), New: f.name, Err: underlying(err)}
}

// tmpPath returns the file's temporary path, for errors.
func (f *File) tmpPath() string {
	if f.tmp == "" {
		return "(unnamed)"
	}
	return filepath.Join(filepath.Dir(f.name), f.tmp)
}
