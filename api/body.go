package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
		if err != nil || movie < 0 {
			return nil, fmt.Errorf("%w: line %d: movie id %q is not an integer from 0 to 2147483647", ErrBadRequest, line, clip([]byte(ms)))
		}
		rs := bytes.TrimSpace(fields[1])
		v, ok := engine.ParseDecimal(rs)
		if !ok {
			return nil, fmt.Errorf("%w: line %d: rating %q is not a finite number; want a decimal such as 4, 4.5 or 4.5e0", ErrBadRequest, line, clip(rs))
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
// {"movie_id": <integer 0 to 2147483647>, "rating": <finite number>}
// objects and nothing else. Unknown or missing fields, duplicate keys, keys
// that differ from a field only in case ("Rating"), other types, trailing
// data and an empty array are errors wrapping ErrBadRequest that name the
// element (1-based) or the problem. The rating is read with
// engine.ParseDecimal, as in ParseRatingLines. Like ParseRatingLines it checks only syntax and number
// ranges; the engine checks movies, the scale and duplicates.
func ParseRatingsJSON(body []byte) ([]engine.RatingInput, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf(`%w: empty body; send a JSON array of {"movie_id":…,"rating":…}`, ErrBadRequest)
	}
	if err := checkJSONKeys(body); err != nil {
		return nil, err
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
		if err != nil || movie < 0 {
			return nil, fmt.Errorf("%w: rating %d: movie_id %s is not an integer from 0 to 2147483647", ErrBadRequest, j+1, clip(it.MovieID))
		}
		// A JSON number is a decimal of ParseDecimal's syntax; a string,
		// boolean, array or object is not.
		v, ok := engine.ParseDecimal(it.Rating)
		if !ok {
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

// checkJSONKeys walks the tokens of body and refuses what encoding/json
// would let through silently: a key that occurs twice in one object (the
// last would win) and a key that matches a field name only when case is
// ignored ("Movie_ID" would fill movie_id). Syntax errors are left to the
// decoder, which names them.
func checkJSONKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next token of an object is a key (or '}')
	}
	var stack []frame
	elem := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or a syntax error the decoder reports
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			top := &stack[n-1]
			if k, ok := tok.(string); ok && top.key {
				if len(stack) != 2 || stack[0].object {
					top.key = false
					continue // not a rating object: the decoder refuses it
				}
				if top.keys[k] {
					return fmt.Errorf("%w: rating %d: duplicate key %q", ErrBadRequest, elem, clip([]byte(k)))
				}
				top.keys[k] = true
				for _, f := range [...]string{"movie_id", "rating"} {
					if k != f && strings.EqualFold(k, f) {
						return fmt.Errorf("%w: rating %d: key %q differs from %q only in case; keys are case-sensitive", ErrBadRequest, elem, clip([]byte(k)), f)
					}
				}
				top.key = false
				continue
			}
			if tok != json.Delim('}') {
				top.key = true // after this value, a key or '}'
			}
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			if len(stack) == 1 && !stack[0].object {
				elem++
			}
			stack = append(stack, frame{object: tok == json.Delim('{'), keys: map[string]bool{}, key: true})
			if len(stack) > 3 {
				return nil // deeper than a rating: the decoder refuses it
			}
		case json.Delim(']'), json.Delim('}'):
			stack = stack[:len(stack)-1]
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].key = true
			}
		default:
			if len(stack) == 1 && !stack[0].object {
				elem++
			}
		}
	}
}
