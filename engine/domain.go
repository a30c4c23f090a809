package engine

import (
	"errors"
	"fmt"
	"math"
)

// Movie is a catalog entry. ID is the data set's movie id.
type Movie struct {
	ID     int32
	Title  string
	Genres []string
}

// Rating is one user's rating of one movie. Time is Unix seconds (0 when the
// source has none).
type Rating struct {
	User  int32
	Movie int32
	Value float32
	Time  int64
}

// Scale is the set of valid rating values: Min, Min+Step, …, Max.
type Scale struct {
	Min, Max, Step float32
}

// MovieLensScale is the scale of ml-latest and ml-10m: half stars 0.5–5.
var MovieLensScale = Scale{Min: 0.5, Max: 5, Step: 0.5}

// WholeStarScale is the scale of ml-100k and ml-1m: whole stars 1–5.
var WholeStarScale = Scale{Min: 1, Max: 5, Step: 1}

// Valid reports whether v is on the scale.
func (s Scale) Valid(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < float64(s.Min) || v > float64(s.Max) {
		return false
	}
	if s.Step <= 0 {
		return true
	}
	q := (v - float64(s.Min)) / float64(s.Step)
	return math.Abs(q-math.Round(q)) < 1e-6
}

// String describes the scale for error messages: "0.5 to 5 in steps of 0.5".
func (s Scale) String() string {
	if s.Step <= 0 {
		return fmt.Sprintf("%g to %g", s.Min, s.Max)
	}
	return fmt.Sprintf("%g to %g in steps of %g", s.Min, s.Max, s.Step)
}

// Sentinel errors of the engine. The api package maps them to HTTP statuses.
var (
	ErrUnknownMovie  = errors.New("unknown movie")
	ErrInvalidRating = errors.New("invalid rating")
	ErrInvalidInput  = errors.New("invalid input")
	ErrModelNotReady = errors.New("model not ready")
	// ErrNotRated marks a deletion of a rating the user has not made.
	ErrNotRated = errors.New("not rated")
)
