package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"movierec/engine"
)

// ParseRatingLines parses the tutorial's POST body: one `movieId,rating`
// per line, LF or CRLF line ends, blank lines ignored, spaces around fields
// allowed. Every problem is an error wrapping ErrBadRequest that names the
// 1-based line. It checks syntax and ranges of the numbers only; the engine
// checks movies and the rating scale.
func ParseRatingLines(body []byte) ([]engine.RatingInput, error) {
	var out []engine.RatingInput
	line := 0
	for len(body) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			l, body = body[:i], body[i+1:]
		} else {
			l, body = body, nil
		}
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		fields := bytes.Split(l, []byte{','})
		if len(fields) != 2 {
			return nil, fmt.Errorf("%w: line %d: want 2 fields movieId,rating, got %d in %q", ErrBadRequest, line, len(fields), clip(l))
		}
		ms := string(bytes.TrimSpace(fields[0]))
		movie, err := strconv.ParseInt(ms, 10, 32)
		if err != nil || movie <= 0 {
			return nil, fmt.Errorf("%w: line %d: movie id %q is not a positive 32-bit integer", ErrBadRequest, line, clip([]byte(ms)))
		}
		rs := string(bytes.TrimSpace(fields[1]))
		v, err := strconv.ParseFloat(rs, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: line %d: rating %q is not a finite number", ErrBadRequest, line, clip([]byte(rs)))
		}
		out = append(out, engine.RatingInput{Movie: int32(movie), Value: v})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: body has no ratings; send lines of movieId,rating", ErrBadRequest)
	}
	return out, nil
}

// clip shortens user input quoted in error messages.
func clip(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// ratingJSON is one element of the JSON API's POST body. The fields stay raw
// so that missing, null, quoted and out-of-range values get precise errors.
type ratingJSON struct {
	MovieID json.RawMessage `json:"movie_id"`
	Rating  json.RawMessage `json:"rating"`
}

// ParseRatingsJSON parses the JSON API's POST body: a non-empty array of
// {"movie_id": <positive 32-bit integer>, "rating": <finite number>}
// objects and nothing else. Unknown or missing fields, other types, trailing
// data and an empty array are errors wrapping ErrBadRequest that name the
// element (1-based). Like ParseRatingLines it checks only syntax and number
// ranges; the engine checks movies, the scale and duplicates.
func ParseRatingsJSON(body []byte) ([]engine.RatingInput, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf(`%w: empty body; send a JSON array of {"movie_id":…,"rating":…}`, ErrBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var items []*ratingJSON
	if err := dec.Decode(&items); err != nil {
		return nil, fmt.Errorf(`%w: body is not a JSON array of {"movie_id":…,"rating":…}: %s`, ErrBadRequest, jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: unexpected data after the JSON array", ErrBadRequest)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: body has no ratings; send a non-empty JSON array", ErrBadRequest)
	}
	out := make([]engine.RatingInput, len(items))
	for j, it := range items {
		if it == nil {
			return nil, fmt.Errorf("%w: rating %d is null, want an object", ErrBadRequest, j+1)
		}
		if isNull(it.MovieID) {
			return nil, fmt.Errorf("%w: rating %d: movie_id is missing", ErrBadRequest, j+1)
		}
		if isNull(it.Rating) {
			return nil, fmt.Errorf("%w: rating %d: rating is missing", ErrBadRequest, j+1)
		}
		movie, err := strconv.ParseInt(string(it.MovieID), 10, 32)
		if err != nil || movie <= 0 {
			return nil, fmt.Errorf("%w: rating %d: movie_id %s is not a positive 32-bit integer", ErrBadRequest, j+1, clip(it.MovieID))
		}
		var v float64
		if c := it.Rating[0]; c == '-' || c >= '0' && c <= '9' {
			v, err = strconv.ParseFloat(string(it.Rating), 64)
		} else {
			err = strconv.ErrSyntax // a string, boolean, array or object
		}
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: rating %d: rating %s is not a finite number", ErrBadRequest, j+1, clip(it.Rating))
		}
		out[j] = engine.RatingInput{Movie: int32(movie), Value: v}
	}
	return out, nil
}

// isNull reports whether a raw JSON value is absent or null.
func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// jsonProblem describes a decoding error without the "json: " prefix and
// with the byte offset where there is one.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%s at byte %d", strings.TrimPrefix(syn.Error(), "json: "), syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%s where %s is expected (field %s)", typ.Value, typ.Type, typ.Field)
		}
		return fmt.Sprintf("got a JSON %s at byte %d", typ.Value, typ.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
