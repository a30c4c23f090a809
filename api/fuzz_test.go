package api_test

import (
	"errors"
	"math"
	"testing"

	"movierec/api"
)

func FuzzParseRatingLines(f *testing.F) {
	for _, s := range []string{
		"260,4.5\n1,4\n", " 1 , 4 \r\n\r\n2,0.5", "1,NaN", "1,+Inf", "0,4", "-1,4", "2147483648,4", "1,4,5", "1",
		"", "\n\n", ",", "1,", ",4", "1,4\n2;3\n", "1,1e400", "1,0x1p-2", "+1,4", "1,4\x00", "१,४",
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
		for _, r := range got {
			if r.Movie <= 0 || math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
				t.Errorf("ParseRatingLines(%q) accepted %+v", body, r)
			}
		}
	})
}

func FuzzParseRatingsJSON(f *testing.F) {
	for _, s := range []string{
		`[{"movie_id":1,"rating":4}]`, `[]`, `null`, `{}`, `[null]`, `[{"movie_id":1}]`, `[{"movie_id":1,"rating":1e999}]`,
		`[{"movie_id":"1","rating":4}]`, `[{"movie_id":1,"rating":4,"x":1}]`, `[{"movie_id":1,"rating":4}] x`, `[{"movie_id":-0,"rating":-0}]`,
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
			if r.Movie <= 0 || math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
				t.Errorf("ParseRatingsJSON(%q) accepted %+v", body, r)
			}
		}
	})
}
