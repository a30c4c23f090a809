package dataset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"movierec/engine"
)

// PlainFormat describes a plain delimited ratings file (the "plain"
// layout): one rating per line, fields separated by Sep, a user id, a movie
// id and a rating in any order, an optional timestamp (Unix seconds), and
// any other columns, which are ignored. Its zero value detects everything
// from the first line (see [ReadRatingsPlain]).
type PlainFormat struct {
	// Columns names the columns of each line in order, separated by
	// commas: user, movie, rating and optionally timestamp, any other name
	// for a column to ignore ("user,movie,rating,timestamp",
	// "movie,user,-,rating"). Names are case-insensitive and take the
	// usual synonyms (userId, customer, movieId, item, score, time, ...).
	// Empty: from the header row when there is one, else user, movie,
	// rating and (when the first line has a fourth field) timestamp.
	Columns string
	// Sep is the field separator: ",", "\t", "::", "|" or ";" (or the
	// names comma, tab, pipe, semicolon). Empty: the first of "::", tab,
	// "|", ";" and "," that occurs in the first line.
	Sep string
	// Header is "yes" (the first line is a header row, skipped), "no", or
	// empty for auto: a header when the first line's first field holds an
	// ASCII letter.
	Header string
}

// The separators the plain layout takes, by name.
var plainSeps = map[string]string{",": ",", "comma": ",", "\t": "\t", "tab": "\t", `\t`: "\t", "::": "::",
	"|": "|", "pipe": "|", ";": ";", "semicolon": ";"}

// columnNames maps the names a Columns spec or a header may use to the
// field they stand for.
var columnNames = map[string]string{
	"user": "user", "userid": "user", "user_id": "user", "customer": "user", "customerid": "user", "customer_id": "user",
	"movie": "movie", "movieid": "movie", "movie_id": "movie", "item": "movie", "itemid": "movie", "item_id": "movie",
	"rating": "rating", "score": "rating", "value": "rating",
	"timestamp": "timestamp", "time": "timestamp", "ts": "timestamp",
}

// columns places the fields of a plain ratings row.
type columns struct {
	user, movie, rating, ts int // field indices; ts is -1 when there is none
	n                       int // fields a row needs at least
}

// parseColumns reads a list of column names.
func parseColumns(names []string) (*columns, error) {
	c := &columns{user: -1, movie: -1, rating: -1, ts: -1}
	for i, name := range names {
		f := columnNames[strings.ToLower(strings.TrimSpace(name))]
		var dst *int
		switch f {
		case "user":
			dst = &c.user
		case "movie":
			dst = &c.movie
		case "rating":
			dst = &c.rating
		case "timestamp":
			dst = &c.ts
		default:
			continue
		}
		if *dst >= 0 {
			return nil, fmt.Errorf("columns %q name the %s twice", strings.Join(names, ","), f)
		}
		*dst = i
		c.n = i + 1
	}
	if c.user < 0 || c.movie < 0 || c.rating < 0 {
		return nil, fmt.Errorf("columns %q must name user, movie and rating (timestamp is optional)", strings.Join(names, ","))
	}
	return c, nil
}

// parseLine parses one unquoted row. It allocates nothing unless the row is
// malformed.
func (c *columns) parseLine(line, sep []byte, vc *valueCheck) (engine.Rating, error) {
	var user, movie, rating, ts []byte
	i, rest := 0, line
	for ; i < c.n; i++ {
		field, r, ok := cut(rest, sep)
		switch i {
		case c.user:
			user = field
		case c.movie:
			movie = field
		case c.rating:
			rating = field
		case c.ts:
			ts = field
		}
		if !ok {
			i++
			break
		}
		rest = r
	}
	if i < c.n {
		return engine.Rating{}, fieldCountError(len(line) == 0, i, c.n)
	}
	return parseRatingFields(user, movie, rating, ts, vc)
}

// fastPlain parses the plain-layout row at the start of b when the fields
// it uses have the usual shape: ids of at most 10 digits, a rating "D" or
// "D.D" valid for vc, a timestamp of 1 to 18 digits, each followed by the
// separator or, for the last field used, the line end; the fields it
// ignores are skipped. It returns the rating and the bytes taken, line end
// included, or n == 0 for any other row: parseRatingLine decides those,
// with the same result for every row fastPlain accepts. It allocates
// nothing.
func fastPlain(b []byte, c *columns, sep byte, vc *valueCheck) (r engine.Rating, n int) {
	i := 0
	for f := 0; ; f++ {
		switch f {
		case c.user, c.movie, c.ts:
			s, most := i, 10
			if f == c.ts {
				most = 18
			}
			var x uint64
			for ; i < len(b) && i-s < most; i++ {
				d := b[i] - '0'
				if d > 9 {
					break
				}
				x = x*10 + uint64(d)
			}
			switch {
			case i == s:
				return r, 0
			case f == c.ts:
				r.Time = int64(x)
			case x > math.MaxInt32:
				return r, 0
			case f == c.user:
				r.User = int32(x)
			default:
				r.Movie = int32(x)
			}
		case c.rating:
			v, j := fastValue(b, i, vc)
			if j == 0 {
				return r, 0
			}
			r.Value, i = v, j
		default: // an ignored field
			for i < len(b) && b[i] != sep && b[i] != '\n' {
				i++
			}
		}
		if f < c.n-1 {
			if i >= len(b) || b[i] != sep {
				return r, 0
			}
			i++
			continue
		}
		switch {
		case i == len(b):
			return r, i
		case b[i] == '\n':
			return r, i + 1
		case b[i] == '\r' && i+1 == len(b):
			return r, i + 1
		case b[i] == '\r' && b[i+1] == '\n':
			return r, i + 2
		case b[i] == sep: // further fields: ignored
			if j := bytes.IndexByte(b[i:], '\n'); j >= 0 {
				return r, i + j + 1
			}
			return r, len(b)
		}
		return r, 0
	}
}

// pick returns the row's fields for parseRatingFields.
func (c *columns) pick(fields [][]byte) (user, movie, rating, ts []byte) {
	if c.ts >= 0 {
		ts = fields[c.ts]
	}
	return fields[c.user], fields[c.movie], fields[c.rating], ts
}

// comma returns the separator the quote-aware reader splits on.
func (f *ratingsFormat) comma() byte {
	if len(f.sep) == 1 {
		return f.sep[0]
	}
	return ','
}

// record converts a record of the quote-aware reader.
func (f *ratingsFormat) record(fields [][]byte, empty bool, vc *valueCheck) (engine.Rating, error) {
	if f.cols == nil {
		if len(fields) != 4 {
			return engine.Rating{}, fieldCountError(empty, len(fields), 4)
		}
		return parseRatingFields(fields[0], fields[1], fields[2], fields[3], vc)
	}
	if len(fields) < f.cols.n {
		return engine.Rating{}, fieldCountError(empty, len(fields), f.cols.n)
	}
	u, m, r, ts := f.cols.pick(fields)
	return parseRatingFields(u, m, r, ts, vc)
}

// resolve returns pf with Sep, Header and Columns decided from head, the
// start of the file, and the ratings format it describes.
func (pf PlainFormat) resolve(head []byte) (PlainFormat, *ratingsFormat, error) {
	first, _ := nextLine(stripBOM(head))
	if pf.Sep == "" {
		for _, s := range [...]string{"::", "\t", "|", ";", ","} {
			if bytes.Contains(first, []byte(s)) {
				pf.Sep = s
				break
			}
		}
		if pf.Sep == "" {
			return pf, nil, fmt.Errorf("cannot tell the field separator from the first line %q: give it (comma, tab, ::, |, ;)", clipLine(first))
		}
	}
	sep, ok := plainSeps[pf.Sep]
	if !ok {
		return pf, nil, fmt.Errorf("separator %q: want comma, tab, ::, | or ;", pf.Sep)
	}
	pf.Sep = sep
	fields := strings.Split(string(first), sep)
	for i, f := range fields {
		fields[i] = strings.Trim(f, `" `)
	}
	switch pf.Header {
	case "":
		pf.Header = "no"
		if strings.IndexFunc(fields[0], func(r rune) bool { return r < 128 && ('a' <= r|0x20 && r|0x20 <= 'z') }) >= 0 {
			pf.Header = "yes"
		}
	case "yes", "no":
	default:
		return pf, nil, fmt.Errorf("header %q: want yes, no or empty (auto)", pf.Header)
	}
	if pf.Columns == "" {
		if pf.Header == "yes" {
			pf.Columns = strings.Join(fields, ",")
		} else if len(fields) >= 4 {
			pf.Columns = "user,movie,rating,timestamp"
		} else {
			pf.Columns = "user,movie,rating"
		}
	}
	cols, err := parseColumns(strings.Split(pf.Columns, ","))
	if err != nil {
		if pf.Header == "yes" {
			err = fmt.Errorf("%w; the header is %q: name the columns", err, clipLine(first))
		}
		return pf, nil, err
	}
	return pf, &ratingsFormat{sep: []byte(sep), quotes: len(sep) == 1, cols: cols, skip: pf.Header == "yes"}, nil
}

func clipLine(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// headSize is how much of a plain file resolve looks at.
const headSize = 64 << 10

// ReadRatingsPlain reads a plain delimited ratings file in format pf (see
// [PlainFormat]; empty fields are detected from the first line). With
// scale nil every finite rating that fits a float32 is accepted, otherwise
// only the values of *scale. User and movie ids are integers from 0 to
// 2147483647, timestamps non-negative integers (0 without a timestamp
// column). Fields may be RFC 4180 quoted when the separator is one byte.
// Errors, line numbers and the result are those of [ReadRatingsCSV];
// duplicates are kept.
func ReadRatingsPlain(r io.Reader, name string, pf PlainFormat, scale *engine.Scale) ([]engine.Rating, error) {
	var head []byte
	off, _, sized := inputSize(r)
	if ra, ok := r.(io.ReaderAt); ok && sized {
		// Peek without wrapping r, so that its size still sizes the result.
		head = make([]byte, headSize)
		n, err := ra.ReadAt(head, off)
		if err != nil && err != io.EOF {
			return nil, err
		}
		head = head[:n]
	} else {
		br := bufio.NewReaderSize(r, headSize)
		var err error
		if head, err = br.Peek(headSize); err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, err
		}
		r = br
	}
	_, f, err := pf.resolve(head)
	if err != nil {
		return nil, &ParseError{File: name, Line: 1, Err: err}
	}
	out, _, err := streamRatings(r, nil, newParser(name, f, newValueCheck(scale)), blockSize)
	if re, ok := err.(*readError); ok {
		return nil, re.err
	}
	return out, err
}

// PlainOptions name the files of a plain data set for [LoadPlain].
type PlainOptions struct {
	Ratings string      // the ratings file (required)
	Movies  string      // a movies file, or "" to name movies "Movie <id>"
	Format  PlainFormat // of the ratings file
	// Scale is the declared scale, or nil to detect it from the ratings
	// (see engine.ScaleDetector).
	Scale *engine.Scale
}

// LoadPlain reads a plain delimited data set (layout "plain"): the ratings
// file as [ReadRatingsPlain] does, streamed from disk, and the movies file
// as [ReadMoviesPlain] does. Without a movies file every rated movie is in
// the catalog as "Movie <id>". A rating of a movie that is not in the
// movies file is a *ParseError wrapping engine.ErrUnknownMovie. Errors name
// the files.
func LoadPlain(o PlainOptions) (*Dataset, error) {
	d := &Dataset{Layout: LayoutPlain}
	if o.Movies != "" {
		f, err := os.Open(o.Movies)
		if err != nil {
			return nil, fmt.Errorf("read movies: %w", err)
		}
		d.Movies, err = ReadMoviesPlain(f, o.Movies)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	f, err := os.Open(o.Ratings)
	if err != nil {
		return nil, fmt.Errorf("read ratings: %w", err)
	}
	defer f.Close()
	head := make([]byte, headSize)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read ratings: %w", err)
	}
	_, rf, err := o.Format.resolve(head[:n])
	if err != nil {
		return nil, &ParseError{File: o.Ratings, Line: 1, Err: err}
	}
	ratings, first, err := streamRatings(f, nil, newParser(o.Ratings, rf, newValueCheck(o.Scale)), blockSize)
	if re, ok := err.(*readError); ok {
		return nil, fmt.Errorf("read ratings: %w", re.err)
	}
	if err != nil {
		return nil, err
	}
	d.Ratings = ratings
	if o.Movies != "" {
		if err := checkMovies(ratings, d.Movies, o.Ratings, first, o.Movies); err != nil {
			return nil, err
		}
	} else {
		d.Movies = namedMovies(ratings)
	}
	return d, d.setScale(o.Scale, o.Ratings)
}

// namedMovies returns a catalog of the movies of ratings, ascending, each
// titled "Movie <id>".
func namedMovies(ratings []engine.Rating) []engine.Movie {
	var set idSet
	var ids []int32
	for _, r := range ratings {
		if !set.has(r.Movie) {
			set.add(r.Movie)
			ids = append(ids, r.Movie)
		}
	}
	slices.Sort(ids)
	movies := make([]engine.Movie, len(ids))
	for i, id := range ids {
		movies[i] = engine.Movie{ID: id, Title: "Movie " + strconv.Itoa(int(id))}
	}
	return movies
}

// ReadMoviesPlain reads the movies file of a plain data set: one movie per
// line, a movie id (0 to 2147483647) and a title, optionally genres
// separated by '|'. The separator is the first of "::", tab, "|", ";" and
// "," in the first line (a title may hold any other); with one-byte
// separators fields may be RFC 4180 quoted, so a title may hold the
// separator too. The first line is a header when its first field holds a
// letter; a header names the columns (id or movieId, title or name,
// genres; others are ignored), otherwise they are id, title and genres in
// that order and further columns are ignored. Input that is not valid UTF-8
// is decoded as Latin-1. Errors are those of [ReadMoviesCSV].
func ReadMoviesPlain(r io.Reader, name string) ([]engine.Movie, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	data = trimTrailingLines(toUTF8(stripBOM(data)))
	first, _ := nextLine(data)
	sep := ""
	for _, s := range [...]string{"::", "\t", "|", ";", ","} {
		if bytes.Contains(first, []byte(s)) {
			sep = s
			break
		}
	}
	if sep == "" {
		return nil, &ParseError{File: name, Line: 1, Err: fmt.Errorf("want a movie id and a title separated by comma, tab, ::, | or ;, got %q", clipLine(first))}
	}
	cr := csvReader{data: data, line: 1, comma: sep[0]}
	next := cr.next
	if len(sep) > 1 { // "::": no quoting
		next = func() (bool, error) {
			if len(cr.data) == 0 {
				return false, nil
			}
			var line []byte
			cr.recLine = cr.line
			line, cr.data = nextLine(cr.data)
			cr.line++
			cr.fields = cr.fields[:0]
			cr.quoted = cr.quoted[:0]
			for f := range bytes.SplitSeq(line, []byte(sep)) {
				cr.fields = append(cr.fields, f)
				cr.quoted = append(cr.quoted, false)
			}
			return true, nil
		}
	}
	id, title, genres := 0, 1, 2
	if ok, err := next(); err != nil || !ok {
		return nil, &ParseError{File: name, Line: 1, Err: cmpErr(err, errors.New("no movies"))}
	}
	header := bytes.IndexFunc(cr.fields[0], func(r rune) bool { return r < 128 && ('a' <= r|0x20 && r|0x20 <= 'z') }) >= 0
	if header {
		id, title, genres = -1, -1, -1
		for i := range cr.fields {
			switch strings.ToLower(strings.TrimSpace(cr.str(i))) {
			case "id", "movie", "movieid", "movie_id", "item", "itemid", "item_id":
				id = i
			case "title", "name":
				title = i
			case "genres", "genre":
				genres = i
			}
		}
		if id < 0 || title < 0 {
			return nil, &ParseError{File: name, Line: 1, Err: fmt.Errorf("header %s must name an id and a title column", quoteList(cr.fields))}
		}
	}
	need := max(id, title) + 1
	seen := movieSet{}
	gi := genreInterner{}
	var movies []engine.Movie
	ok := true
	if header {
		var err error
		if ok, err = next(); err != nil {
			return nil, &ParseError{File: name, Line: cr.recLine, Err: err}
		}
	}
	for ok {
		if len(cr.fields) < need {
			return nil, &ParseError{File: name, Line: cr.recLine, Err: fieldCountError(cr.isEmptyLine(), len(cr.fields), need)}
		}
		m, err := parseMovieID(cr.fields[id])
		if err == nil {
			err = seen.add(m, cr.recLine)
		}
		var g []string
		if err == nil && genres >= 0 && genres < len(cr.fields) {
			g, err = gi.split(cr.fields[genres])
		}
		if err != nil {
			return nil, &ParseError{File: name, Line: cr.recLine, Err: err}
		}
		movies = append(movies, engine.Movie{ID: m, Title: cr.str(title), Genres: g})
		if ok, err = next(); err != nil {
			return nil, &ParseError{File: name, Line: cr.recLine, Err: err}
		}
	}
	return movies, nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// idSet is a set of ids: a bitmap up to 2^26, a map beyond.
type idSet struct {
	bits []uint64
	big  map[int32]struct{}
}

const idBitmapLimit = 1 << 26

func (s *idSet) add(id int32) {
	if id >= 0 && id < idBitmapLimit {
		if need := int(id)/64 + 1; need > len(s.bits) {
			s.bits = append(s.bits, make([]uint64, max(need, 2*len(s.bits))-len(s.bits))...)
		}
		s.bits[id/64] |= 1 << (id % 64)
		return
	}
	if s.big == nil {
		s.big = map[int32]struct{}{}
	}
	s.big[id] = struct{}{}
}

func (s *idSet) has(id int32) bool {
	if id >= 0 && id < idBitmapLimit {
		return int(id)/64 < len(s.bits) && s.bits[id/64]&(1<<(id%64)) != 0
	}
	_, ok := s.big[id]
	return ok
}
