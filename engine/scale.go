package engine

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Scale is the set of valid rating values of a data set. It has one of
// three kinds:
//
//   - stepped (Step > 0): Min, Min+Step, …, Max, as MovieLens's half stars
//     0.5:5:0.5 or a shop's 1:10:1;
//   - continuous (Step == 0, Min and Max finite): any real in [Min, Max];
//   - unbounded (Step == 0, Min == −Inf, Max == +Inf; see [Unbounded]): any
//     finite real that fits a float32.
//
// NaN and ±Inf are never valid ratings. Min and Max may be negative. A
// Scale is a value: compare with ==. Stores persist it as its [Scale.Kind]
// plus Min, Max and Step (see [ScaleOf]).
type Scale struct {
	Min, Max, Step float32
}

// MovieLensScale is the scale of ml-latest and ml-10m: half stars 0.5–5.
var MovieLensScale = Scale{Min: 0.5, Max: 5, Step: 0.5}

// WholeStarScale is the scale of ml-100k and ml-1m: whole stars 1–5.
var WholeStarScale = Scale{Min: 1, Max: 5, Step: 1}

// Unbounded is the scale of any finite rating: nothing is clamped.
var Unbounded = Scale{Min: float32(math.Inf(-1)), Max: float32(math.Inf(1))}

// The kinds of scale, as Kind returns them and stores record them.
const (
	ScaleStepped    = "stepped"
	ScaleContinuous = "continuous"
	ScaleUnbounded  = "unbounded"
)

// maxSteps bounds the number of values of a stepped scale (ParseScale) and
// of a detected grid (ScaleDetector): more values make it continuous.
const (
	maxSteps     = 1_000_000
	maxGridSteps = 100
)

// Kind returns ScaleStepped, ScaleContinuous or ScaleUnbounded.
func (s Scale) Kind() string {
	switch {
	case s.Step > 0:
		return ScaleStepped
	case s.Bounded():
		return ScaleContinuous
	}
	return ScaleUnbounded
}

// Bounded reports whether the scale has finite bounds: predictions are
// clamped to them.
func (s Scale) Bounded() bool {
	return !math.IsInf(float64(s.Min), 0) && !math.IsInf(float64(s.Max), 0)
}

// Clamp limits v to [Min, Max]; an unbounded scale returns v.
func (s Scale) Clamp(v float64) float64 {
	return math.Max(float64(s.Min), math.Min(float64(s.Max), v))
}

// Mid returns the middle of the scale, the prediction of last resort: 0 on
// an unbounded scale.
func (s Scale) Mid() float64 {
	if !s.Bounded() {
		return 0
	}
	return (float64(s.Min) + float64(s.Max)) / 2
}

// Spec returns the scale in the syntax ParseScale reads: "0.5:5:0.5",
// "1:10" (continuous) or "unbounded".
func (s Scale) Spec() string {
	if !s.Bounded() {
		return ScaleUnbounded
	}
	f := func(x float32) string { return strconv.FormatFloat(float64(x), 'g', -1, 32) }
	if s.Step > 0 {
		return f(s.Min) + ":" + f(s.Max) + ":" + f(s.Step)
	}
	return f(s.Min) + ":" + f(s.Max)
}

// ParseScale reads a scale as the --scale flags take it: "MIN:MAX:STEP" (a
// stepped scale: MAX − MIN must be a whole number of STEPs, at most a
// million), "MIN:MAX" (continuous) or "unbounded". The numbers are decimals
// of ParseDecimal's syntax ("-1", "0.5", "1e1") that fit a float32, with
// MIN < MAX (MIN ≤ MAX for a stepped scale) and STEP > 0.
func ParseScale(spec string) (Scale, error) {
	if spec == ScaleUnbounded {
		return Unbounded, nil
	}
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Scale{}, fmt.Errorf("scale %q: want MIN:MAX:STEP (e.g. 0.5:5:0.5), MIN:MAX (continuous) or unbounded", spec)
	}
	var v [3]float32
	for i, p := range parts {
		x, ok := ParseDecimal([]byte(p))
		if !ok || math.Abs(x) > math.MaxFloat32 {
			return Scale{}, fmt.Errorf("scale %q: %q is not a finite decimal number", spec, p)
		}
		v[i] = float32(x)
	}
	if len(parts) == 3 && !(v[2] > 0) {
		return Scale{}, fmt.Errorf("scale %q: the step must be positive", spec)
	}
	s := Scale{Min: v[0], Max: v[1], Step: v[2]}
	return s, s.validate(spec)
}

// ScaleOf rebuilds a scale from what a store recorded: its kind and, for
// stepped and continuous scales, the bounds and the step (0 when
// continuous). An unbounded scale ignores min, max and step (stores write
// 0). The error names what does not make a scale.
func ScaleOf(kind string, min, max, step float64) (Scale, error) {
	var s Scale
	switch kind {
	case ScaleUnbounded:
		return Unbounded, nil
	case ScaleStepped:
		s = Scale{Min: float32(min), Max: float32(max), Step: float32(step)}
		if step <= 0 {
			return Scale{}, fmt.Errorf("stepped scale with step %v", step)
		}
	case ScaleContinuous:
		s = Scale{Min: float32(min), Max: float32(max)}
	default:
		return Scale{}, fmt.Errorf("unknown scale kind %q (want %s, %s or %s)", kind, ScaleStepped, ScaleContinuous, ScaleUnbounded)
	}
	return s, s.validate(s.Spec())
}

// validate checks a bounded scale, naming spec in errors.
func (s Scale) validate(spec string) error {
	switch {
	case math.IsInf(float64(s.Min), 0) || math.IsInf(float64(s.Max), 0):
		return fmt.Errorf("scale %q: bounds must be finite (use unbounded)", spec)
	case s.Step < 0:
		return fmt.Errorf("scale %q: the step must be positive", spec)
	case s.Step == 0 && !(s.Min < s.Max):
		return fmt.Errorf("scale %q: MIN must be below MAX", spec)
	case s.Step > 0 && s.Min > s.Max:
		return fmt.Errorf("scale %q: MIN must not be above MAX", spec)
	case s.Step > 0 && (float64(s.Max)-float64(s.Min))/float64(s.Step) > maxSteps:
		return fmt.Errorf("scale %q: more than %d steps (use the continuous MIN:MAX)", spec, maxSteps)
	}
	if s.Step > 0 {
		if _, top, ok := s.step(s.steps()); !ok || top != s.Max {
			return fmt.Errorf("scale %q: MAX − MIN is not a whole number of steps", spec)
		}
	}
	return nil
}

// Valid reports whether v is exactly one of the scale's values (see Snap).
func (s Scale) Valid(v float64) bool {
	_, ok := s.Snap(v)
	return ok
}

// Snap returns v as a stored rating value if it is on the scale. Without
// steps (Step <= 0) that is any finite v in [Min, Max] (any v that fits a
// float32 when unbounded), rounded to float32. With steps the scale's
// values are the decimal numbers Min + k·Step for k = 0, 1, … up to Max,
// where Min and Step stand for the shortest decimals that denote them
// ("0.5", "0.1"); v must equal one of them exactly once both are parsed to
// float64, so "4.5" and "45e-1" are on the half-star scale but "4.5000004"
// is not. The result is the float32 nearest to the step. It allocates
// nothing.
func (s Scale) Snap(v float64) (float32, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < float64(s.Min) || v > float64(s.Max) {
		return 0, false
	}
	if s.Step <= 0 {
		f := float32(v)
		if math.IsInf(float64(f), 0) {
			return 0, false
		}
		return f, true
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
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return false
	}
	if s.Step <= 0 {
		return v >= s.Min && v <= s.Max
	}
	k := math.Round((float64(v) - float64(s.Min)) / float64(s.Step))
	_, f32, ok := s.step(k)
	return ok && f32 == v
}

// containsFunc returns Contains as a function that is cheap to call for
// every rating of a data set: on a stepped scale of up to 1<<20 values it
// compares with a table of the scale's float32 values, made once, where
// Contains works each value out in decimal (about 300 ns).
func (s Scale) containsFunc() func(float32) bool {
	if s.Step <= 0 || s.steps() >= 1<<20 {
		return s.Contains
	}
	vals := make([]float32, int(s.steps())+1)
	for k := range vals {
		_, f, ok := s.step(float64(k))
		if !ok {
			return s.Contains
		}
		vals[k] = f
	}
	// A product instead of a division: it may round k differently only
	// near the middle between two steps, where v is no step anyway, and
	// the table's exact comparison decides.
	inv, lo := 1/float64(s.Step), float64(s.Min)
	return func(v float32) bool {
		k := math.Round((float64(v) - lo) * inv)
		return k >= 0 && k < float64(len(vals)) && vals[int(k)] == v // false for NaN and ±Inf too
	}
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
	mm, em, negMin, ok1 := shortestDecimal(s.Min)
	ms, es, negStep, ok2 := shortestDecimal(s.Step)
	if !ok1 || !ok2 || negStep {
		return 0, 0, false
	}
	e := min(em, es)
	a, ok1 := scaleUp(mm, em-e)
	b, ok2 := scaleUp(ms, es-e)
	hi, bk := bits.Mul64(b, uint64(k))
	if !ok1 || !ok2 || hi != 0 {
		return 0, 0, false
	}
	var m uint64
	neg := false
	switch {
	case !negMin:
		var carry uint64
		if m, carry = bits.Add64(a, bk, 0); carry != 0 {
			return 0, 0, false
		}
	case bk >= a:
		m = bk - a
	default:
		m, neg = a-bk, true
	}
	var buf [32]byte
	t := buf[:0]
	if neg {
		t = append(t, '-')
	}
	t = strconv.AppendUint(t, m, 10)
	t = append(t, 'e')
	t = strconv.AppendInt(t, int64(e), 10)
	f64, err1 := strconv.ParseFloat(string(t), 64)
	f32, err2 := strconv.ParseFloat(string(t), 32)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return f64, float32(f32), true
}

// shortestDecimal returns the shortest decimal ±m·10^e that denotes the
// float32 x, with neg for a negative x; ok is false for a non-finite x.
func shortestDecimal(x float32) (m uint64, e int, neg, ok bool) {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return 0, 0, false, false
	}
	if x < 0 {
		x, neg = -x, true
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
		return 0, 0, false, false
	}
	return m, x10 - max(frac, 0), neg, true
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

// String describes the scale for error messages: "0.5 to 5 in steps of
// 0.5", "-1 to 1" or "any finite number".
func (s Scale) String() string {
	switch {
	case !s.Bounded():
		return "any finite number"
	case s.Step <= 0:
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

// ErrNoRatings is returned by ScaleDetector.Scale when it saw no value.
var ErrNoRatings = errors.New("no ratings to detect a scale from")

// ScaleDetector infers the scale of a data set from its rating values:
// the grid they lie on when it has at most 101 values (0.5:5:0.5 for
// MovieLens, 1:5:1 for Netflix, 1:10:1 for a shop), else the continuous
// range from the least to the greatest value. It never infers an unbounded
// scale: declare that. The zero value is ready to use; Add allocates only
// while fewer than 102 distinct values have been seen. It is not safe for
// concurrent use: give each goroutine its own and Merge them.
type ScaleDetector struct {
	n      int64
	lo, hi float32
	last   float32
	vals   []float32 // distinct values, until there are too many
	many   bool      // more than maxGridSteps+1 distinct values
}

// Add records one rating value (finite).
func (d *ScaleDetector) Add(v float32) {
	if d.n > 0 && v == d.last {
		d.n++
		return
	}
	if d.n == 0 {
		d.lo, d.hi = v, v
	}
	d.n++
	d.last = v
	d.lo, d.hi = min(d.lo, v), max(d.hi, v)
	if d.many {
		return
	}
	for _, x := range d.vals {
		if x == v {
			return
		}
	}
	if len(d.vals) > maxGridSteps {
		d.many, d.vals = true, nil
		return
	}
	d.vals = append(d.vals, v)
}

// Merge adds what o saw to d.
func (d *ScaleDetector) Merge(o *ScaleDetector) {
	if o.n == 0 {
		return
	}
	if o.many {
		if d.n == 0 {
			d.lo, d.hi = o.lo, o.hi
		}
		d.lo, d.hi = min(d.lo, o.lo), max(d.hi, o.hi)
		d.n += o.n
		d.many, d.vals = true, nil
		return
	}
	n := d.n + o.n
	for _, v := range o.vals {
		d.Add(v)
	}
	d.n = n
}

// Scale returns the detected scale, or ErrNoRatings.
func (d *ScaleDetector) Scale() (Scale, error) {
	if d.n == 0 {
		return Scale{}, ErrNoRatings
	}
	if s, ok := grid(d.vals, d.lo, d.hi); ok && !d.many {
		return s, nil
	}
	if d.lo == d.hi {
		return Scale{Min: d.lo, Max: d.hi, Step: 1}, nil
	}
	return Scale{Min: d.lo, Max: d.hi}, nil
}

// grid returns the coarsest stepped scale from lo to hi that holds every
// value of vals, if it has at most maxGridSteps steps.
func grid(vals []float32, lo, hi float32) (Scale, bool) {
	if len(vals) == 0 {
		return Scale{}, false
	}
	if lo == hi {
		return Scale{Min: lo, Max: hi, Step: 1}, true
	}
	// Every value as a signed integer times 10^e, e the least exponent.
	e := math.MaxInt
	for _, v := range vals {
		_, ev, _, ok := shortestDecimal(v)
		if !ok {
			return Scale{}, false
		}
		e = min(e, ev)
	}
	if e < -9 {
		return Scale{}, false
	}
	ints := make([]int64, len(vals))
	var base int64
	for i, v := range vals {
		m, ev, neg, _ := shortestDecimal(v)
		u, ok := scaleUp(m, ev-e)
		if !ok || u > math.MaxInt64/4 {
			return Scale{}, false
		}
		ints[i] = int64(u)
		if neg {
			ints[i] = -ints[i]
		}
		if v == lo {
			base = ints[i]
		}
	}
	var g uint64
	for _, x := range ints {
		g = gcd(g, uint64(x-base))
	}
	if g == 0 {
		return Scale{}, false
	}
	step, err := strconv.ParseFloat(strconv.FormatUint(g, 10)+"e"+strconv.Itoa(e), 32)
	if err != nil {
		return Scale{}, false
	}
	s := Scale{Min: lo, Max: hi, Step: float32(step)}
	if s.steps() > maxGridSteps || s.validate("") != nil {
		return Scale{}, false
	}
	for _, v := range vals {
		if !s.Contains(v) {
			return Scale{}, false
		}
	}
	return s, true
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Scale returns the engine's rating scale (Config.Scale): POSTs are checked
// against it and predictions clamped to it.
func (e *Engine) Scale() Scale { return e.cfg.Scale }

// Nearest returns the value of the scale nearest to v, as the float64
// nearest to its decimal ("0.8", not float32 0.8's 0.800000011920929):
// v clamped to [Min, Max], then on a stepped scale rounded to the nearest
// step.
func (s Scale) Nearest(v float64) float64 {
	v = s.Clamp(v)
	if s.Step <= 0 {
		return v
	}
	k := math.Round((v - float64(s.Min)) / float64(s.Step))
	if f64, _, ok := s.step(k); ok {
		return f64
	}
	return v
}
