package engine

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
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

// Valid reports whether v is exactly one of the scale's values (see Snap).
func (s Scale) Valid(v float64) bool {
	_, ok := s.Snap(v)
	return ok
}

// Snap returns v as a stored rating value if it is on the scale. Without
// steps (Step <= 0) that is any finite v in [Min, Max], rounded to float32.
// With steps the scale's values are the decimal numbers Min + k·Step for
// k = 0, 1, … up to Max, where Min and Step stand for the shortest decimals
// that denote them ("0.5", "0.1"); v must equal one of them exactly once
// both are parsed to float64, so "4.5" and "45e-1" are on the half-star
// scale but "4.5000004" is not. The result is the float32 nearest to the
// step. It allocates nothing.
func (s Scale) Snap(v float64) (float32, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < float64(s.Min) || v > float64(s.Max) {
		return 0, false
	}
	if s.Step <= 0 {
		return float32(v), true
	}
	k := math.Round((v - float64(s.Min)) / float64(s.Step))
	f64, f32, ok := s.step(k)
	if !ok || f64 != v {
		return 0, false
	}
	return f32, true
}

// Contains reports whether the stored value v is one of the scale's values,
// that is, the float32 that Snap returns for it.
func (s Scale) Contains(v float32) bool {
	if s.Step <= 0 {
		return v >= s.Min && v <= s.Max
	}
	k := math.Round((float64(v) - float64(s.Min)) / float64(s.Step))
	_, f32, ok := s.step(k)
	return ok && f32 == v
}

// steps returns the number of steps above Min on a stepped scale.
func (s Scale) steps() float64 {
	return math.Round((float64(s.Max) - float64(s.Min)) / float64(s.Step))
}

// step returns the value Min + k·Step, computed exactly in decimal, as the
// nearest float64 and float32; ok is false when k is not a step of the
// scale or the decimal does not fit 64 bits.
func (s Scale) step(k float64) (float64, float32, bool) {
	if math.IsNaN(k) || k < 0 || k > s.steps() {
		return 0, 0, false
	}
	mm, em, ok1 := shortestDecimal(s.Min)
	ms, es, ok2 := shortestDecimal(s.Step)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	e := min(em, es)
	a, ok1 := scaleUp(mm, em-e)
	b, ok2 := scaleUp(ms, es-e)
	hi, bk := bits.Mul64(b, uint64(k))
	m, carry := bits.Add64(a, bk, 0)
	if !ok1 || !ok2 || hi != 0 || carry != 0 {
		return 0, 0, false
	}
	var buf [32]byte
	t := strconv.AppendUint(buf[:0], m, 10)
	t = append(t, 'e')
	t = strconv.AppendInt(t, int64(e), 10)
	f64, err1 := strconv.ParseFloat(string(t), 64)
	f32, err2 := strconv.ParseFloat(string(t), 32)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return f64, float32(f32), true
}

// shortestDecimal returns the shortest decimal m·10^e that denotes the
// float32 x; ok is false for a negative or non-finite x (scales start at 0
// or above).
func shortestDecimal(x float32) (m uint64, e int, ok bool) {
	if x < 0 || math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return 0, 0, false
	}
	var buf [32]byte
	t := strconv.AppendFloat(buf[:0], float64(x), 'e', -1, 32) // "d.ddde±xx" or "de±xx"
	frac, i := -1, 0
	for ; t[i] != 'e'; i++ {
		if t[i] == '.' {
			frac = 0
			continue
		}
		m = m*10 + uint64(t[i]-'0')
		if frac >= 0 {
			frac++
		}
	}
	x10, err := strconv.Atoi(string(t[i+1:]))
	if err != nil {
		return 0, 0, false
	}
	return m, x10 - max(frac, 0), true
}

// scaleUp returns m·10^n, or ok false on overflow.
func scaleUp(m uint64, n int) (uint64, bool) {
	for ; n > 0; n-- {
		if m > math.MaxUint64/10 {
			return 0, false
		}
		m *= 10
	}
	return m, true
}

// String describes the scale for error messages: "0.5 to 5 in steps of 0.5".
func (s Scale) String() string {
	if s.Step <= 0 {
		return fmt.Sprintf("%g to %g", s.Min, s.Max)
	}
	return fmt.Sprintf("%g to %g in steps of %g", s.Min, s.Max, s.Step)
}

// Allowed lists the scale's values for error messages ("0.5, 1, 1.5, …,
// 5"), or describes the range when there are more than 20 or no steps.
func (s Scale) Allowed() string {
	if s.Step <= 0 || s.steps() >= 20 {
		return s.String()
	}
	var b []byte
	for k := range int(s.steps()) + 1 {
		v, _, ok := s.step(float64(k))
		if !ok {
			return s.String()
		}
		if k > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return string(b)
}

// Sentinel errors of the engine. The api package maps them to HTTP statuses.
var (
	ErrUnknownMovie  = errors.New("unknown movie")
	ErrInvalidRating = errors.New("invalid rating")
	ErrInvalidInput  = errors.New("invalid input")
	ErrModelNotReady = errors.New("model not ready")
	// ErrNotRated marks a deletion of a rating the user has not made.
	ErrNotRated = errors.New("not rated")
	// ErrNotTrainer marks a retrain refused because another process
	// holds the trainer lock (Config.Lock), or because this one lost it.
	ErrNotTrainer = errors.New("not the trainer")
)
