package safeexec

import "strconv"

// prefixSuffixSaver keeps the first N and the last N bytes written to it,
// which is what exec's Output puts in [ExitError.Stderr]. exec's own saver
// is unexported, so Output uses this one, which produces the same bytes.
type prefixSuffixSaver struct {
	N       int    // how many bytes to keep at each end
	prefix  []byte // the first bytes, up to N
	suffix  []byte // a ring of the last bytes once prefix is full
	next    int    // where the ring's oldest byte is, once it is full
	skipped int64  // bytes written but kept in neither
}

func (w *prefixSuffixSaver) Write(p []byte) (int, error) {
	n := len(p)
	if room := w.N - len(w.prefix); room > 0 {
		k := min(room, len(p))
		w.prefix = append(w.prefix, p[:k]...)
		p = p[k:]
	}
	if over := len(p) - w.N; over > 0 {
		w.skipped += int64(over)
		p = p[over:]
	}
	if room := w.N - len(w.suffix); room > 0 {
		k := min(room, len(p))
		w.suffix = append(w.suffix, p[:k]...)
		p = p[k:]
	}
	// The ring is full: every byte still in p pushes out the oldest one.
	for len(p) > 0 {
		k := copy(w.suffix[w.next:], p)
		p = p[k:]
		w.skipped += int64(k)
		w.next = (w.next + k) % w.N
	}
	return n, nil
}

// Bytes returns the kept bytes, with a note on how many were left out in
// between.
func (w *prefixSuffixSaver) Bytes() []byte {
	if w.skipped == 0 {
		return append(w.prefix, w.suffix...)
	}
	b := make([]byte, 0, len(w.prefix)+len(w.suffix)+50)
	b = append(b, w.prefix...)
	b = append(b, "\n... omitting "...)
	b = strconv.AppendInt(b, w.skipped, 10)
	b = append(b, " bytes ...\n"...)
	b = append(b, w.suffix[w.next:]...)
	return append(b, w.suffix[:w.next]...)
}
