package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Formatting helpers of the text report.

// table prints rows as columns two spaces apart, with no trailing spaces.
// The first column and those whose header ends in "<" are left-aligned
// (the "<" is not printed), the others right-aligned.
func table(w io.Writer, rows [][]string) {
	left := map[int]bool{0: true}
	header := slices.Clone(rows[0])
	for i, h := range header {
		if s, ok := strings.CutSuffix(h, "<"); ok {
			header[i], left[i] = s, true
		}
	}
	rows = append([][]string{header}, rows[1:]...)
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i > 0 {
				b.WriteString("  ")
			}
			if left[i] {
				b.WriteString(cell + pad)
			} else {
				b.WriteString(pad + cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// plural returns n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// times says how many times something happened.
func times(n int64) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func pctString(p float64) string { return fmt.Sprintf("%.2f%%", p) }

// num formats x with up to three significant digits.
func num(x float64) string { return fmt.Sprintf("%.3g", x) }

func pvalue(p float64) string {
	return fmt.Sprintf("%.2g", p)
}

func loads(l []float64) string {
	var s []string
	for _, x := range l {
		s = append(s, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(s, " ")
}

func joinInts(xs []int) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, ", ")
}

// wrap breaks s into lines of at most width columns at spaces, starting
// each line after the first with indent; a word longer than a line is cut.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(s) {
		if i > 0 && line+1+utf8.RuneCountInString(word) > width {
			b.WriteString("\n" + indent)
			line = utf8.RuneCountInString(indent)
		} else if i > 0 {
			b.WriteByte(' ')
			line++
		}
		for r := []rune(word); len(r) > 0; {
			n := min(len(r), max(1, width-line))
			if n < len(r) && line > utf8.RuneCountInString(indent) {
				b.WriteString("\n" + indent) // start a long word on a line of its own
				line = utf8.RuneCountInString(indent)
				continue
			}
			b.WriteString(string(r[:n]))
			line += n
			if r = r[n:]; len(r) > 0 {
				b.WriteString("\n" + indent)
				line = utf8.RuneCountInString(indent)
			}
		}
	}
	return b.String()
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-3]) + "..."
}
