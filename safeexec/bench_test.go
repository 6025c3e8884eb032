package safeexec

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// The benchmarks come in pairs, plain os/exec and safeexec, as
// sub-benchmarks named exec and safeexec, so that benchstat can put them
// side by side. cmd/racecheck runs the same comparisons with a writer
// racing the spawners and reports failures too.

// benchScript is the executable the write benchmarks write, the same as
// writeScript's with the body "exit 0".
var benchScript = []byte("#!/bin/sh\nexit 0\n")

// benchWays are the two ways to write an executable and start a command.
var benchWays = []struct {
	name  string
	run   func(path string) error
	write func(path string, data []byte) error
}{
	{
		name:  "exec",
		run:   func(path string) error { return exec.Command(path).Run() },
		write: func(path string, data []byte) error { return os.WriteFile(path, data, 0o755) },
	},
	{
		name:  "safeexec",
		run:   func(path string) error { return Command(path).Run() },
		write: func(path string, data []byte) error { return WriteExecutable(path, data, 0o755) },
	},
}

// BenchmarkStart measures Start and Wait of true: the fast path, with
// no writer, where safeexec adds one read lock of the gate per Start.
func BenchmarkStart(b *testing.B) {
	path := truePath(b)
	for _, w := range benchWays {
		b.Run(w.name, func(b *testing.B) {
			for b.Loop() {
				if err := w.run(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStartParallel is BenchmarkStart from GOMAXPROCS goroutines,
// where the gate's read side is shared.
func BenchmarkStartParallel(b *testing.B) {
	path := truePath(b)
	for _, w := range benchWays {
		b.Run(w.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := w.run(path); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkWriteRun writes a tiny script and runs it, with nothing else
// starting commands: os.WriteFile against WriteExecutable, whose
// temporary name, flock drain and rename are the cost measured.
func BenchmarkWriteRun(b *testing.B) {
	for _, w := range benchWays {
		b.Run(w.name, func(b *testing.B) {
			dir := b.TempDir()
			path := filepath.Join(dir, "script")
			for b.Loop() {
				if w.name == "exec" {
					writeScript(b, dir, "script", "exit 0") // os.WriteFile
				} else if err := w.write(path, benchScript); err != nil {
					b.Fatal(err)
				}
				if err := w.run(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteExecutable measures writing and installing a small
// executable with nothing else running, which replaces it after the first
// time: os.WriteFile of a temporary name and os.Rename (osexec), the
// least that installs a file atomically, against WriteExecutable.
func BenchmarkWriteExecutable(b *testing.B) {
	benchWriteExecutable(b, func(b *testing.B) string { return b.TempDir() })
}

// benchWriteExecutable is BenchmarkWriteExecutable in the directories
// that dir makes.
func benchWriteExecutable(b *testing.B, dir func(*testing.B) string) {
	writes := []struct {
		name  string
		write func(path string) error
	}{
		{"osexec", func(path string) error {
			if err := os.WriteFile(path+".tmp", benchScript, 0o755); err != nil {
				return err
			}
			return os.Rename(path+".tmp", path)
		}},
		{"safeexec", func(path string) error { return WriteExecutable(path, benchScript, 0o755) }},
	}
	for _, w := range writes {
		b.Run(w.name, func(b *testing.B) {
			path := filepath.Join(dir(b), "prog")
			for b.Loop() {
				if err := w.write(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCloseStorm measures Close of a freshly written executable
// while two goroutines start true as fast as they can, so that Close
// often finds a child that still holds the file. Its ns/op is the time
// of Close alone; drainwait/op is the share of Closes that had to wait
// for a child, ns/drainwait the mean of those waits, and slowpath/op the
// share of Starts that met ETXTBSY.
// The exec variant closes an *os.File, with no wait at all; exec+rename
// also renames it into place, as a writer that replaces a program must.
func BenchmarkCloseStorm(b *testing.B) {
	benchCloseStorm(b, func(b *testing.B) string { return b.TempDir() })
}

func benchCloseStorm(b *testing.B, dir func(*testing.B) string) {
	path := truePath(b)
	type file interface {
		Write([]byte) (int, error)
		Close() error
	}
	plain := func(name string) (file, error) {
		return os.OpenFile(name+".tmp", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	}
	ways := []struct {
		name   string
		run    func(path string) error
		create func(name string) (file, error)
		close  func(f file, name string) error
	}{
		{"exec", benchWays[0].run, plain, func(f file, _ string) error { return f.Close() }},
		{"exec+rename", benchWays[0].run, plain, func(f file, name string) error {
			if err := f.Close(); err != nil {
				return err
			}
			return os.Rename(name+".tmp", name)
		}},
		{"safeexec", benchWays[1].run, func(name string) (file, error) { return CreateExecutable(name, 0o755) },
			func(f file, _ string) error { return f.Close() }},
	}
	for _, w := range ways {
		b.Run(w.name, func(b *testing.B) {
			dir := dir(b)
			fds := -1
			if runtime.GOOS == "linux" {
				// The first command starts the runtime's poller, whose
				// descriptors stay open; count after it.
				if err := w.run(path); err != nil {
					b.Fatal(err)
				}
				fds = openFDs(b)
			}
			_, stop := spawnStorm(b, 2, func() error { return w.run(path) })
			defer func() {
				stop()
				if fds >= 0 {
					if now := openFDs(b); now > fds {
						b.Errorf("open descriptors: %d after the storm, want at most %d as before", now, fds)
					}
				}
			}()

			before := ReadStats()
			var closing time.Duration
			n := 0
			for b.Loop() {
				name := filepath.Join(dir, "x"+strconv.Itoa(n))
				n++
				f, err := w.create(name)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.Write(benchScript); err != nil {
					b.Fatal(err)
				}
				t := time.Now()
				err = w.close(f, name)
				closing += time.Since(t)
				if err != nil {
					b.Fatal(err)
				}
				os.Remove(name)
				os.Remove(name + ".tmp")
			}
			after := ReadStats()
			b.ReportMetric(float64(closing.Nanoseconds())/float64(n), "ns/op")
			waits := after.DrainWaits - before.DrainWaits
			b.ReportMetric(float64(waits)/float64(n), "drainwait/op")
			if waits > 0 {
				b.ReportMetric(float64((after.DrainWaitTime-before.DrainWaitTime).Nanoseconds())/float64(waits), "ns/drainwait")
			}
			b.ReportMetric(float64(after.SlowPaths-before.SlowPaths)/float64(n), "slowpath/op")
		})
	}
}
