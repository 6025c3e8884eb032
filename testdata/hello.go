//go:build ignore

// Hello is a real compiled program for the tests: they build it, copy the
// binary into place with safeexec.CreateExecutable and run it.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	fmt.Println("hello", strings.Join(os.Args[1:], " "))
}
