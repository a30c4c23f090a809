package dataset

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"unicode/utf8"

	"movierec/engine"
)

// readAll reads r to the end into one buffer, sized up front when r reports
// its length (bytes.Reader, strings.Reader, bytes.Buffer) or is a regular
// file, so that large inputs are not copied while the buffer grows.
func readAll(r io.Reader) ([]byte, error) {
	n := 0
	switch v := r.(type) {
	case interface{ Len() int }:
		n = v.Len()
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() < math.MaxInt32 {
			n = int(fi.Size())
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, n+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

var utf8BOM = []byte("\xEF\xBB\xBF")

// stripBOM removes a leading UTF-8 byte order mark.
func stripBOM(b []byte) []byte { return bytes.TrimPrefix(b, utf8BOM) }

// toUTF8 returns b unchanged when it is valid UTF-8, and otherwise decodes it
// as Latin-1 (ISO 8859-1: each byte is the code point of the same value) into
// a new UTF-8 buffer.
func toUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/16)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}

// trimTrailingLines drops the line ends (and so any empty lines) at the end
// of b. Line numbers of what remains are unchanged.
func trimTrailingLines(b []byte) []byte { return bytes.TrimRight(b, "\r\n") }

// nextLine splits b at its first '\n' and returns the line without its line
// end ("\n" or "\r\n") and the rest of b.
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		line, rest = b, nil
	} else {
		line, rest = b[:i], b[i+1:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// numStatus is the outcome of parseUint.
type numStatus uint8

const (
	numOK     numStatus = iota
	numSyntax           // empty, or a byte that is not a decimal digit
	numRange            // more than max
)

// parseUint parses b as a decimal integer in [0, max]: ASCII digits only, no
// sign, no spaces. It allocates nothing.
func parseUint(b []byte, max uint64) (uint64, numStatus) {
	if len(b) == 0 {
		return 0, numSyntax
	}
	if len(b) <= 19 { // 19 digits cannot overflow a uint64
		var v uint64
		for _, c := range b {
			d := c - '0'
			if d > 9 {
				return 0, numSyntax
			}
			v = v*10 + uint64(d)
		}
		if v > max {
			return 0, numRange
		}
		return v, numOK
	}
	for _, c := range b {
		if c-'0' > 9 {
			return 0, numSyntax
		}
	}
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	if len(b) > 19 {
		return 0, numRange
	}
	return parseUint(b, max)
}

// valueCheck reads rating values: against a declared scale, or, with no
// scale declared, any finite decimal that fits a float32 (the scale is then
// detected from the values afterwards).
type valueCheck struct {
	scale    engine.Scale
	declared bool
	// fast[d*10+t] is the value of "d" (t = 0) and "d.t", or NaN when it
	// is not valid: the fast paths' lookup.
	fast [100]float32
}

// movieLensCheck checks against the MovieLens half stars. It is never
// modified.
var movieLensCheck = buildValueCheck(&engine.MovieLensScale)

// newValueCheck returns the check for scale, or for any finite value when
// scale is nil.
func newValueCheck(scale *engine.Scale) *valueCheck {
	if scale != nil && *scale == engine.MovieLensScale {
		return movieLensCheck
	}
	return buildValueCheck(scale)
}

func buildValueCheck(scale *engine.Scale) *valueCheck {
	c := &valueCheck{declared: scale != nil}
	if scale != nil {
		c.scale = *scale
	}
	for t := range c.fast {
		v, ok := c.snap(float64(t) / 10) // the float64 nearest to "d.t", as ParseDecimal reads it
		if !ok {
			v = float32(math.NaN())
		}
		c.fast[t] = v
	}
	return c
}

// snap returns v as stored, if valid.
func (c *valueCheck) snap(v float64) (float32, bool) {
	if c.declared {
		return c.scale.Snap(v)
	}
	return engine.Unbounded.Snap(v)
}

// value parses a rating field. It allocates nothing unless b is invalid.
func (c *valueCheck) value(b []byte) (float32, error) {
	if v, i := fastValue(b, 0, c); i == len(b) && i > 0 {
		return v, nil
	}
	v, ok := engine.ParseDecimal(b)
	v32, valid := c.snap(v)
	if !ok || !valid {
		return 0, c.error(b, ok)
	}
	return v32, nil
}

// error describes a rating that is not a number or not on the scale.
func (c *valueCheck) error(b []byte, isNumber bool) error {
	switch {
	case !isNumber:
		return fmt.Errorf("rating %q is not a number", b)
	case !c.declared:
		return fmt.Errorf("rating %q is out of the range of a float32", b)
	}
	return fmt.Errorf("rating %q is not on the scale %v (allowed: %s)", b, c.scale, c.scale.Allowed())
}

// parseRatingFields converts the four fields of a ratings row. It allocates
// nothing unless the row is malformed.
func parseRatingFields(user, movie, rating, ts []byte, vc *valueCheck) (engine.Rating, error) {
	u, st := parseUint(user, math.MaxInt32)
	if st != numOK {
		return engine.Rating{}, idError("user id", user, st, 0)
	}
	m, st := parseUint(movie, math.MaxInt32)
	if st != numOK {
		return engine.Rating{}, idError("movie id", movie, st, 0)
	}
	v, err := vc.value(rating)
	if err != nil {
		return engine.Rating{}, err
	}
	var t uint64
	if ts != nil {
		if t, st = parseUint(ts, math.MaxInt64); st != numOK {
			return engine.Rating{}, idError("timestamp", ts, st, 0)
		}
	}
	return engine.Rating{User: int32(u), Movie: int32(m), Value: v, Time: int64(t)}, nil
}

// idError describes a bad integer field whose valid range starts at lo.
func idError(what string, b []byte, st numStatus, lo int) error {
	hi := uint64(math.MaxInt32)
	if what == "timestamp" {
		hi = math.MaxInt64
	}
	if st == numSyntax && len(b) > 1 && b[0] == '-' {
		if _, s := parseUint(b[1:], math.MaxUint64); s != numSyntax {
			st = numRange // a negative number: say so rather than "not a number"
		}
	}
	if st == numSyntax {
		return fmt.Errorf("%s %q is not a number", what, b)
	}
	return fmt.Errorf("%s %q is out of range (want %d to %d)", what, b, lo, hi)
}

// fieldCountError describes a row with n fields where want are needed, or
// an empty line.
func fieldCountError(empty bool, n, want int) error {
	if empty {
		return fmt.Errorf("empty line")
	}
	return fmt.Errorf("got %d %s, want %d", n, plural(n, "field"), want)
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// countFields returns the number of sep-separated fields in line.
func countFields(line, sep []byte) int { return bytes.Count(line, sep) + 1 }

// parseMovieID parses a movie id field: 0 to MaxInt32.
func parseMovieID(b []byte) (int32, error) {
	m, st := parseUint(b, math.MaxInt32)
	if st != numOK {
		return 0, idError("movie id", b, st, 0)
	}
	return int32(m), nil
}

// movieSet records the movie ids of a movies file and the line of each, to
// reject duplicates.
type movieSet map[int32]int

// add records id at line, or returns an error if it was seen before.
func (s movieSet) add(id int32, line int) error {
	if first, ok := s[id]; ok {
		return fmt.Errorf("duplicate movie id %d (first on line %d)", id, first)
	}
	s[id] = line
	return nil
}

// genreInterner shares one string per distinct genre name.
type genreInterner map[string]string

// split splits a '|'-separated genre list into interned names. An empty list
// and "(no genres listed)" give nil. An empty name is an error.
func (g genreInterner) split(b []byte) ([]string, error) {
	if len(b) == 0 || string(b) == "(no genres listed)" {
		return nil, nil
	}
	out := make([]string, 0, bytes.Count(b, []byte("|"))+1)
	for part := range bytes.SplitSeq(b, []byte("|")) {
		if len(part) == 0 {
			return nil, fmt.Errorf("genres %q contain an empty name", b)
		}
		out = append(out, g.intern(part))
	}
	return out, nil
}

func (g genreInterner) intern(b []byte) string {
	if s, ok := g[string(b)]; ok {
		return s
	}
	s := string(b)
	g[s] = s
	return s
}

// quoteList formats names as a comma-separated list for error messages.
func quoteList(names [][]byte) string {
	var b []byte
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, n...)
	}
	return strconv.Quote(string(b))
}
