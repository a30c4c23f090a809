package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"movierec/api"
)

func FuzzParseRatingLines(f *testing.F) {
	for _, s := range []string{
		"260,4.5\n1,4\n", " 1 , 4 \r\n\r\n2,0.5", "1,NaN", "1,+Inf", "0,4", "-1,4", "2147483648,4", "1,4,5", "1",
		"", "\n\n", ",", "1,", ",4", "1,4\n2;3\n", "1,1e400", "1,0x1p-2", "+1,4", "1,4\x00", "१,४",
		"1,0_5", "1,0x1p2", "1,inf", "1,nan", "1,4 .5", "1,5.1e-05", "1,45E-1", "1,.5", "1,5.",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := api.ParseRatingLines(body)
		if err != nil {
			if !errors.Is(err, api.ErrBadRequest) {
				t.Errorf("ParseRatingLines(%q) error = %v, want one wrapping ErrBadRequest", body, err)
			}
			return
		}
		if len(got) == 0 {
			t.Errorf("ParseRatingLines(%q) accepted no ratings", body)
		}
		// Each accepted value is the number in its line's second field,
		// which has the plain decimal syntax.
		var fields []string
		for l := range strings.SplitSeq(string(body), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				_, f, _ := strings.Cut(l, ",")
				fields = append(fields, strings.TrimSpace(f))
			}
		}
		if len(fields) != len(got) {
			t.Fatalf("ParseRatingLines(%q) = %d ratings from %d lines", body, len(got), len(fields))
		}
		for i, r := range got {
			if r.Movie < 0 || math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
				t.Errorf("ParseRatingLines(%q) accepted %+v", body, r)
			}
			v, err := strconv.ParseFloat(fields[i], 64)
			if !decimalSyntax.MatchString(fields[i]) || err != nil || v != r.Value {
				t.Errorf("ParseRatingLines(%q) accepted rating %q as %v, want only plain decimals", body, fields[i], r.Value)
			}
		}
	})
}

func FuzzParseRatingsJSON(f *testing.F) {
	for _, s := range []string{
		`[{"movie_id":1,"rating":4}]`, `[]`, `null`, `{}`, `[null]`, `[{"movie_id":1}]`, `[{"movie_id":1,"rating":1e999}]`,
		`[{"movie_id":"1","rating":4}]`, `[{"movie_id":1,"rating":4,"x":1}]`, `[{"movie_id":1,"rating":4}] x`, `[{"movie_id":-0,"rating":-0}]`,
		`[{"movie_id":1,"rating":4,"rating":5}]`, `[{"movie_id":1,"Rating":4}]`, `[{"MOVIE_ID":1,"movie_id":2,"rating":4}]`,
		`[{"movie_id":1,"rating":4}][]`, `[{"movie_id":1,"rating":4.5000004}]`, `[{"movie_id":1,"rating":5.1e-05}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := api.ParseRatingsJSON(body)
		if err != nil {
			if !errors.Is(err, api.ErrBadRequest) {
				t.Errorf("ParseRatingsJSON(%q) error = %v, want one wrapping ErrBadRequest", body, err)
			}
			return
		}
		if len(got) == 0 {
			t.Errorf("ParseRatingsJSON(%q) accepted no ratings", body)
		}
		for _, r := range got {
			if r.Movie < 0 || math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
				t.Errorf("ParseRatingsJSON(%q) accepted %+v", body, r)
			}
		}
		// Every accepted object has exactly the keys movie_id and rating,
		// once each, spelt in lower case.
		if keys := objectKeys(body); len(keys) != len(got) {
			t.Errorf("ParseRatingsJSON(%q) = %d ratings from %d objects", body, len(got), len(keys))
		} else {
			for _, k := range keys {
				if slices.Sort(k); !slices.Equal(k, []string{"movie_id", "rating"}) {
					t.Errorf("ParseRatingsJSON(%q) accepted an object with keys %q", body, k)
				}
			}
		}
	})
}

// decimalSyntax is the number syntax both body parsers accept for a rating.
var decimalSyntax = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// objectKeys returns the keys of each object in a JSON array, in order,
// duplicates kept, read with a plain token walk; nil for anything else.
func objectKeys(body []byte) [][]string {
	var all [][]string
	if err := json.Unmarshal(body, new([]json.RawMessage)); err != nil {
		return nil
	}
	var elems []json.RawMessage
	_ = json.Unmarshal(body, &elems)
	for _, e := range elems {
		dec := json.NewDecoder(bytes.NewReader(e))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			all = append(all, nil)
			continue
		}
		var keys []string
		for dec.More() {
			k, _ := dec.Token()
			keys = append(keys, k.(string))
			var skip json.RawMessage
			_ = dec.Decode(&skip)
		}
		all = append(all, keys)
	}
	return all
}
