package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// printJSON prints rep as one JSON object on w, and its problems, as FAIL
// lines, on stderr.
func printJSON(w, stderr io.Writer, rep *report) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintf(stderr, "racecheck: %v\n", err)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stderr, "racecheck: FAIL: %s\n", p)
	}
}
