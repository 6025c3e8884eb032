package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress tells what racecheck is doing while it runs. On a terminal it
// is one line, redrawn in place and cleared before the report, so that
// the verdict is the first thing on the screen. Elsewhere (a file, a pipe,
// CI's log) it is a single line that says how long the run takes:
// anything more would come before the verdict when stdout and stderr are
// read together (issue #22).
type progress struct {
	f     io.Writer
	tty   bool
	begin time.Time
	most  string // how long the run takes at most, as "1m15s", if known
	width int    // the width of the line on the terminal
}

// newProgress starts reporting progress to w for a run with cfg.
func newProgress(w io.Writer, cfg *config) *progress {
	f, ok := w.(*os.File)
	about, most := runTime(cfg)
	p := &progress{f: w, tty: ok && isTerminal(f), begin: time.Now()}
	if most > 0 {
		p.most = " of at most " + most.String()
	}
	if !p.tty {
		fmt.Fprintf(w, "racecheck: this run takes %s; the report follows\n", about)
	}
	return p
}

// show reports, on a terminal, that racecheck has reached stage, doing
// detail.
func (p *progress) show(stage, detail string) {
	if !p.tty {
		return
	}
	// Short enough for a terminal of 80 columns, where a longer line
	// would wrap and no longer be redrawn in place.
	line := fmt.Sprintf("racecheck: %.0fs%s: %s: %s", time.Since(p.begin).Seconds(), p.most, stage, detail)
	pad := max(p.width-len(line), 0)
	fmt.Fprintf(p.f, "\r%s%s", line, strings.Repeat(" ", pad))
	p.width = len(line)
}

// done clears the progress line from the terminal.
func (p *progress) done() {
	if p.tty && p.width > 0 {
		fmt.Fprintf(p.f, "\r%s\r", strings.Repeat(" ", p.width))
		p.width = 0
	}
}

// runTime returns how long a run with cfg takes, in words, and at most,
// unless -cycles makes that unknown: s1, s2 and s5 take at most -duration, s3 about one and a half
// -perf per strategy, s4 one -perf per strategy and goroutine count, and
// a probe about half a second.
func runTime(cfg *config) (about string, most time.Duration) {
	var d time.Duration
	early, s5 := false, false // s1 or s2, which may stop early; s5
	for _, sc := range cfg.scenarios {
		switch sc {
		case "s1", "s2":
			early = true
		case "s5":
			s5 = true
		case "s3":
			d += time.Duration(len(cfg.strategies)) * (cfg.perf*3/2 + 50*time.Millisecond)
		case "s4":
			d += time.Duration(len(cfg.strategies)*len(fastGoroutines)) * cfg.perf
		case "probes":
			for _, st := range cfg.strategies {
				if st.safe {
					d += time.Duration(len(probes)) * time.Second / 2
				}
			}
		}
	}
	switch {
	case early && cfg.cycles > 0 && s5:
		d += cfg.duration / 5 // s5's share; -cycles counts s1 and s2's
	case early && cfg.cycles > 0:
	case early || s5:
		d += cfg.duration
	}
	d = d.Round(time.Second)
	switch {
	case early && cfg.cycles > 0:
		about = fmt.Sprintf("%d cycles per strategy in s1 and s2", cfg.cycles)
		if d > 0 {
			about += fmt.Sprintf(" and about %v more", d)
		}
		return about, 0
	case early:
		return fmt.Sprintf("at most about %v, less if the verdict is decided early", d), d
	}
	return fmt.Sprintf("at most about %v", d), d
}
