package store_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"movierec/engine"
	"movierec/store"
)

// TestChunkRoundTrip encodes and decodes chunks, with narrow and wide
// time spans, and checks that decoding allocates nothing and rejects
// malformed chunks.
func TestChunkRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rs   []engine.Rating
	}{
		{"empty", nil},
		{"one", []engine.Rating{{User: -3, Movie: 7, Value: 4.5, Time: -5}}},
		{"narrow times", []engine.Rating{{User: 1, Movie: 1, Value: 1, Time: 1e9}, {User: 1, Movie: 2, Value: 2, Time: 1e9 + 7}, {User: 2, Movie: 1, Value: 0.5, Time: 1e9 + 3}, {User: 9, Movie: 3, Value: -2, Time: 1e9}}},
		{"wide times", []engine.Rating{{User: 1, Movie: 1, Value: 1, Time: math.MinInt64}, {User: 1, Movie: 2, Value: 2, Time: math.MaxInt64}, {User: 4, Movie: 1, Value: 3, Time: 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := store.EncodeRatingsChunk(nil, tc.rs)
			got := make([]engine.Rating, len(tc.rs))
			if err := store.DecodeRatingsChunk(got, b); err != nil {
				t.Fatalf("store.DecodeRatingsChunk() error = %v", err)
			}
			if diff := cmp.Diff(tc.rs, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("store.DecodeRatingsChunk(store.EncodeRatingsChunk()) mismatch (-want +got):\n%s", diff)
			}
			if allocs := testing.AllocsPerRun(10, func() { store.DecodeRatingsChunk(got, b) }); allocs != 0 {
				t.Errorf("store.DecodeRatingsChunk() allocates %v times", allocs)
			}
			for _, bad := range [][]byte{b[:len(b)-1], append(slices.Clone(b), 0), b[:4]} {
				if err := store.DecodeRatingsChunk(got, bad); !errors.Is(err, store.ErrBadChunk) {
					t.Errorf("store.DecodeRatingsChunk(%d of %d bytes) error = %v, want store.ErrBadChunk", len(bad), len(b), err)
				}
			}
			if err := store.DecodeRatingsChunk(make([]engine.Rating, len(tc.rs)+1), b); !errors.Is(err, store.ErrBadChunk) {
				t.Errorf("store.DecodeRatingsChunk() into a longer slice error = %v, want store.ErrBadChunk", err)
			}
		})
	}
}
