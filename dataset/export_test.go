package dataset

import "movierec/engine"

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
