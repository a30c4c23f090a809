package engine

import (
	"math"
	"strconv"
)

// ParseDecimal parses b as a rating value the way data tools write numbers:
// an optional sign, one or more ASCII digits, optionally '.' and one or more
// digits, optionally an exponent ('e' or 'E', an optional sign, one or more
// digits): "4", "4.5", "-1.0", "5.1e-05", "45E-1". Everything else is
// refused, in particular Go-only syntax that strconv.ParseFloat accepts
// ("0_5", "0x1p2", "inf", "nan", "Infinity"), ".5" and "5.", spaces
// anywhere and an empty b. A number too large for a float64 is refused too;
// one too small rounds to 0 (or -0). The result is the float64 nearest to
// the decimal value, always finite.
//
// The api package's body parsers and every dataset reader use it, so the
// same text is a number everywhere. It allocates nothing for inputs of up
// to 32 bytes.
func ParseDecimal(b []byte) (float64, bool) {
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	if i = digits(b, i); i < 0 {
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); i < 0 {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(b, i); i < 0 {
			return 0, false
		}
	}
	if i != len(b) {
		return 0, false
	}
	// The grammar above is a subset of strconv's decimal syntax, so
	// ParseFloat only rounds. It reports overflow (±Inf) and underflow
	// (±0) as ErrRange: keep the underflow.
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil && (math.IsInf(v, 0) || v != 0) {
		return 0, false
	}
	return v, true
}

// digits returns the index after the run of ASCII digits of b that starts
// at i, or -1 if there is none.
func digits(b []byte, i int) int {
	j := i
	for j < len(b) && b[j]-'0' <= 9 {
		j++
	}
	if j == i {
		return -1
	}
	return j
}
