package postgres

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/engine"
)

func randomRatings(n int, seed uint64) []engine.Rating {
	r := rand.New(rand.NewPCG(seed, 1))
	rs := make([]engine.Rating, n)
	for i := range rs {
		rs[i] = engine.Rating{User: r.Int32() - 1<<30, Movie: r.Int32N(200000), Value: float32(r.IntN(10)+1) / 2, Time: r.Int64() - 1<<62}
	}
	return rs
}

// TestCopyRoundTrip encodes ratings and decodes them again, with the
// stream cut into pieces of every size from 1 byte up: tuples, the header
// and the trailer split across writes must come back whole.
func TestCopyRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 3, 1000} {
		rs := randomRatings(n, uint64(n))
		var stream bytes.Buffer
		if _, err := io.Copy(&stream, &ratingEncoder{rs: rs}); err != nil {
			t.Fatal(err)
		}
		if want := copyHeaderLen + n*tupleLen + 2; stream.Len() != want {
			t.Fatalf("%d ratings encode to %d bytes, want %d", n, stream.Len(), want)
		}
		for _, piece := range []int{1, 2, 7, tupleLen - 1, tupleLen, tupleLen + 1, 4096, 1 << 20} {
			dec := &ratingDecoder{}
			b := stream.Bytes()
			for len(b) > 0 {
				k := min(piece, len(b))
				if m, err := dec.Write(b[:k]); err != nil || m != k {
					t.Fatalf("Write(%d bytes) = %d, %v", k, m, err)
				}
				b = b[k:]
			}
			if err := dec.finish(); err != nil {
				t.Fatalf("%d ratings in pieces of %d: %v", n, piece, err)
			}
			if !cmp.Equal(rs, dec.Out) && !(n == 0 && len(dec.Out) == 0) {
				t.Fatalf("%d ratings in pieces of %d: round trip mismatch:\n%s", n, piece, cmp.Diff(rs, dec.Out))
			}
		}
		// Reading into small buffers splits tuples on the encoding side.
		enc := &ratingEncoder{rs: rs}
		var small bytes.Buffer
		buf := make([]byte, 5)
		for {
			k, err := enc.Read(buf)
			small.Write(buf[:k])
			if err == io.EOF {
				break
			}
		}
		if !bytes.Equal(small.Bytes(), stream.Bytes()) {
			t.Errorf("%d ratings read 5 bytes at a time encode differently", n)
		}
	}
}

func TestDecoderRejects(t *testing.T) {
	var stream bytes.Buffer
	io.Copy(&stream, &ratingEncoder{rs: randomRatings(2, 1)})
	good := stream.Bytes()
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"bad signature", append([]byte("PGCOPY\n\xff\r\n\x01"), good[11:]...)},
		{"null field", func() []byte {
			b := bytes.Clone(good)
			copy(b[copyHeaderLen+2:], []byte{0xff, 0xff, 0xff, 0xff})
			return b
		}()},
		{"three fields", func() []byte { b := bytes.Clone(good); b[copyHeaderLen+1] = 3; return b }()},
		{"bytes after the trailer", append(bytes.Clone(good), 0)},
	} {
		dec := &ratingDecoder{}
		if _, err := dec.Write(tc.b); err == nil {
			t.Errorf("%s: Write() = nil, want an error", tc.name)
		}
	}
	dec := &ratingDecoder{}
	dec.Write(good[:len(good)-2])
	if err := dec.finish(); err == nil {
		t.Error("finish() of a stream without its trailer = nil, want an error")
	}
}

// TestCopyAllocs checks that the hot loops allocate nothing per row.
func TestCopyAllocs(t *testing.T) {
	rs := randomRatings(10000, 2)
	var stream bytes.Buffer
	io.Copy(&stream, &ratingEncoder{rs: rs})
	buf := make([]byte, 65536)
	if a := testing.AllocsPerRun(5, func() {
		enc := ratingEncoder{rs: rs}
		for {
			if _, err := enc.Read(buf); err == io.EOF {
				break
			}
		}
	}); a > 0 {
		t.Errorf("encoding 10000 ratings allocates %.0f times, want 0", a)
	}
	out := make([]engine.Rating, 0, len(rs))
	if a := testing.AllocsPerRun(5, func() {
		dec := ratingDecoder{Out: out[:0]}
		b := stream.Bytes()
		for len(b) > 0 {
			k := min(len(b), 65536-7) // pieces that split tuples
			dec.Write(b[:k])
			b = b[k:]
		}
	}); a > 0 {
		t.Errorf("decoding 10000 ratings allocates %.0f times, want 0", a)
	}
}

func BenchmarkEncode(b *testing.B) {
	rs := randomRatings(1<<16, 3)
	buf := make([]byte, 65536)
	b.ReportAllocs()
	b.SetBytes(int64(len(rs) * tupleLen))
	for b.Loop() {
		enc := ratingEncoder{rs: rs}
		for {
			if _, err := enc.Read(buf); err == io.EOF {
				break
			}
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(rs))/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkDecode(b *testing.B) {
	rs := randomRatings(1<<16, 4)
	var stream bytes.Buffer
	io.Copy(&stream, &ratingEncoder{rs: rs})
	out := make([]engine.Rating, 0, len(rs))
	b.ReportAllocs()
	b.SetBytes(int64(stream.Len()))
	for b.Loop() {
		dec := ratingDecoder{Out: out[:0]}
		s := stream.Bytes()
		for len(s) > 0 {
			k := min(len(s), 65536)
			dec.Write(s[:k])
			s = s[k:]
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(rs))/b.Elapsed().Seconds(), "rows/s")
}
