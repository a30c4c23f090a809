package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"slices"
	"strconv"

	"movierec/engine"
)

// netflixRatings is the format of the Netflix Prize training files.
var netflixRatings = ratingsFormat{sep: []byte(","), netflix: true}

// ReadRatingsNetflix reads one ratings file of the Netflix Prize training
// set: a combined_data_N.txt, or one of training_set/'s mv_NNNNNNN.txt. A
// line "MovieID:" starts each movie's ratings, lines
// "CustomerID,Rating,YYYY-MM-DD" follow. The date becomes the timestamp
// (midnight UTC). Ids are integers from 0 to 2147483647, dates from
// 1970-01-01 on. With scale nil any finite rating that fits a float32 is
// accepted, otherwise only the values of *scale. A malformed line, a
// rating before the first "MovieID:" line and an empty line (except at the
// end) are *ParseErrors naming the line; LF and CRLF line ends and a byte
// order mark are accepted. The file is read in blocks and parsed in
// parallel, as [ReadRatingsCSV] does; the ratings are returned in file
// order, duplicates kept.
func ReadRatingsNetflix(r io.Reader, name string, scale *engine.Scale) ([]engine.Rating, error) {
	out, _, err := streamRatings(r, nil, newParser(name, &netflixRatings, newValueCheck(scale)), blockSize)
	if re, ok := err.(*readError); ok {
		return nil, re.err
	}
	return out, err
}

// colonLines returns the number of lines of c that hold a colon.
func colonLines(c []byte) int {
	n := 0
	for {
		i := bytes.IndexByte(c, ':')
		if i < 0 {
			return n
		}
		n++
		j := bytes.IndexByte(c[i:], '\n')
		if j < 0 {
			return n
		}
		c = c[i+j+1:]
	}
}

// lastMovie returns the movie id of the last "MovieID:" line of c, or -1
// when there is none or it is malformed (the parser reports that).
func lastMovie(c []byte) int64 {
	i := bytes.LastIndexByte(c, ':')
	if i < 0 {
		return -1
	}
	start := bytes.LastIndexByte(c[:i], '\n') + 1
	v, st := parseUint(c[start:i], math.MaxInt32)
	if st != numOK {
		return -1
	}
	return int64(v)
}

// parseNetflixChunk parses the lines of chunk, whose rows (the lines
// without a colon) are exactly len(dst), into dst; movie is the movie of
// the rows before the chunk's first "MovieID:" line (-1: none). On a
// malformed line it returns that line's 0-based index within the chunk and
// the reason. known, when not nil, holds the valid movie ids. It allocates
// nothing unless a line is malformed.
func parseNetflixChunk(dst []engine.Rating, chunk []byte, movie int64, vc *valueCheck, known *idSet) (int, error) {
	k, line := 0, 0
	for len(chunk) > 0 {
		if movie >= 0 && k < len(dst) {
			if r, n := fastNetflix(chunk, vc); n > 0 {
				r.Movie = int32(movie)
				dst[k] = r
				k++
				chunk = chunk[n:]
				line++
				continue
			}
		}
		l, rest := nextLine(chunk)
		if bytes.IndexByte(l, ':') >= 0 {
			id, err := netflixMovieLine(l, known)
			if err != nil {
				return line, err
			}
			movie = id
		} else {
			if len(l) > 0 && movie < 0 {
				return line, errors.New(`rating before the first "MovieID:" line`)
			}
			r, err := parseNetflixLine(l, vc)
			if err != nil {
				return line, err
			}
			if k >= len(dst) { // cannot happen: the rows were counted
				return line, errors.New("more rows than counted")
			}
			r.Movie = int32(movie)
			dst[k] = r
			k++
		}
		chunk = rest
		line++
	}
	return line, nil
}

// netflixMovieLine parses a "MovieID:" line.
func netflixMovieLine(l []byte, known *idSet) (int64, error) {
	n := len(l)
	if n < 2 || l[n-1] != ':' {
		return 0, fmt.Errorf(`line %q: want "MovieID:" or "CustomerID,Rating,YYYY-MM-DD"`, clipLine(l))
	}
	v, st := parseUint(l[:n-1], math.MaxInt32)
	if st != numOK {
		return 0, idError("movie id", l[:n-1], st, 0)
	}
	if known != nil && !known.has(int32(v)) {
		return 0, fmt.Errorf("%w %d (not in movie_titles.csv)", engine.ErrUnknownMovie, v)
	}
	return int64(v), nil
}

// fastNetflix parses the row at the start of b when it has the usual shape:
// a customer id of at most 10 digits, a rating "D" or "D.D" valid for vc,
// a date YYYY-MM-DD, then "\n", "\r\n" or the end of b. It returns n == 0
// for any other line: parseNetflixLine decides those, with the same result
// for every row fastNetflix accepts.
func fastNetflix(b []byte, vc *valueCheck) (r engine.Rating, n int) {
	i := 0
	var u uint64
	for ; i < len(b) && i < 10; i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		u = u*10 + uint64(d)
	}
	if i == 0 || u > math.MaxInt32 || i >= len(b) || b[i] != ',' {
		return r, 0
	}
	v, i := fastValue(b, i+1, vc)
	if i == 0 || i+11 > len(b) || b[i] != ',' {
		return r, 0
	}
	t, ok := parseDate(b[i+1 : i+11])
	if !ok {
		return r, 0
	}
	i += 11
	switch {
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
	return engine.Rating{User: int32(u), Value: v, Time: t}, n
}

// parseNetflixLine parses one "CustomerID,Rating,YYYY-MM-DD" row; the
// movie is left 0.
func parseNetflixLine(l []byte, vc *valueCheck) (engine.Rating, error) {
	user, rest, ok0 := cut(l, []byte(","))
	rating, date, ok1 := cut(rest, []byte(","))
	if !ok0 || !ok1 || bytes.IndexByte(date, ',') >= 0 {
		return engine.Rating{}, fieldCountError(len(l) == 0, countFields(l, []byte(",")), 3)
	}
	u, st := parseUint(user, math.MaxInt32)
	if st != numOK {
		return engine.Rating{}, idError("user id", user, st, 0)
	}
	v, err := vc.value(rating)
	if err != nil {
		return engine.Rating{}, err
	}
	t, ok := parseDate(date)
	if !ok {
		return engine.Rating{}, fmt.Errorf("date %q is not a date YYYY-MM-DD from 1970 on", date)
	}
	return engine.Rating{User: int32(u), Value: v, Time: t}, nil
}

// parseDate reads YYYY-MM-DD (1970 to 9999, a real day) as Unix seconds at
// midnight UTC. It allocates nothing.
func parseDate(b []byte) (int64, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	var v [8]int
	for i, j := range [8]int{0, 1, 2, 3, 5, 6, 8, 9} {
		d := int(b[j]) - '0'
		if d < 0 || d > 9 {
			return 0, false
		}
		v[i] = d
	}
	y, m, d := v[0]*1000+v[1]*100+v[2]*10+v[3], v[4]*10+v[5], v[6]*10+v[7]
	if y < 1970 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	if y < 1970+len(monthStarts) {
		return (int64(monthStarts[y-1970][m-1]) + int64(d-1)) * 86400, true
	}
	return daysFromCivil(y, m, d) * 86400, true
}

// monthStarts holds the days from 1970-01-01 to the first of each month
// of 1970–2099, the dates of real data sets. It is never modified.
var monthStarts = func() (t [130][12]int32) {
	for y := range t {
		for m := range t[y] {
			t[y][m] = int32(daysFromCivil(1970+y, m+1, 1))
		}
	}
	return t
}()

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days from 1970-01-01 to y-m-d (y ≥ 1970), by
// Howard Hinnant's algorithm.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}

// ReadMovieTitles reads the movie_titles.csv of the Netflix Prize:
// "MovieID,YearOfRelease,Title" per line, no header, Latin-1 (decoded),
// the year a number or NULL, the title everything after the second comma
// (titles hold commas and are not quoted). A movie's title becomes
// "Title (Year)", or "Title" without a year. Errors are those of
// [ReadMoviesCSV]; an empty title is one too.
func ReadMovieTitles(r io.Reader, name string) ([]engine.Movie, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	data = trimTrailingLines(toUTF8(stripBOM(data)))
	n := bytes.Count(data, []byte("\n")) + 1
	movies := make([]engine.Movie, 0, n)
	seen := make(movieSet, n)
	for lineNo := 1; len(data) > 0; lineNo++ {
		var line []byte
		line, data = nextLine(data)
		m, err := movieTitleRow(line, lineNo, seen)
		if err != nil {
			return nil, &ParseError{File: name, Line: lineNo, Err: err}
		}
		movies = append(movies, m)
	}
	return movies, nil
}

func movieTitleRow(line []byte, lineNo int, seen movieSet) (engine.Movie, error) {
	idf, rest, ok0 := cut(line, []byte(","))
	year, title, ok1 := cut(rest, []byte(","))
	if !ok0 || !ok1 {
		return engine.Movie{}, fieldCountError(len(line) == 0, countFields(line, []byte(",")), 3)
	}
	id, err := parseMovieID(idf)
	if err != nil {
		return engine.Movie{}, err
	}
	if err := seen.add(id, lineNo); err != nil {
		return engine.Movie{}, err
	}
	if len(title) == 0 {
		return engine.Movie{}, errors.New("empty title")
	}
	t := string(title)
	switch {
	case string(year) == "NULL":
	case len(year) == 4 && bytes.IndexFunc(year, func(r rune) bool { return r < '0' || r > '9' }) < 0:
		t += " (" + string(year) + ")"
	default:
		return engine.Movie{}, fmt.Errorf("year %q is not a year or NULL", year)
	}
	return engine.Movie{ID: id, Title: t}, nil
}

// netflixFiles returns the ratings files of a Netflix Prize data set in
// fsys: the combined_data_*.txt at the root, or else the mv_*.txt files of
// training_set/ or of the root, sorted by name; nil when there are none.
func netflixFiles(fsys fs.FS) []string {
	for _, pat := range [...]string{"combined_data_*.txt", "training_set/mv_*.txt", "mv_*.txt"} {
		names, _ := fs.Glob(fsys, pat)
		if len(names) > 0 {
			slices.Sort(names)
			return names
		}
	}
	return nil
}

// netflixTitles is the Netflix Prize's movies file.
const netflixTitles = "movie_titles.csv"

// loadNetflix reads the Netflix Prize data set at the root of fsys into one
// result: the ratings files in name order, each streamed in blocks, and
// movie_titles.csv when present (else every rated movie is "Movie <id>").
// The result is reserved once for all files, from their total size.
func loadNetflix(fsys fs.FS, scale *engine.Scale) (*Dataset, error) {
	files := netflixFiles(fsys)
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: want combined_data_*.txt or training_set/mv_*.txt", ErrNoDataset)
	}
	d := &Dataset{Layout: LayoutNetflix}
	var known *idSet
	if mdata, err := fs.ReadFile(fsys, netflixTitles); err == nil {
		if d.Movies, err = parseMovieTitles(mdata, netflixTitles); err != nil {
			return nil, err
		}
		known = &idSet{}
		for _, m := range d.Movies {
			known.add(m.ID)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read movies: %w", err)
	}
	sizes := make([]int64, len(files))
	var total int64
	for i, name := range files {
		if fi, err := fs.Stat(fsys, name); err == nil {
			sizes[i] = fi.Size()
			total += fi.Size()
		}
	}
	vc := newValueCheck(scale)
	var out []engine.Rating
	for i, name := range files {
		total -= sizes[i]
		f, err := fsys.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read ratings: %w", err)
		}
		p := newParser(path.Base(name), &netflixRatings, vc)
		p.known, p.out, p.extra = known, out, total
		out, _, err = streamRatings(f, nil, p, blockSize)
		f.Close()
		if re, ok := err.(*readError); ok {
			return nil, fmt.Errorf("read ratings %s: %w", name, re.err)
		}
		if err != nil {
			return nil, err
		}
	}
	d.Ratings = out
	if known == nil {
		d.Movies = namedMovies(out)
	}
	return d, d.setScale(scale, files[0])
}

func parseMovieTitles(data []byte, name string) ([]engine.Movie, error) {
	return ReadMovieTitles(bytes.NewReader(data), name)
}

// netflixTitleLine appends a movie_titles.csv line for the generator: the
// id, the year (NULL when year is 0) and the title, unquoted.
func netflixTitleLine(dst []byte, id int32, year int, title string) []byte {
	dst = strconv.AppendInt(dst, int64(id), 10)
	dst = append(dst, ',')
	if year > 0 {
		dst = strconv.AppendInt(dst, int64(year), 10)
	} else {
		dst = append(dst, "NULL"...)
	}
	dst = append(dst, ',')
	dst = append(dst, title...)
	return append(dst, '\n')
}
