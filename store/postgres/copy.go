package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"

	"movierec/engine"
)

// PostgreSQL's binary COPY format, for the four columns of ratings
// (user_id integer, movie_id integer, rating real, ts bigint): a header,
// then one tuple per row (a field count, then each field's length and
// big-endian bytes), then a trailer (field count -1).

// copySignature starts every binary COPY stream.
const copySignature = "PGCOPY\n\xff\r\n\x00"

// copyHeaderLen is the signature, the flags and the header extension's
// length.
const copyHeaderLen = len(copySignature) + 4 + 4

// tupleLen is one ratings tuple: count(2) + 3×(len(4)+4) + len(4)+8.
const tupleLen = 2 + 3*(4+4) + 4 + 8

// putTuple encodes r into b[:tupleLen].
func putTuple(b []byte, r *engine.Rating) {
	_ = b[tupleLen-1]
	binary.BigEndian.PutUint16(b[0:], 4)
	binary.BigEndian.PutUint32(b[2:], 4)
	binary.BigEndian.PutUint32(b[6:], uint32(r.User))
	binary.BigEndian.PutUint32(b[10:], 4)
	binary.BigEndian.PutUint32(b[14:], uint32(r.Movie))
	binary.BigEndian.PutUint32(b[18:], 4)
	binary.BigEndian.PutUint32(b[22:], math.Float32bits(r.Value))
	binary.BigEndian.PutUint32(b[26:], 8)
	binary.BigEndian.PutUint64(b[30:], uint64(r.Time))
}

// errBadTuple reports a tuple that is not four non-null fields of the
// ratings columns' sizes.
var errBadTuple = errors.New("copy: unexpected tuple layout")

// getTuple decodes b[:tupleLen] into r.
func getTuple(b []byte, r *engine.Rating) error {
	_ = b[tupleLen-1]
	if binary.BigEndian.Uint16(b[0:]) != 4 || binary.BigEndian.Uint32(b[2:]) != 4 || binary.BigEndian.Uint32(b[10:]) != 4 ||
		binary.BigEndian.Uint32(b[18:]) != 4 || binary.BigEndian.Uint32(b[26:]) != 8 {
		return errBadTuple
	}
	r.User = int32(binary.BigEndian.Uint32(b[6:]))
	r.Movie = int32(binary.BigEndian.Uint32(b[14:]))
	r.Value = math.Float32frombits(binary.BigEndian.Uint32(b[22:]))
	r.Time = int64(binary.BigEndian.Uint64(b[30:]))
	return nil
}

// ratingEncoder is an io.Reader of ratings in binary COPY format. It
// allocates nothing per row. Done counts the rows read so far and may be
// read from other goroutines.
type ratingEncoder struct {
	rs      []engine.Rating
	next    int // index of the next rating to encode
	started bool
	pend    [tupleLen]byte // a tuple, header or trailer that did not fit
	npend   int            // bytes of pend still to hand out, from its end
	ended   bool           // the trailer is encoded
	Done    atomic.Int64
}

func (e *ratingEncoder) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if e.npend > 0 {
			k := copy(p[n:], e.pend[len(e.pend)-e.npend:])
			e.npend -= k
			n += k
			continue
		}
		switch {
		case !e.started:
			e.started = true
			e.stage(copyHeader[:])
		case e.next < len(e.rs):
			if len(p)-n >= tupleLen {
				// The fast path: whole tuples straight into p.
				m := min((len(p)-n)/tupleLen, len(e.rs)-e.next)
				for i := range m {
					putTuple(p[n+i*tupleLen:], &e.rs[e.next+i])
				}
				e.next += m
				n += m * tupleLen
				e.Done.Store(int64(e.next))
				continue
			}
			var t [tupleLen]byte
			putTuple(t[:], &e.rs[e.next])
			e.next++
			e.Done.Store(int64(e.next))
			e.stage(t[:])
		case !e.ended:
			e.ended = true
			e.stage([]byte{0xff, 0xff})
		default:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
	}
	return n, nil
}

// stage puts b (at most tupleLen bytes) at the end of pend, to be handed
// out next.
func (e *ratingEncoder) stage(b []byte) {
	copy(e.pend[len(e.pend)-len(b):], b)
	e.npend = len(b)
}

// copyHeader is the header of a stream with no flags and no extension.
var copyHeader = func() (h [copyHeaderLen]byte) {
	copy(h[:], copySignature)
	return h
}()

// ratingDecoder is an io.Writer that decodes a binary COPY stream of
// ratings and appends them to Out. It allocates nothing per row (Out grows
// by doubling unless sized beforehand). Done counts the rows decoded so
// far and may be read from other goroutines.
type ratingDecoder struct {
	Out   []engine.Rating
	Done  atomic.Int64
	state int // decodeHeader, decodeExt, decodeTuples, decodeEnded
	ext   int // header extension bytes still to skip
	buf   [tupleLen]byte
	nbuf  int
}

const (
	decodeHeader = iota
	decodeExt
	decodeTuples
	decodeEnded
)

func (d *ratingDecoder) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		switch d.state {
		case decodeHeader:
			k := copy(d.buf[d.nbuf:copyHeaderLen], p)
			d.nbuf += k
			p = p[k:]
			if d.nbuf < copyHeaderLen {
				continue
			}
			if string(d.buf[:len(copySignature)]) != copySignature {
				return 0, fmt.Errorf("copy: not a binary COPY stream")
			}
			d.ext = int(binary.BigEndian.Uint32(d.buf[len(copySignature)+4:]))
			d.nbuf = 0
			d.state = decodeExt
		case decodeExt:
			k := min(d.ext, len(p))
			d.ext -= k
			p = p[k:]
			if d.ext == 0 {
				d.state = decodeTuples
			}
		case decodeTuples:
			if d.nbuf > 0 || len(p) < tupleLen {
				// A tuple split across writes, or the trailer.
				if d.nbuf < 2 {
					k := copy(d.buf[d.nbuf:2], p)
					d.nbuf += k
					p = p[k:]
					if d.nbuf < 2 {
						continue
					}
				}
				if d.buf[0] == 0xff && d.buf[1] == 0xff {
					d.nbuf = 0
					d.state = decodeEnded
					continue
				}
				k := copy(d.buf[d.nbuf:], p)
				d.nbuf += k
				p = p[k:]
				if d.nbuf < tupleLen {
					continue
				}
				d.nbuf = 0
				if err := d.add(d.buf[:]); err != nil {
					return 0, err
				}
				continue
			}
			for len(p) >= tupleLen {
				if p[0] == 0xff && p[1] == 0xff {
					break
				}
				if err := d.add(p); err != nil {
					return 0, err
				}
				p = p[tupleLen:]
			}
			if len(p) >= 2 && p[0] == 0xff && p[1] == 0xff {
				p = p[2:]
				d.state = decodeEnded
			}
		case decodeEnded:
			return 0, fmt.Errorf("copy: %d bytes after the trailer", len(p))
		}
	}
	return total, nil
}

// add decodes one tuple and appends it.
func (d *ratingDecoder) add(b []byte) error {
	d.Out = append(d.Out, engine.Rating{})
	if err := getTuple(b, &d.Out[len(d.Out)-1]); err != nil {
		return err
	}
	if len(d.Out)%4096 == 0 {
		d.Done.Store(int64(len(d.Out)))
	}
	return nil
}

// finish reports whether the stream ended with its trailer, and readies d
// for another stream (appending to Out).
func (d *ratingDecoder) finish() error {
	d.Done.Store(int64(len(d.Out)))
	if d.state != decodeEnded {
		return fmt.Errorf("copy: stream ended without its trailer")
	}
	d.state, d.nbuf = decodeHeader, 0
	return nil
}
