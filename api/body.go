package api

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

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
