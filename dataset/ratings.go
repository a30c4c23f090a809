package dataset

import (
	"bytes"
	"io"
	"io/fs"
	"math"
	"runtime"
	"slices"
	"sync"

	"movierec/engine"
)

// ratingsFormat describes one ratings file format.
type ratingsFormat struct {
	sep    []byte   // field separator
	header []string // required header fields, or nil for none
	quotes bool     // RFC 4180 quoting may occur (CSV)
	slow   bool     // tests only: parse every row with parseRatingLine
	quoted bool     // tests only: parse every row with the quote-aware parser
	// cols places the fields of the plain layout's rows; nil means exactly
	// user, movie, rating and timestamp in that order (MovieLens).
	cols *columns
	skip bool // the first record is a header, skipped unchecked (plain layout)
	// netflix marks the Netflix Prize layout: a "MovieID:" line, then
	// that movie's "CustomerID,Rating,YYYY-MM-DD" rows.
	netflix bool
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
// 2147483647, a movie id outside 0 to 2147483647, a rating that is not a
// decimal number on [engine.MovieLensScale], a timestamp that is not a
// non-negative integer. Empty lines are errors except at the end of the
// input. An I/O error from r is returned as is, unless a malformed row was
// found before it.
//
// The ratings are returned in file order; duplicates are kept. ReadRatingsCSV
// reads r in large blocks and parses them in parallel (see the package
// documentation). The result is a new slice owned by the caller; its
// capacity may exceed its length by a few percent.
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
	out, _, err := streamRatings(r, nil, newParser(name, f, movieLensCheck), blockSize)
	if re, ok := err.(*readError); ok {
		return nil, re.err
	}
	return out, err
}

// blockSize is the size of the blocks the ratings readers read their input
// in. Two blocks are alive at a time: one being parsed, one being read.
const blockSize = 16 << 20

// readError wraps an I/O error of the input, to tell it from a *ParseError.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// parseRatings parses a whole ratings file held in memory with up to workers
// goroutines (0: GOMAXPROCS, at least minChunk bytes each). It also returns
// the line number of the first row after any header: an accepted row never
// spans lines, so row i is on line first+i.
func parseRatings(data []byte, name string, f *ratingsFormat, workers int) ([]engine.Rating, int, error) {
	p := newParser(name, f, movieLensCheck)
	p.workers = workers
	return streamRatings(nil, data, p, blockSize)
}

// newParser returns a parser of one input named name, with values checked
// by vc.
func newParser(name string, f *ratingsFormat, vc *valueCheck) *ratingsParser {
	return &ratingsParser{name: name, f: f, vc: vc, movie: -1}
}

// streamRatings parses a ratings file: data if r is nil, else everything r
// yields, read in blocks of about bsize bytes. Each block is cut after its
// last complete line that is not followed only by line ends (those may turn
// out to be the file's trailing empty lines); its rows are parsed in
// parallel straight into one growing result while the next block is read,
// and the rest of the block is carried over to the next one. A row longer
// than a block, or a quoted record that spans blocks, makes the block grow.
// It returns the line number of the first row, as parseRatings does, and a
// *readError for an I/O error of r. The rows are appended to p.out; p
// (from newParser, its options set) must not be used again.
func streamRatings(r io.Reader, data []byte, p *ratingsParser, bsize int) ([]engine.Rating, int, error) {
	name, f := p.name, p.f
	p.line, p.size = 1, -1
	b := blockReader{r: r, data: data, eof: r == nil}
	if r != nil {
		off, n, ok := inputSize(r)
		if ok {
			p.size = n
			bsize = int(min(int64(bsize), n+1)) // n+1: EOF shows without a second buffer
		}
		b.size = max(bsize, 4)
		if ok && n > int64(b.size) {
			b.spare = make([]byte, b.size) // needed anyway; scratch for now
			p.sampled = sampleLineLength(r, off, n, b.spare)
		}
		if err := b.advance(nil); err != nil {
			return nil, 0, err
		}
	}

	// The byte order mark and the header: both need the start of the
	// input, the header its first complete record.
	for !b.eof && len(b.data) < len(utf8BOM) {
		if err := b.advance(b.data); err != nil {
			return nil, 0, err
		}
	}
	b.data = stripBOM(b.data)
	if f.header != nil || f.skip {
		cr := &p.cr
		cr.comma = f.comma()
		for !b.eof {
			cr.data = b.data
			ok, err := cr.next()
			n := len(b.data) - len(cr.data)
			if (err != nil && err != errUnterminated) || (ok && b.data[n-1] == '\n') {
				break // the first record is complete, or an error anyway
			}
			if err := b.advance(b.data); err != nil {
				return nil, 0, err
			}
		}
		cr.data, cr.line = b.data, 1
		if f.skip {
			if _, err := cr.next(); err != nil {
				return nil, 0, &ParseError{File: name, Line: 1, Err: err}
			}
		} else if err := cr.checkHeader(f.header...); err != nil {
			return nil, 0, &ParseError{File: name, Line: 1, Err: err}
		}
		b.data, p.line = cr.data, cr.line
	}
	first := p.line

	for {
		region := b.data
		if b.eof {
			region = trimTrailingLines(region)
		} else {
			region = region[:completeLines(region)]
		}
		if p.size >= 0 {
			p.rest = p.size - b.read + int64(len(b.data)-len(region))
		}
		switch {
		case b.eof:
			if _, err := p.process(region, true); err != nil {
				return nil, 0, err
			}
			if p.out == nil {
				p.out = []engine.Rating{}
			}
			return p.out, first, nil
		case len(region) > 0 && (!f.quotes || bytes.IndexByte(region, '"') < 0):
			// The common case: parse region while reading the next block.
			done := make(chan error, 1)
			go func() { done <- p.fast(region) }()
			rerr := b.advance(b.data[len(region):])
			if err := <-done; rerr == nil && err != nil {
				return nil, 0, err
			}
			if rerr != nil {
				return nil, 0, rerr
			}
		default:
			n, err := p.process(region, false)
			if err != nil {
				return nil, 0, err
			}
			if err := b.advance(b.data[n:]); err != nil {
				return nil, 0, err
			}
		}
	}
}

// completeLines returns the length of the prefix of b, which is not the
// end of the input, that can be parsed now: b up to the line end before the
// last line that holds more than line ends. That line may be the last of the
// input, and the line ends after it its trailing empty lines, so they wait
// for the next block.
func completeLines(b []byte) int {
	j := len(b) - 1
	for j >= 0 && (b[j] == '\n' || b[j] == '\r') {
		j--
	}
	if j < 0 {
		return 0
	}
	return bytes.LastIndexByte(b[:j], '\n') + 1
}

// inputSize returns the offset of r in its input and the number of bytes
// left, when r tells them: a bytes.Reader, strings.Reader or bytes.Buffer,
// or a regular file.
func inputSize(r io.Reader) (off, n int64, ok bool) {
	if s, ok := r.(io.Seeker); ok {
		if o, err := s.Seek(0, io.SeekCurrent); err == nil {
			off = o
		}
	}
	switch v := r.(type) {
	case interface{ Len() int }:
		return off, int64(v.Len()), true
	case interface{ Stat() (fs.FileInfo, error) }:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, 0, false
		}
		return off, max(fi.Size()-off, 0), true
	}
	return 0, 0, false
}

// blockReader reads an input in blocks into two buffers that take turns:
// one holds the block being parsed while the next is read into the other.
type blockReader struct {
	r          io.Reader
	size       int    // block size
	buf, spare []byte // the buffer data is in, and the other one
	data       []byte // input read and not yet consumed, a slice of buf
	read       int64  // bytes read from r so far
	eof        bool   // data holds all of the rest of the input
}

// advance makes data keep, which it copies to the start of the spare buffer,
// followed by as much of the input as fits, then swaps the buffers. The spare
// buffer grows to at least twice len(keep), so that each call reads a fair
// amount. It returns a *readError for an I/O error of r.
func (b *blockReader) advance(keep []byte) error {
	if len(b.spare) < max(b.size, 2*len(keep)) {
		b.spare = make([]byte, max(b.size, 2*len(keep)))
	}
	n := copy(b.spare, keep)
	m, err := io.ReadFull(b.r, b.spare[n:])
	b.read += int64(m)
	b.buf, b.spare = b.spare, b.buf
	b.data = b.buf[:n+m]
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		b.eof = true
	default:
		return &readError{err}
	}
	return nil
}

// ratingsParser parses the rows of a ratings file, region by region, into
// one result.
type ratingsParser struct {
	name    string
	f       *ratingsFormat
	vc      *valueCheck
	known   *idSet  // Netflix: the movies of movie_titles.csv, or nil for any
	movie   int64   // Netflix: the movie of the rows that follow, -1 before the first "MovieID:" line
	extra   int64   // bytes of the inputs still to be parsed after this one into out, for reserve
	workers int     // goroutines per region, 0 for GOMAXPROCS (and minChunk)
	line    int     // line number of the next row
	size    int64   // bytes in the input, -1 if unknown
	rest    int64   // bytes of the input after the region being parsed
	rows    int64   // rows parsed or being parsed
	bytes   int64   // bytes of the regions parsed or being parsed
	sampled float64 // bytes per line from samples of the input, or 0
	out     []engine.Rating
	cr      csvReader // for quoted records
	// scratch, per chunk of a region
	counts, offsets []int
	lines, lineOffs []int   // lines per chunk and before it (Netflix: rows plus movie lines)
	movies          []int64 // Netflix: the movie of the last "MovieID:" line of each chunk, or -1
	errs            []error
}

// process parses region, which holds complete lines, or if final the rest of
// the input less its trailing line ends. It returns how many bytes of region
// it consumed: less than all only when a quoted record goes on past region.
//
// The lines before the line of the first double quote are plain rows, and
// parsed in parallel; from that line on the quote-aware parser reads the
// rest of the region, one record after the other.
func (p *ratingsParser) process(region []byte, final bool) (int, error) {
	k := len(region)
	if p.f.quoted {
		k = 0
	} else if p.f.quotes {
		if q := bytes.IndexByte(region, '"'); q >= 0 {
			k = bytes.LastIndexByte(region[:q], '\n') + 1
		}
	}
	if err := p.fast(region[:k]); err != nil || k == len(region) {
		return k, err
	}
	n, err := p.quoted(region[k:], final)
	return k + n, err
}

// fast parses region, made of complete unquoted lines (the last may lack
// its line end when region is the end of the input), with up to p.workers
// goroutines, each parsing its chunk straight into its place in p.out.
func (p *ratingsParser) fast(region []byte) error {
	if len(region) == 0 {
		return nil
	}
	workers := p.workers
	if workers <= 0 {
		workers = min(runtime.GOMAXPROCS(0), max(1, len(region)/minChunk))
	}
	chunks := splitChunks(region, workers)

	// Count the rows of each chunk (every line is a row: empty lines
	// inside region are errors), so that each chunk can be parsed straight
	// into its place and knows its first line number.
	p.counts = grow(p.counts, len(chunks))
	p.offsets = grow(p.offsets, len(chunks)+1)
	p.errs = grow(p.errs, len(chunks))
	counts, offsets, errs := p.counts, p.offsets, p.errs
	// Rows are lines but in the Netflix layout, whose movie lines are not.
	lines, lineOffs, movies := counts, offsets, []int64(nil)
	netflix := p.f.netflix
	if netflix {
		p.lines = grow(p.lines, len(chunks))
		p.lineOffs = grow(p.lineOffs, len(chunks)+1)
		p.movies = grow(p.movies, len(chunks)+1)
		lines, lineOffs, movies = p.lines, p.lineOffs, p.movies
	}
	parallel(len(chunks), func(i int) {
		c := chunks[i]
		lines[i] = bytes.Count(c, []byte("\n"))
		if c[len(c)-1] != '\n' {
			lines[i]++
		}
		counts[i] = lines[i]
		if netflix {
			// Only "MovieID:" lines hold a colon: rows are the other
			// lines. (A row with one is reported as a malformed movie
			// line.)
			counts[i] -= colonLines(c)
			movies[i+1] = lastMovie(c)
		}
		errs[i] = nil
	})
	offsets[0], lineOffs[0] = 0, 0
	for i, n := range counts {
		offsets[i+1] = offsets[i] + max(n, 0)
		if netflix {
			lineOffs[i+1] = lineOffs[i] + lines[i]
		}
	}
	if netflix {
		movies[0] = p.movie
		for i := range chunks {
			if movies[i+1] < 0 {
				movies[i+1] = movies[i]
			}
		}
	}
	rows := offsets[len(chunks)]
	p.reserve(rows, len(region))
	base := len(p.out)
	out := p.out[:base+rows]
	f, line := p.f, p.line
	parallel(len(chunks), func(i int) {
		dst := out[base+offsets[i] : base+offsets[i+1]]
		var n int
		var err error
		if netflix {
			n, err = parseNetflixChunk(dst, chunks[i], movies[i], p.vc, p.known)
		} else {
			n, err = parseRatingChunk(dst, chunks[i], f, p.vc)
		}
		if err != nil {
			errs[i] = &ParseError{File: p.name, Line: line + lineOffs[i] + n, Err: err}
		}
	})
	for _, err := range errs {
		if err != nil { // the first chunk's error is the first in the region
			return err
		}
	}
	p.out = out
	p.line += lineOffs[len(chunks)]
	if netflix {
		p.movie = movies[len(chunks)]
	}
	return nil
}

// grow returns s resliced or reallocated to length n.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// reserve makes room in p.out for rows more rows, read from n bytes. When
// the size of the input is known, it makes room for all rows at once: the
// rows so far, plus the rest of the input at the bytes per row seen so far,
// plus 1/32 for lines that grow longer. Otherwise it grows p.out as append
// would.
func (p *ratingsParser) reserve(rows, n int) {
	p.rows += int64(rows)
	p.bytes += int64(n)
	need := len(p.out) + rows
	if need <= cap(p.out) {
		return
	}
	if p.size < 0 || p.rows == 0 {
		p.out = slices.Grow(p.out, rows)
		return
	}
	perRow := p.sampled
	if perRow == 0 || cap(p.out) > 0 {
		perRow = float64(p.bytes) / float64(p.rows)
	}
	est := float64(p.rest+p.extra) / perRow
	c := need + int(est+est/32) + 16
	if cap(p.out) > 0 { // the estimate was short: grow at least 1/8
		c = max(c, cap(p.out)+cap(p.out)/8)
	}
	out := make([]engine.Rating, len(p.out), c)
	copy(out, p.out)
	p.out = out
}

// sampleLineLength estimates the bytes per line of the size bytes of r that
// follow offset off, from 16 samples of 64 KiB spread over them, when r can
// read at offsets and the input is larger than 2 MiB. It returns 0 if not.
// The first block alone may mislead: in a file sorted by user, the user ids
// get longer towards the end. buf is scratch space.
func sampleLineLength(r io.Reader, off, size int64, buf []byte) float64 {
	const samples, sample = 16, 64 << 10
	ra, ok := r.(io.ReaderAt)
	if !ok || size < 2*samples*sample || len(buf) < sample {
		return 0
	}
	var n, lines int
	for i := range int64(samples) {
		m, err := ra.ReadAt(buf[:sample], off+i*(size-sample)/(samples-1))
		if err != nil && err != io.EOF {
			return 0
		}
		n += m
		lines += bytes.Count(buf[:m], []byte("\n"))
	}
	if lines == 0 {
		return 0
	}
	return float64(n) / float64(lines)
}

// quoted parses the records of region with the quote-aware CSV parser. It
// returns the bytes consumed: all of region but a last record whose quoted
// field is not closed within it, unless final.
func (p *ratingsParser) quoted(region []byte, final bool) (int, error) {
	p.reserve(bytes.Count(region, []byte("\n"))+1, len(region))
	cr := &p.cr
	cr.data, cr.line, cr.comma = region, p.line, p.f.comma()
	for {
		rest, line := cr.data, cr.line
		ok, err := cr.next()
		if err == errUnterminated && !final {
			p.line = line
			return len(region) - len(rest), nil
		}
		if err != nil {
			return 0, &ParseError{File: p.name, Line: cr.recLine, Err: err}
		}
		if !ok {
			p.line = cr.line
			return len(region), nil
		}
		r, err := p.f.record(cr.fields, cr.isEmptyLine(), p.vc)
		if err != nil {
			return 0, &ParseError{File: p.name, Line: cr.recLine, Err: err}
		}
		p.out = append(p.out, r)
	}
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
// left to parseRatingLine, which defines what is valid (f.slow: always).
// Rows of the plain layout take fastPlain when the separator is one byte.
func parseRatingChunk(dst []engine.Rating, chunk []byte, f *ratingsFormat, vc *valueCheck) (int, error) {
	sep, fast := f.sep, !f.slow && f.cols == nil
	plain := !f.slow && f.cols != nil && len(sep) == 1
	for i := range dst {
		r, n := engine.Rating{}, 0
		switch {
		case fast:
			r, n = fastRating(chunk, sep, vc)
		case plain:
			r, n = fastPlain(chunk, f.cols, sep[0], vc)
		}
		if n > 0 {
			chunk = chunk[n:]
		} else {
			var line []byte
			var err error
			line, chunk = nextLine(chunk)
			if r, err = parseRatingLine(line, f, vc); err != nil {
				return i, err
			}
		}
		dst[i] = r
	}
	return len(dst), nil
}

// fastRating parses the row at the start of b when it has the usual shape:
// user id and movie id of at most 10 digits, a rating "D" or "D.D" valid
// for vc, a timestamp of 1 to 18 digits, then "\n", "\r\n" or the end of b.
// It returns the rating and the bytes taken, line end included, or n == 0
// for any other row: parseRatingLine decides those. Every row it accepts,
// parseRatingLine accepts with the same result.
func fastRating(b, sep []byte, vc *valueCheck) (r engine.Rating, n int) {
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
	if i == s || m > math.MaxInt32 || !atSep(b, i, sep) {
		return r, 0
	}
	i += len(sep)
	v, i := fastValue(b, i, vc)
	if i == 0 || !atSep(b, i, sep) {
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
	return engine.Rating{User: int32(u), Movie: int32(m), Value: v, Time: int64(t)}, n
}

// fastValue reads a rating "D" or "D.D" at b[i:] through vc's lookup. It
// returns the value and the index after it, or i == 0 for anything else
// (other syntax, or a value vc refuses: the slow path names the problem).
func fastValue(b []byte, i int, vc *valueCheck) (float32, int) {
	if i >= len(b) || b[i]-'0' > 9 {
		return 0, 0
	}
	t := int(b[i]-'0') * 10
	i++
	if i+1 < len(b) && b[i] == '.' {
		d := b[i+1] - '0'
		if d > 9 {
			return 0, 0
		}
		t += int(d)
		i += 2
	}
	v := vc.fast[t]
	if v != v { // NaN: not valid
		return 0, 0
	}
	return v, i
}

// atSep reports whether sep occurs in b at i.
func atSep(b []byte, i int, sep []byte) bool {
	if len(sep) == 1 {
		return i < len(b) && b[i] == sep[0]
	}
	return i+len(sep) <= len(b) && string(b[i:i+len(sep)]) == string(sep)
}

// parseRatingLine parses one unquoted ratings row.
func parseRatingLine(line []byte, f *ratingsFormat, vc *valueCheck) (engine.Rating, error) {
	if f.cols != nil {
		return f.cols.parseLine(line, f.sep, vc)
	}
	sep := f.sep
	user, rest, ok0 := cut(line, sep)
	movie, rest, ok1 := cut(rest, sep)
	rating, ts, ok2 := cut(rest, sep)
	if !ok0 || !ok1 || !ok2 {
		return engine.Rating{}, fieldCountError(len(line) == 0, countFields(line, sep), 4)
	}
	r, err := parseRatingFields(user, movie, rating, ts, vc)
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
