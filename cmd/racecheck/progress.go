package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress reports what racecheck is doing on a terminal as one line
// redrawn in place, and elsewhere as a plain line per stage.
type progress struct {
	f     io.Writer
	tty   bool
	begin time.Time
	stage string // the stage last shown
	width int    // the width of the line on the terminal
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		fi, err := f.Stat()
		tty = err == nil && fi.Mode()&os.ModeCharDevice != 0
	}
	return &progress{f: w, tty: tty, begin: time.Now()}
}

// show reports that racecheck has reached stage, doing detail.
func (p *progress) show(stage, detail string) {
	elapsed := time.Since(p.begin).Seconds()
	if !p.tty {
		if stage != p.stage {
			fmt.Fprintf(p.f, "racecheck: %5.1fs %s\n", elapsed, stage)
		}
		p.stage = stage
		return
	}
	line := fmt.Sprintf("racecheck: %5.1fs %s: %s", elapsed, stage, detail)
	pad := max(p.width-len(line), 0)
	fmt.Fprintf(p.f, "\r%s%s", line, strings.Repeat(" ", pad))
	p.width = len(line)
	p.stage = stage
}

// done ends the progress report.
func (p *progress) done() {
	elapsed := time.Since(p.begin).Seconds()
	if p.tty {
		fmt.Fprintf(p.f, "\r%s\r", strings.Repeat(" ", p.width))
	}
	fmt.Fprintf(p.f, "racecheck: done in %.1fs\n", elapsed)
}
