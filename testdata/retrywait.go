//go:build ignore

// Retrywait measures what a retried Start waits: it writes a script with
// os.WriteFile and runs it through safeexec, again and again, while two
// goroutines start true through safeexec, and reports the Starts that met
// ETXTBSY and the time each spent retrying (Stats.SlowPathTime). Run it
// from the repository's root:
//
//	go run ./testdata/retrywait.go [cycles]
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	exec "github.com/forkgate/forkgate/safeexec"
)

func main() {
	cycles := 10000
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n < 1 {
			log.Fatalf("retrywait: cycles: want a positive number, got %q", os.Args[1])
		}
		cycles = n
	}
	dir, err := os.MkdirTemp("", "retrywait-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					exec.Command("true").Run()
				}
			}
		})
	}
	var waits []time.Duration
	failed := 0
	for i := range cycles {
		path := filepath.Join(dir, fmt.Sprintf("script-%d", i))
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
			log.Fatal(err)
		}
		before := exec.ReadStats()
		if err := exec.Command(path).Run(); err != nil {
			failed++
		}
		after := exec.ReadStats()
		if after.SlowPaths > before.SlowPaths {
			waits = append(waits, after.SlowPathTime-before.SlowPathTime)
		}
		os.Remove(path)
	}
	close(stop)
	wg.Wait()

	fmt.Printf("%d cycles, %d failed, %d Starts met ETXTBSY and retried (%.1f%%)\n",
		cycles, failed, len(waits), 100*float64(len(waits))/float64(cycles))
	if len(waits) == 0 {
		return
	}
	slices.Sort(waits)
	var sum time.Duration
	for _, w := range waits {
		sum += w
	}
	fmt.Printf("their wait: mean %v, median %v, 90th percentile %v, most %v\n",
		(sum / time.Duration(len(waits))).Round(time.Microsecond), waits[len(waits)/2].Round(time.Microsecond),
		waits[len(waits)*9/10].Round(time.Microsecond), waits[len(waits)-1].Round(time.Microsecond))
}
