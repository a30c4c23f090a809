package store

import (
	"encoding/binary"
	"errors"
	"math"

	"movierec/engine"
)

// A ratings chunk is a run of ratings ordered by user, as both stores'
// ratings snapshots keep them (a compact copy of every rating as of one
// data version, read at start instead of the rows). A chunk is,
// little-endian:
//
//	uint32 n                    ratings in the chunk
//	uint32 runs                 then runs × (int32 user, uint32 count): users run-length coded
//	n × int32                   movies
//	n × float32                 values
//	int64 base, uint8 width     then n × uint32 (time - base) when width is 4, n × int64 times when 8
//
// The functions are pure and safe for concurrent use.

// RatingsChunkLen returns the number of ratings a chunk holds, from its
// header, or an error wrapping ErrBadChunk when it has none.
func RatingsChunkLen(b []byte) (int, error) {
	if len(b) < 8 {
		return 0, ErrBadChunk
	}
	return int(binary.LittleEndian.Uint32(b)), nil
}

// EncodeRatingsChunk appends the chunk encoding of rs (ordered by user:
// users are run-length coded) to dst.
func EncodeRatingsChunk(dst []byte, rs []engine.Rating) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(rs)))
	runsAt := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	runs := 0
	for i := 0; i < len(rs); {
		j := i + 1
		for j < len(rs) && rs[j].User == rs[i].User {
			j++
		}
		dst = binary.LittleEndian.AppendUint32(dst, uint32(rs[i].User))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(j-i))
		runs++
		i = j
	}
	binary.LittleEndian.PutUint32(dst[runsAt:], uint32(runs))
	for _, r := range rs {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(r.Movie))
	}
	for _, r := range rs {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(r.Value))
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, r := range rs {
		lo, hi = min(lo, r.Time), max(hi, r.Time)
	}
	if len(rs) == 0 {
		lo, hi = 0, 0
	}
	wide := hi-lo < 0 || hi-lo > math.MaxUint32 // the first on overflow
	dst = binary.LittleEndian.AppendUint64(dst, uint64(lo))
	if wide {
		dst = append(dst, 8)
		for _, r := range rs {
			dst = binary.LittleEndian.AppendUint64(dst, uint64(r.Time))
		}
		return dst
	}
	dst = append(dst, 4)
	for _, r := range rs {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(r.Time-lo))
	}
	return dst
}

// ErrBadChunk reports a ratings chunk that does not decode.
var ErrBadChunk = errors.New("malformed ratings snapshot chunk")

// DecodeRatingsChunk decodes a chunk into dst, which must have exactly
// the chunk's length (RatingsChunkLen). It allocates nothing.
func DecodeRatingsChunk(dst []engine.Rating, b []byte) error {
	le := binary.LittleEndian
	if len(b) < 8 || int(le.Uint32(b)) != len(dst) {
		return ErrBadChunk
	}
	n, runs := len(dst), int(le.Uint32(b[4:]))
	b = b[8:]
	if runs > n || len(b) < 8*runs+8*n+9 {
		return ErrBadChunk
	}
	k := 0
	for range runs {
		u, c := int32(le.Uint32(b)), int(le.Uint32(b[4:]))
		b = b[8:]
		if c > n-k {
			return ErrBadChunk
		}
		for i := k; i < k+c; i++ {
			dst[i].User = u
		}
		k += c
	}
	if k != n {
		return ErrBadChunk
	}
	for i := range dst {
		dst[i].Movie = int32(le.Uint32(b[4*i:]))
	}
	b = b[4*n:]
	for i := range dst {
		dst[i].Value = math.Float32frombits(le.Uint32(b[4*i:]))
	}
	b = b[4*n:]
	base, width := int64(le.Uint64(b)), b[8]
	b = b[9:]
	switch {
	case width == 4 && len(b) == 4*n:
		for i := range dst {
			dst[i].Time = base + int64(le.Uint32(b[4*i:]))
		}
	case width == 8 && len(b) == 8*n:
		for i := range dst {
			dst[i].Time = int64(le.Uint64(b[8*i:]))
		}
	default:
		return ErrBadChunk
	}
	return nil
}
