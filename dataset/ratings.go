package dataset

import (
	"bytes"
	"io"
	"math"
	"runtime"
	"sync"

	"movierec/engine"
)

// ratingsFormat describes one ratings file format.
type ratingsFormat struct {
	sep    []byte   // field separator
	header []string // required header fields, or nil for none
	quotes bool     // RFC 4180 quoting may occur (CSV)
	slow   bool     // tests only: parse every row with parseRatingLine
}

// The ratings formats. They are never modified.
var (
	csvRatings   = ratingsFormat{sep: []byte(","), header: []string{"userId", "movieId", "rating", "timestamp"}, quotes: true}
	datRatings   = ratingsFormat{sep: []byte("::")}
	uDataRatings = ratingsFormat{sep: []byte("\t")}
)

// minChunk is the smallest input, in bytes, worth handing to one more
// goroutine.
const minChunk = 256 << 10

// ReadRatingsCSV reads a ratings.csv file of the ml-latest layout: a header
// row "userId,movieId,rating,timestamp", then one rating per row. name is
// the file name used in errors.
//
// The input is RFC 4180 CSV in UTF-8, with LF or CRLF line ends and an
// optional byte order mark; fields may be quoted. A malformed row is a
// *ParseError naming the line: wrong field count, a user id outside 0 to
// 2147483647, a movie id outside 1 to 2147483647, a rating that is not a
// decimal number on [engine.MovieLensScale], a timestamp that is not a
// non-negative integer. Empty lines are errors except at the end of the
// input. An I/O error from r is returned as is.
//
// The ratings are returned in file order; duplicates are kept. ReadRatingsCSV
// reads all of r into memory and parses it in parallel (see the package
// documentation). The result is a new slice owned by the caller.
func ReadRatingsCSV(r io.Reader, name string) ([]engine.Rating, error) {
	return readRatings(r, name, &csvRatings)
}

// ReadRatingsDat reads a ratings.dat file of ml-1m or ml-10m: one rating per
// line as UserID::MovieID::Rating::Timestamp, no header. Rules, errors and
// result are those of [ReadRatingsCSV], without the quoting.
func ReadRatingsDat(r io.Reader, name string) ([]engine.Rating, error) {
	return readRatings(r, name, &datRatings)
}

// ReadUData reads the u.data file of ml-100k: one rating per line as
// user, item, rating and timestamp separated by tabs, no header. Rules,
// errors and result are those of [ReadRatingsCSV], without the quoting.
func ReadUData(r io.Reader, name string) ([]engine.Rating, error) {
	return readRatings(r, name, &uDataRatings)
}

func readRatings(r io.Reader, name string, f *ratingsFormat) ([]engine.Rating, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	out, _, err := parseRatings(data, name, f, 0)
	return out, err
}

// parseRatings parses a whole ratings file with up to workers goroutines
// (0: GOMAXPROCS, at least minChunk bytes each). It also returns the line
// number of the first row after any header: an accepted row never spans
// lines, so row i is on line first+i.
func parseRatings(data []byte, name string, f *ratingsFormat, workers int) ([]engine.Rating, int, error) {
	data = stripBOM(data)
	first := 1
	if f.header != nil {
		cr := csvReader{data: data, line: 1}
		if err := cr.checkHeader(f.header...); err != nil {
			return nil, 0, &ParseError{File: name, Line: 1, Err: err}
		}
		data, first = cr.data, cr.line
	}
	body := trimTrailingLines(data)
	if len(body) == 0 {
		return []engine.Rating{}, first, nil
	}
	if f.quotes && bytes.IndexByte(body, '"') >= 0 {
		out, err := parseRatingsQuoted(body, name, first)
		return out, first, err
	}
	if workers <= 0 {
		workers = min(runtime.GOMAXPROCS(0), max(1, len(body)/minChunk))
	}
	chunks := splitChunks(body, workers)

	// Count the rows of each chunk (every line is a row: empty lines
	// inside body are errors), so that each chunk can be parsed straight
	// into its place in one result slice and knows its first line number.
	counts := make([]int, len(chunks))
	parallel(len(chunks), func(i int) {
		counts[i] = bytes.Count(chunks[i], []byte("\n"))
		if c := chunks[i]; c[len(c)-1] != '\n' {
			counts[i]++
		}
	})
	offsets := make([]int, len(chunks)+1)
	for i, n := range counts {
		offsets[i+1] = offsets[i] + n
	}
	out := make([]engine.Rating, offsets[len(chunks)])
	errs := make([]error, len(chunks))
	parallel(len(chunks), func(i int) {
		dst := out[offsets[i]:offsets[i+1]]
		if n, err := parseRatingChunk(dst, chunks[i], f.sep, f.slow); err != nil {
			errs[i] = &ParseError{File: name, Line: first + offsets[i] + n, Err: err}
		}
	})
	for _, err := range errs {
		if err != nil { // the first chunk's error is the first in the file
			return nil, first, err
		}
	}
	return out, first, nil
}

// splitChunks cuts body into at most n pieces of similar size, each ending
// just after a '\n' except the last.
func splitChunks(body []byte, n int) [][]byte {
	chunks := make([][]byte, 0, n)
	start := 0
	for i := 1; i < n && start < len(body); i++ {
		target := max(start, i*len(body)/n)
		j := bytes.IndexByte(body[target:], '\n')
		if j < 0 {
			break
		}
		end := target + j + 1
		chunks = append(chunks, body[start:end])
		start = end
	}
	if start < len(body) {
		chunks = append(chunks, body[start:])
	}
	return chunks
}

// parallel runs fn(0), …, fn(n-1) concurrently and waits for them.
func parallel(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

// parseRatingChunk parses exactly len(dst) lines of chunk into dst. On a
// malformed line it returns that line's 0-based index within the chunk and
// the reason. It allocates nothing unless a line is malformed.
//
// Rows of the usual shape take fastRating; any other row, valid or not, is
// left to parseRatingLine, which defines what is valid (slow: always).
func parseRatingChunk(dst []engine.Rating, chunk, sep []byte, slow bool) (int, error) {
	for i := range dst {
		r, n := engine.Rating{}, 0
		if !slow {
			r, n = fastRating(chunk, sep)
		}
		if n > 0 {
			chunk = chunk[n:]
		} else {
			var line []byte
			var err error
			line, chunk = nextLine(chunk)
			if r, err = parseRatingLine(line, sep); err != nil {
				return i, err
			}
		}
		dst[i] = r
	}
	return len(dst), nil
}

// fastRating parses the row at the start of b when it has the usual shape:
// user id and movie id of at most 10 digits, a rating "D" or "D.D" on the
// scale, a timestamp of 1 to 18 digits, then "\n", "\r\n" or the end of b.
// It returns the rating and the bytes taken, line end included, or n == 0
// for any other row: parseRatingLine decides those. Every row it accepts,
// parseRatingLine accepts with the same result.
func fastRating(b, sep []byte) (r engine.Rating, n int) {
	i := 0
	var u uint64
	for ; i < len(b) && i < 10; i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		u = u*10 + uint64(d)
	}
	if i == 0 || u > math.MaxInt32 || !atSep(b, i, sep) {
		return r, 0
	}
	i += len(sep)
	s := i
	var m uint64
	for ; i < len(b) && i-s < 10; i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		m = m*10 + uint64(d)
	}
	if i == s || m == 0 || m > math.MaxInt32 || !atSep(b, i, sep) {
		return r, 0
	}
	i += len(sep)
	if i >= len(b) || b[i]-'0' > 9 {
		return r, 0
	}
	tenths := uint64(b[i]-'0') * 10
	i++
	if i+1 < len(b) && b[i] == '.' {
		d := b[i+1] - '0'
		if d > 9 {
			return r, 0
		}
		tenths += uint64(d)
		i += 2
	}
	if tenths < 5 || tenths > 50 || tenths%5 != 0 || !atSep(b, i, sep) {
		return r, 0
	}
	i += len(sep)
	s = i
	var t uint64
	for ; i < len(b) && i-s < 18; i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		t = t*10 + uint64(d)
	}
	switch {
	case i == s:
		return r, 0
	case i == len(b):
		n = i
	case b[i] == '\n':
		n = i + 1
	case b[i] == '\r' && i+1 == len(b):
		n = i + 1
	case b[i] == '\r' && b[i+1] == '\n':
		n = i + 2
	default:
		return r, 0
	}
	return engine.Rating{User: int32(u), Movie: int32(m), Value: float32(tenths/5) * 0.5, Time: int64(t)}, n
}

// atSep reports whether sep occurs in b at i.
func atSep(b []byte, i int, sep []byte) bool {
	if len(sep) == 1 {
		return i < len(b) && b[i] == sep[0]
	}
	return i+len(sep) <= len(b) && string(b[i:i+len(sep)]) == string(sep)
}

// parseRatingLine parses one unquoted ratings row.
func parseRatingLine(line, sep []byte) (engine.Rating, error) {
	user, rest, ok0 := cut(line, sep)
	movie, rest, ok1 := cut(rest, sep)
	rating, ts, ok2 := cut(rest, sep)
	if !ok0 || !ok1 || !ok2 {
		return engine.Rating{}, fieldCountError(len(line) == 0, countFields(line, sep), 4)
	}
	r, err := parseRatingFields(user, movie, rating, ts)
	if err != nil {
		if n := countFields(line, sep); n != 4 {
			return engine.Rating{}, fieldCountError(false, n, 4)
		}
	}
	return r, err
}

// cut is bytes.Cut with a fast path for a one-byte separator.
func cut(s, sep []byte) (before, after []byte, found bool) {
	var i int
	if len(sep) == 1 {
		i = bytes.IndexByte(s, sep[0])
	} else {
		i = bytes.Index(s, sep)
	}
	if i < 0 {
		return s, nil, false
	}
	return s[:i], s[i+len(sep):], true
}

// parseRatingsQuoted parses the rows of a ratings.csv that contains quotes,
// sequentially, starting at line first.
func parseRatingsQuoted(body []byte, name string, first int) ([]engine.Rating, error) {
	out := make([]engine.Rating, 0, bytes.Count(body, []byte("\n"))+1)
	cr := csvReader{data: body, line: first}
	for {
		ok, err := cr.next()
		if err != nil {
			return nil, &ParseError{File: name, Line: cr.recLine, Err: err}
		}
		if !ok {
			return out, nil
		}
		if len(cr.fields) != 4 {
			err := fieldCountError(cr.isEmptyLine(), len(cr.fields), 4)
			return nil, &ParseError{File: name, Line: cr.recLine, Err: err}
		}
		r, err := parseRatingFields(cr.fields[0], cr.fields[1], cr.fields[2], cr.fields[3])
		if err != nil {
			return nil, &ParseError{File: name, Line: cr.recLine, Err: err}
		}
		out = append(out, r)
	}
}
