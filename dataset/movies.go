package dataset

import (
	"bytes"
	"fmt"
	"io"

	"movierec/engine"
)

// ReadMoviesCSV reads a movies.csv file of the ml-latest layout: a header row
// "movieId,title,genres", then one movie per row. Titles are RFC 4180 quoted
// when they hold a comma or a quote (`"American President, The (1995)"`);
// genres are separated by '|', and "(no genres listed)" or an empty field
// gives no genres (nil). name is the file name used in errors.
//
// The input is UTF-8 with LF or CRLF line ends and an optional byte order
// mark; input that is not valid UTF-8 is decoded as Latin-1. A malformed row
// is a *ParseError naming the line: wrong field count, a movie id outside 0 to
// 2147483647, a movie id seen before, an empty genre name. Empty lines are
// errors except at the end of the input. An I/O error from r is returned as
// is.
//
// The movies are returned in file order, in a new slice owned by the caller.
// Equal genre names share one string.
func ReadMoviesCSV(r io.Reader, name string) ([]engine.Movie, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return parseMoviesCSV(data, name)
}

func parseMoviesCSV(data []byte, name string) ([]engine.Movie, error) {
	data = trimTrailingLines(toUTF8(stripBOM(data)))
	cr := csvReader{data: data, line: 1}
	if err := cr.checkHeader("movieId", "title", "genres"); err != nil {
		return nil, &ParseError{File: name, Line: 1, Err: err}
	}
	n := bytes.Count(data, []byte("\n"))
	movies := make([]engine.Movie, 0, n)
	seen := make(movieSet, n)
	genres := genreInterner{}
	for {
		ok, err := cr.next()
		if err != nil {
			return nil, &ParseError{File: name, Line: cr.recLine, Err: err}
		}
		if !ok {
			return movies, nil
		}
		m, err := movieCSVRow(&cr, seen, genres)
		if err != nil {
			return nil, &ParseError{File: name, Line: cr.recLine, Err: err}
		}
		movies = append(movies, m)
	}
}

// movieCSVRow converts the record last read by cr.
func movieCSVRow(cr *csvReader, seen movieSet, genres genreInterner) (engine.Movie, error) {
	if len(cr.fields) != 3 {
		return engine.Movie{}, fieldCountError(cr.isEmptyLine(), len(cr.fields), 3)
	}
	id, err := parseMovieID(cr.fields[0])
	if err != nil {
		return engine.Movie{}, err
	}
	if err := seen.add(id, cr.recLine); err != nil {
		return engine.Movie{}, err
	}
	g, err := genres.split(cr.fields[2])
	if err != nil {
		return engine.Movie{}, err
	}
	return engine.Movie{ID: id, Title: cr.str(1), Genres: g}, nil
}

// ReadMoviesDat reads a movies.dat file of ml-1m or ml-10m: one movie per
// line as MovieID::Title::Genres, no header, genres separated by '|'. The
// title is everything between the first and the last "::". Input that is not
// valid UTF-8 (ml-1m's is Latin-1) is decoded as Latin-1. Rules, errors and
// result are those of [ReadMoviesCSV], without the quoting.
func ReadMoviesDat(r io.Reader, name string) ([]engine.Movie, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return parseMoviesDat(data, name)
}

func parseMoviesDat(data []byte, name string) ([]engine.Movie, error) {
	data = trimTrailingLines(toUTF8(stripBOM(data)))
	n := bytes.Count(data, []byte("\n")) + 1
	movies := make([]engine.Movie, 0, n)
	seen := make(movieSet, n)
	genres := genreInterner{}
	sep := []byte("::")
	for lineNo := 1; len(data) > 0; lineNo++ {
		var line []byte
		line, data = nextLine(data)
		m, err := movieDatRow(line, lineNo, sep, seen, genres)
		if err != nil {
			return nil, &ParseError{File: name, Line: lineNo, Err: err}
		}
		movies = append(movies, m)
	}
	return movies, nil
}

func movieDatRow(line []byte, lineNo int, sep []byte, seen movieSet, genres genreInterner) (engine.Movie, error) {
	idField, rest, ok := cut(line, sep)
	i := bytes.LastIndex(rest, sep)
	if !ok || i < 0 {
		return engine.Movie{}, fieldCountError(len(line) == 0, countFields(line, sep), 3)
	}
	id, err := parseMovieID(idField)
	if err != nil {
		return engine.Movie{}, err
	}
	if err := seen.add(id, lineNo); err != nil {
		return engine.Movie{}, err
	}
	g, err := genres.split(rest[i+len(sep):])
	if err != nil {
		return engine.Movie{}, err
	}
	return engine.Movie{ID: id, Title: string(rest[:i]), Genres: g}, nil
}

// uItemGenres are the genres of u.item's 19 flag columns, in the order of
// ml-100k's u.genre. The first, "unknown", means no genre and is not reported.
var uItemGenres = [19]string{"unknown", "Action", "Adventure", "Animation",
	"Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
	"Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
	"Thriller", "War", "Western"}

// ReadUItem reads the u.item file of ml-100k: one movie per line as 24
// '|'-separated fields (movie id, title, release date, video release date,
// IMDb URL, then 19 genre flags of 0 or 1), no header. The genres are the
// names of the set flags in u.genre order (Action, Adventure, Animation,
// Children's, Comedy, Crime, Documentary, Drama, Fantasy, Film-Noir, Horror,
// Musical, Mystery, Romance, Sci-Fi, Thriller, War, Western); the "unknown"
// flag adds nothing, as "(no genres listed)" does in movies.csv. Input that
// is not valid UTF-8 (the real u.item is Latin-1) is decoded as Latin-1.
// Rules, errors and result are otherwise those of [ReadMoviesCSV], without
// the quoting; a flag other than 0 or 1 is also an error.
func ReadUItem(r io.Reader, name string) ([]engine.Movie, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return parseUItem(data, name)
}

func parseUItem(data []byte, name string) ([]engine.Movie, error) {
	data = trimTrailingLines(toUTF8(stripBOM(data)))
	n := bytes.Count(data, []byte("\n")) + 1
	movies := make([]engine.Movie, 0, n)
	seen := make(movieSet, n)
	var fields [][]byte
	for lineNo := 1; len(data) > 0; lineNo++ {
		var line []byte
		line, data = nextLine(data)
		fields = fields[:0]
		for f := range bytes.SplitSeq(line, []byte("|")) {
			fields = append(fields, f)
		}
		m, err := uItemRow(line, fields, lineNo, seen)
		if err != nil {
			return nil, &ParseError{File: name, Line: lineNo, Err: err}
		}
		movies = append(movies, m)
	}
	return movies, nil
}

func uItemRow(line []byte, fields [][]byte, lineNo int, seen movieSet) (engine.Movie, error) {
	const nFields = 5 + len(uItemGenres)
	if len(fields) != nFields {
		return engine.Movie{}, fieldCountError(len(line) == 0, len(fields), nFields)
	}
	id, err := parseMovieID(fields[0])
	if err != nil {
		return engine.Movie{}, err
	}
	if err := seen.add(id, lineNo); err != nil {
		return engine.Movie{}, err
	}
	var genres []string
	for i, flag := range fields[5:] {
		switch string(flag) {
		case "0":
		case "1":
			if i > 0 {
				genres = append(genres, uItemGenres[i])
			}
		default:
			return engine.Movie{}, fmt.Errorf("field %d (genre %s) is %q, want 0 or 1", 6+i, uItemGenres[i], flag)
		}
	}
	return engine.Movie{ID: id, Title: string(fields[1]), Genres: genres}, nil
}
