package dataset

import (
	"io"

	"movierec/engine"
)

// ParseRatingsSlow is ParseRatings with every row parsed by the general
// row parser, none by the fast path.
func ParseRatingsSlow(data []byte, name, format string, workers int) ([]engine.Rating, error) {
	f := *map[string]*ratingsFormat{"csv": &csvRatings, "dat": &datRatings, "udata": &uDataRatings}[format]
	f.slow = true
	out, _, err := parseRatings(data, name, &f, workers)
	return out, err
}

// ParseRatings parses a whole ratings file of the given format ("csv",
// "dat" or "udata") with exactly workers goroutines, ignoring the minimum
// chunk size; workers 1 is the sequential parser.
func ParseRatings(data []byte, name, format string, workers int) ([]engine.Rating, error) {
	f := map[string]*ratingsFormat{"csv": &csvRatings, "dat": &datRatings, "udata": &uDataRatings}[format]
	out, _, err := parseRatings(data, name, f, workers)
	return out, err
}

// ReadRatingsBlocks reads a ratings file of the given format from r in
// blocks of blockSize bytes, each parsed with workers goroutines (0:
// GOMAXPROCS), as the Read* functions do with their large blocks.
func ReadRatingsBlocks(r io.Reader, name, format string, blockSize, workers int) ([]engine.Rating, error) {
	f := map[string]*ratingsFormat{"csv": &csvRatings, "dat": &datRatings, "udata": &uDataRatings}[format]
	p := newParser(name, f, movieLensCheck)
	p.workers = workers
	out, _, err := streamRatings(r, nil, p, blockSize)
	if re, ok := err.(*readError); ok {
		return nil, re.err
	}
	return out, err
}

// ParseRatingsQuoted is ParseRatings of a ratings.csv with every row parsed
// by the quote-aware parser.
func ParseRatingsQuoted(data []byte, name string) ([]engine.Rating, error) {
	f := csvRatings
	f.quoted = true
	out, _, err := parseRatings(data, name, &f, 1)
	return out, err
}

// ReadNetflixBlocks is ReadRatingsNetflix (no declared scale) in blocks of
// blockSize bytes, each parsed with workers goroutines.
func ReadNetflixBlocks(r io.Reader, name string, blockSize, workers int) ([]engine.Rating, error) {
	p := newParser(name, &netflixRatings, newValueCheck(nil))
	p.workers = workers
	out, _, err := streamRatings(r, nil, p, blockSize)
	if re, ok := err.(*readError); ok {
		return nil, re.err
	}
	return out, err
}

// ReadRatingsPlainSlow is ReadRatingsPlain of data with every row parsed by
// the general row parser, none by the fast path.
func ReadRatingsPlainSlow(data []byte, name string, pf PlainFormat, scale *engine.Scale) ([]engine.Rating, error) {
	_, f, err := pf.resolve(data)
	if err != nil {
		return nil, &ParseError{File: name, Line: 1, Err: err}
	}
	f.slow = true
	out, _, err := streamRatings(nil, data, newParser(name, f, newValueCheck(scale)), blockSize)
	return out, err
}
