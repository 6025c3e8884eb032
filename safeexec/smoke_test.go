package safeexec

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func init() {
	helpers["echo"] = func(args []string) int { fmt.Println(strings.Join(args, " ")); return 0 }
}

func TestSmoke(t *testing.T) {
	out, err := helperCommand(t, "echo", "a", "b").Output()
	if err != nil || string(out) != "a b\n" {
		t.Fatalf("got %q, %v", out, err)
	}
	dir := t.TempDir()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				Command("true").Run()
			}
		}()
	}
	fails := 0
	for i := range 2000 {
		p := filepath.Join(dir, fmt.Sprint("s", i))
		if err := WriteExecutable(p, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := exec.Command(p).Run(); err != nil {
			fails++
		}
		os.Remove(p)
	}
	close(stop)
	wg.Wait()
	t.Logf("fails %d stats %+v", fails, ReadStats())
}
