package gpu

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
	"unsafe"

	"movierec/als"
)

// The worker protocol runs over the worker's stdin (client → worker) and
// stdout (worker → client). Both directions are a sequence of frames:
//
//	type    uint8   one of 'H' 'J' 'C' 'P' 'R' 'E'
//	length  uint64  payload bytes, little-endian
//	payload
//
// All integers and floats are little-endian. A string is a uint32 byte count
// and the bytes; an array is a uint64 element count and the elements.
//
// A session starts with each side sending a Hello (the client first); the
// worker's Hello carries its device name, or the reason it has none. Then
// the client sends Jobs one at a time. For each job the worker sends
// Progress frames, one per iteration, and ends with exactly one Result or
// JobError carrying the job's ID. A Cancel with that ID asks the worker to
// stop between iterations (it answers with a JobError of code
// CodeCanceled). The client closes stdin to stop the worker.

// ProtocolVersion is the version both sides put in their Hello. A worker
// that receives another version answers with a Hello of status
// HelloBadVersion and exits.
//
// Version 2 added the implicit objective's fields to a Job's Params
// (Objective, Alpha, Unobserved, RegExponent): a version-1 worker would
// read them as the ratings' header, so the version says it first.
// Version 3 added the solver's fields (Solver, CGSteps, Tolerance) to a
// Job's Params and FailedRows to Progress (als.Iteration.FailedRows).
// Version 4 added resident data: a Job names a dataset and version, and
// carries either all ratings or a Delta from a version the worker holds
// (CodeStaleData when it does not).
// Version 5 added Validation to a Job's Params (early stopping on a
// held-out share, which the CUDA worker ignores: it trains on every
// rating and runs every iteration) and ValidationRMSE to Progress.
// Version 6 added Patience to a Job's Params (early stopping again, which
// the CUDA worker ignores).
const ProtocolVersion = 6

// protocolMagic starts every Hello payload.
const protocolMagic = "MRCW"

// Limits on what a Decoder accepts, beyond which a frame is rejected before
// anything is allocated for it. Arrays are also checked against the header
// counts of their message and against the bytes left in the frame, and they
// are read in pieces, so memory grows only with data actually received.
const (
	MaxFrameBytes  = 1 << 40       // payload of one frame
	MaxStringBytes = 1 << 20       // one string
	MaxRows        = math.MaxInt32 // users or items (indices are int32)
	MaxNNZ         = 1 << 36       // ratings in one job
)

type frameType uint8

const (
	frameHello    frameType = 'H'
	frameJob      frameType = 'J'
	frameCancel   frameType = 'C'
	frameProgress frameType = 'P'
	frameResult   frameType = 'R'
	frameError    frameType = 'E'
)

// ErrProtocol is wrapped by every Decoder error caused by malformed input
// (as opposed to a read error of the underlying stream, which is returned
// wrapped as is; io.EOF at a frame boundary is returned unwrapped).
var ErrProtocol = errors.New("gpu: worker protocol violation")

// Message is one of *Hello, *Job, *Cancel, *Progress, *Result, *JobError.
type Message interface{ frame() frameType }

// HelloStatus says whether the worker is ready to train.
type HelloStatus uint8

// Hello statuses.
const (
	HelloOK         HelloStatus = 0 // ready; Device names it
	HelloNoDevice   HelloStatus = 1 // no usable device; Message says why
	HelloError      HelloStatus = 2 // the worker cannot train; Message says why
	HelloBadVersion HelloStatus = 3 // the peer's version is not supported
)

// Hello opens a session in each direction.
type Hello struct {
	Version uint32
	Status  HelloStatus
	Device  string // the worker's device, e.g. "NVIDIA H100 80GB HBM3 (sm_90)"
	Message string
}

// Job is one training request.
//
// Init, when non-nil, is the model to start from instead of als.Prepare's
// random factors (a warm start, als.WarmSolver: the engine's retrain of
// the ranking model from the published one): the worker fits with
// als.PrepareFrom(dst, ratings, Params, Init). It must suit Params
// (als.WarmCompatible) and have exactly a row per user and per item of the
// job's ratings (after its Delta); the worker checks that before it
// touches the ratings it holds, and answers CodeInvalidJob otherwise.
// Init travels over the pipe in full, rank×(users+items)×4 bytes (~113 MB
// for ML-25M at rank 128, tens of milliseconds): far less than the seven
// GPU iterations a warm start saves. The wire format has carried Init
// since version 1; workers built before warm starts (also version 6)
// answer any Init with CodeInvalidJob, and the Client then reports
// als.ErrNoWarmStart (see Client.FitFrom) rather than refuse the worker
// altogether, which a new version would make it do.
//
// Resident data: a Job with a non-zero Dataset asks the worker to keep its
// ratings as version Version of that dataset after the job (replacing what
// it kept before). Such a Job carries either all its Ratings (Delta nil) or,
// with Ratings nil, a Delta from version Base of the same dataset, which the
// worker must hold; when it does not (a restart, a failed job, another
// dataset) it answers CodeStaleData and the client resends in full. Dataset
// 0 means "do not keep", and then Delta must be nil.
type Job struct {
	ID      uint64
	Params  als.Params
	Ratings *als.Ratings
	Init    *als.Model

	Dataset uint64
	Version uint64
	Base    uint64 // with Delta: the version it applies to
	Delta   *Delta
}

// Cancel asks the worker to stop job ID between iterations.
type Cancel struct{ ID uint64 }

// Progress reports one finished iteration of job ID.
type Progress struct {
	ID        uint64
	Iteration als.Iteration
}

// Result carries the trained model of job ID.
type Result struct {
	ID    uint64
	Model *als.Model
}

// ErrorCode classifies a JobError.
type ErrorCode uint8

// Job error codes.
const (
	CodeInternal      ErrorCode = 0 // the solver failed (device error, …)
	CodeInvalidParams ErrorCode = 1 // als.Params.Validate failed
	CodeInvalidJob    ErrorCode = 2 // the ratings or the initial model are malformed
	CodeCanceled      ErrorCode = 3 // the job was cancelled
	CodeStaleData     ErrorCode = 4 // a Delta's base is not the version the worker holds
)

// JobError ends job ID without a model.
type JobError struct {
	ID      uint64
	Code    ErrorCode
	Message string
}

func (*Hello) frame() frameType    { return frameHello }
func (*Job) frame() frameType      { return frameJob }
func (*Cancel) frame() frameType   { return frameCancel }
func (*Progress) frame() frameType { return frameProgress }
func (*Result) frame() frameType   { return frameResult }
func (*JobError) frame() frameType { return frameError }

// littleEndian is true on hosts whose memory layout matches the wire, where
// arrays are copied as bytes.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// ---------------------------------------------------------------- encoder

// Encoder writes frames. It is not safe for concurrent use.
type Encoder struct {
	w   *bufio.Writer
	buf []byte
}

// NewEncoder returns an Encoder writing to w through its own buffer; each
// Write flushes.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write encodes m as one frame and flushes it. It panics on a Job or Result
// whose slices disagree with their dimensions (a programmer error).
func (e *Encoder) Write(m Message) error {
	b := e.buf[:0]
	switch m := m.(type) {
	case *Hello:
		b = append(b, protocolMagic...)
		b = binary.LittleEndian.AppendUint32(b, m.Version)
		b = append(b, byte(m.Status))
		b = appendString(b, m.Device)
		b = appendString(b, m.Message)
	case *Cancel:
		b = binary.LittleEndian.AppendUint64(b, m.ID)
	case *Progress:
		b = binary.LittleEndian.AppendUint64(b, m.ID)
		b = binary.LittleEndian.AppendUint32(b, uint32(m.Iteration.N))
		b = binary.LittleEndian.AppendUint32(b, uint32(m.Iteration.Of))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.Iteration.TrainRMSE))
		b = binary.LittleEndian.AppendUint64(b, uint64(m.Iteration.Duration))
		b = binary.LittleEndian.AppendUint32(b, uint32(m.Iteration.FailedRows))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.Iteration.ValidationRMSE))
	case *JobError:
		b = binary.LittleEndian.AppendUint64(b, m.ID)
		b = append(b, byte(m.Code))
		b = appendString(b, m.Message)
	case *Job:
		return e.writeJob(m)
	case *Result:
		return e.writeResult(m)
	default:
		panic(fmt.Sprintf("gpu: Encoder.Write of %T", m))
	}
	e.buf = b
	if err := e.header(m.frame(), uint64(len(b))); err != nil {
		return err
	}
	if _, err := e.w.Write(b); err != nil {
		return err
	}
	return e.w.Flush()
}

func appendString(b []byte, s string) []byte {
	if len(s) > MaxStringBytes {
		s = s[:MaxStringBytes]
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func (e *Encoder) header(t frameType, n uint64) error {
	var h [9]byte
	h[0] = byte(t)
	binary.LittleEndian.PutUint64(h[1:], n)
	_, err := e.w.Write(h[:])
	return err
}

// A Job's Params on the wire (paramsBytes): rank uint32, iterations uint32,
// lambda float64, seed int64, bias uint8 (0 or 1), objective uint8, alpha
// float64, unobserved float64, reg exponent float64, solver uint8, CG steps
// uint32, tolerance float64, validation float64, patience uint32. The
// decoder checks only what it must to stay in sync (the bias byte); the
// values themselves, the
// objective included, are checked by als.Params.Validate in the worker, which
// answers an invalid job with a JobError (CodeInvalidParams) instead of
// ending the session.
const (
	paramsBytes = 4 + 4 + 8 + 8 + 1 + 1 + 8 + 8 + 8 + 1 + 4 + 8 + 8 + 4
	arrayHdr    = 8
)

func modelBytes(m *als.Model) uint64 {
	n := uint64(4+8+8+1+4) + 4*arrayHdr
	n += 4 * uint64(len(m.UserFactors)+len(m.ItemFactors)+len(m.UserBias)+len(m.ItemBias))
	return n
}

func checkModel(m *als.Model) {
	ok := m.Rank >= 0 && len(m.UserFactors) == m.NumUsers*m.Rank && len(m.ItemFactors) == m.NumItems*m.Rank
	if m.Bias {
		ok = ok && len(m.UserBias) == m.NumUsers && len(m.ItemBias) == m.NumItems
	} else {
		ok = ok && len(m.UserBias) == 0 && len(m.ItemBias) == 0
	}
	if !ok {
		panic(fmt.Sprintf("gpu: encode model: slices do not match rank %d, %d users, %d items, bias %t",
			m.Rank, m.NumUsers, m.NumItems, m.Bias))
	}
}

func checkRatings(r *als.Ratings) {
	nnz := len(r.UserIdx)
	if len(r.UserPtr) != r.NumUsers+1 || len(r.ItemPtr) != r.NumItems+1 || len(r.UserVal) != nnz ||
		len(r.ItemIdx) != nnz || len(r.ItemVal) != nnz {
		panic("gpu: encode ratings: slices do not match their dimensions")
	}
}

// A Job on the wire: id, params, dataset uint64, version uint64, mode uint8,
// then for mode 0 (all ratings) users, items, nnz and the six CSR arrays, or
// for mode 1 (a Delta) base uint64, users, items, sets, deletes and the
// arrays set users, set items, set values, deleted users, deleted items;
// then the init flag and model.
const (
	modeFull  = 0
	modeDelta = 1
)

func deltaBytes(d *Delta) uint64 {
	n := uint64(8 + 8 + 8 + 8 + 8) // base, users, items, sets, deletes
	n += 5*arrayHdr + 12*uint64(len(d.SetUser)) + 8*uint64(len(d.DelUser))
	return n
}

func checkDelta(d *Delta) {
	if len(d.SetItem) != len(d.SetUser) || len(d.SetVal) != len(d.SetUser) || len(d.DelItem) != len(d.DelUser) {
		panic("gpu: encode delta: lists of unequal lengths")
	}
}

func (e *Encoder) writeJob(j *Job) error {
	if j.Params.RegOffset != 0 {
		// The wire has no field for it, as the CUDA backend has no ridge
		// offset; the client refuses such fits (checkParams) before this.
		return fmt.Errorf("gpu: encode job: %w: the protocol does not carry a ridge offset (%g)", als.ErrInvalidParams, j.Params.RegOffset)
	}
	r := j.Ratings
	if j.Delta != nil {
		if r != nil || j.Dataset == 0 {
			panic("gpu: encode job: a Delta needs a dataset and no Ratings")
		}
		checkDelta(j.Delta)
	} else {
		checkRatings(r)
	}
	if j.Init != nil {
		checkModel(j.Init)
	}
	n := uint64(8) + paramsBytes + 8 + 8 + 1 // id, params, dataset, version, mode
	var nnz uint64
	if j.Delta != nil {
		n += deltaBytes(j.Delta)
	} else {
		nnz = uint64(len(r.UserIdx))
		n += 8 + 8 + 8 // users, items, nnz
		n += 6*arrayHdr + 8*uint64(r.NumUsers+1+r.NumItems+1) + 2*8*nnz
	}
	n++ // init flag
	if j.Init != nil {
		n += modelBytes(j.Init)
	}
	if err := e.header(frameJob, n); err != nil {
		return err
	}
	b := binary.LittleEndian.AppendUint64(e.buf[:0], j.ID)
	p := j.Params
	b = binary.LittleEndian.AppendUint32(b, uint32(p.Rank))
	b = binary.LittleEndian.AppendUint32(b, uint32(p.Iterations))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Lambda))
	b = binary.LittleEndian.AppendUint64(b, uint64(p.Seed))
	b = append(b, boolByte(p.Bias))
	b = append(b, byte(p.Objective))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Alpha))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Unobserved))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.RegExponent))
	b = append(b, byte(p.Solver))
	b = binary.LittleEndian.AppendUint32(b, uint32(p.CGSteps))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Tolerance))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Validation))
	b = binary.LittleEndian.AppendUint32(b, uint32(p.Patience))
	b = binary.LittleEndian.AppendUint64(b, j.Dataset)
	b = binary.LittleEndian.AppendUint64(b, j.Version)
	if d := j.Delta; d != nil {
		b = append(b, modeDelta)
		b = binary.LittleEndian.AppendUint64(b, j.Base)
		b = binary.LittleEndian.AppendUint64(b, uint64(d.NumUsers))
		b = binary.LittleEndian.AppendUint64(b, uint64(d.NumItems))
		b = binary.LittleEndian.AppendUint64(b, uint64(len(d.SetUser)))
		b = binary.LittleEndian.AppendUint64(b, uint64(len(d.DelUser)))
		e.buf = b
		if _, err := e.w.Write(b); err != nil {
			return err
		}
		for _, s := range [][]int32{d.SetUser, d.SetItem} {
			if err := writeArray(e, s); err != nil {
				return err
			}
		}
		if err := writeArray(e, d.SetVal); err != nil {
			return err
		}
		for _, s := range [][]int32{d.DelUser, d.DelItem} {
			if err := writeArray(e, s); err != nil {
				return err
			}
		}
	} else {
		b = append(b, modeFull)
		b = binary.LittleEndian.AppendUint64(b, uint64(r.NumUsers))
		b = binary.LittleEndian.AppendUint64(b, uint64(r.NumItems))
		b = binary.LittleEndian.AppendUint64(b, nnz)
		e.buf = b
		if _, err := e.w.Write(b); err != nil {
			return err
		}
		if err := writeCSR(e, r); err != nil {
			return err
		}
	}
	if j.Init == nil {
		if err := e.w.WriteByte(0); err != nil {
			return err
		}
	} else {
		if err := e.w.WriteByte(1); err != nil {
			return err
		}
		if err := e.model(j.Init); err != nil {
			return err
		}
	}
	return e.w.Flush()
}

func writeCSR(e *Encoder, r *als.Ratings) error {
	if err := writeArray(e, r.UserPtr); err != nil {
		return err
	}
	if err := writeArray(e, r.UserIdx); err != nil {
		return err
	}
	if err := writeArray(e, r.UserVal); err != nil {
		return err
	}
	if err := writeArray(e, r.ItemPtr); err != nil {
		return err
	}
	if err := writeArray(e, r.ItemIdx); err != nil {
		return err
	}
	return writeArray(e, r.ItemVal)
}

func (e *Encoder) writeResult(r *Result) error {
	checkModel(r.Model)
	if err := e.header(frameResult, 8+modelBytes(r.Model)); err != nil {
		return err
	}
	e.buf = binary.LittleEndian.AppendUint64(e.buf[:0], r.ID)
	if _, err := e.w.Write(e.buf); err != nil {
		return err
	}
	if err := e.model(r.Model); err != nil {
		return err
	}
	return e.w.Flush()
}

func (e *Encoder) model(m *als.Model) error {
	b := binary.LittleEndian.AppendUint32(e.buf[:0], uint32(m.Rank))
	b = binary.LittleEndian.AppendUint64(b, uint64(m.NumUsers))
	b = binary.LittleEndian.AppendUint64(b, uint64(m.NumItems))
	b = append(b, boolByte(m.Bias))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(m.Mean))
	e.buf = b
	if _, err := e.w.Write(b); err != nil {
		return err
	}
	for _, s := range [][]float32{m.UserFactors, m.ItemFactors, m.UserBias, m.ItemBias} {
		if err := writeArray(e, s); err != nil {
			return err
		}
	}
	return nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// progressBytes is a Progress payload: id, N, Of, RMSE, duration, failed
// rows, held-out RMSE.
const progressBytes = 8 + 4 + 4 + 8 + 8 + 4 + 8

type wireNum interface{ int32 | int64 | float32 }

// writeArray writes len(s) and the elements.
func writeArray[T wireNum](e *Encoder, s []T) error {
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(len(s)))
	if _, err := e.w.Write(hdr[:]); err != nil {
		return err
	}
	if len(s) == 0 {
		return nil
	}
	size := int(unsafe.Sizeof(s[0]))
	if littleEndian {
		_, err := e.w.Write(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*size))
		return err
	}
	const piece = 1 << 14
	for len(s) > 0 {
		m := min(len(s), piece)
		b := e.buf[:0]
		for _, v := range s[:m] {
			switch v := any(v).(type) {
			case int32:
				b = binary.LittleEndian.AppendUint32(b, uint32(v))
			case int64:
				b = binary.LittleEndian.AppendUint64(b, uint64(v))
			case float32:
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			}
		}
		e.buf = b
		if _, err := e.w.Write(b); err != nil {
			return err
		}
		s = s[m:]
	}
	return nil
}

// ---------------------------------------------------------------- decoder

// Decoder reads frames. It never panics on malformed input, and the memory
// it allocates for a frame is bounded by the limits above, by the counts in
// the frame's own header fields, and (to within a factor of two) by the
// bytes actually received (see SetPrealloc). It is not safe for concurrent use.
type Decoder struct {
	r        *bufio.Reader
	left     uint64 // payload bytes of the current frame not yet read
	buf      []byte
	prealloc uint64 // see SetPrealloc; 0 means DefaultPrealloc
}

// DefaultPrealloc is the largest array, in bytes, that a Decoder allocates
// at its full size from the array's header before its bytes arrive.
const DefaultPrealloc = 1 << 20

// SetPrealloc sets the largest array, in bytes, that d allocates at its full
// size as soon as its header is checked against the frame's length (larger
// arrays grow by doubling as their bytes arrive). The worker and the Client
// trust their peer and set it to MaxFrameBytes, so that a 400 MB array is
// allocated once and read in place; fuzzing keeps the default.
func (d *Decoder) SetPrealloc(bytes uint64) { d.prealloc = bytes }

func (d *Decoder) preallocBytes() uint64 {
	if d.prealloc == 0 {
		return DefaultPrealloc
	}
	return d.prealloc
}

// NewDecoder returns a Decoder reading from r through its own buffer.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 64<<10)}
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// Next reads one frame. It returns io.EOF when the stream ends cleanly
// before a frame, an error wrapping io.ErrUnexpectedEOF when it ends inside
// one, and an error wrapping ErrProtocol for malformed frames. After an
// error the stream position is undefined: stop reading.
func (d *Decoder) Next() (Message, error) {
	var h [9]byte
	if _, err := io.ReadFull(d.r, h[:]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read frame header: %w", err)
	}
	t := frameType(h[0])
	d.left = binary.LittleEndian.Uint64(h[1:])
	maxLen := map[frameType]uint64{
		frameHello:    4 + 4 + 1 + 2*(4+MaxStringBytes),
		frameCancel:   8,
		frameProgress: progressBytes,
		frameError:    8 + 1 + 4 + MaxStringBytes,
		frameJob:      MaxFrameBytes,
		frameResult:   MaxFrameBytes,
	}
	lim, ok := maxLen[t]
	if !ok {
		return nil, malformed("unknown frame type %#x", h[0])
	}
	if d.left > lim {
		return nil, malformed("frame %q of %d bytes exceeds %d", t, d.left, lim)
	}
	var m Message
	var err error
	switch t {
	case frameHello:
		m, err = d.hello()
	case frameCancel:
		var id uint64
		id, err = d.u64()
		m = &Cancel{ID: id}
	case frameProgress:
		m, err = d.progress()
	case frameError:
		m, err = d.jobError()
	case frameJob:
		m, err = d.job()
	case frameResult:
		m, err = d.result()
	}
	if err != nil {
		return nil, fmt.Errorf("decode frame %q: %w", t, err)
	}
	if d.left != 0 {
		return nil, malformed("frame %q has %d trailing bytes", t, d.left)
	}
	return m, nil
}

// read fills b from the current frame.
func (d *Decoder) read(b []byte) error {
	if uint64(len(b)) > d.left {
		return malformed("field of %d bytes overruns the frame (%d left)", len(b), d.left)
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	d.left -= uint64(len(b))
	return nil
}

func (d *Decoder) fixed(n int) ([]byte, error) {
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	b := d.buf[:n]
	return b, d.read(b)
}

func (d *Decoder) u8() (uint8, error) {
	b, err := d.fixed(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (d *Decoder) u32() (uint32, error) {
	b, err := d.fixed(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *Decoder) u64() (uint64, error) {
	b, err := d.fixed(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (d *Decoder) boolean() (bool, error) {
	v, err := d.u8()
	if err != nil {
		return false, err
	}
	if v > 1 {
		return false, malformed("boolean byte %d", v)
	}
	return v == 1, nil
}

func (d *Decoder) str() (string, error) {
	n, err := d.u32()
	if err != nil {
		return "", err
	}
	if n > MaxStringBytes {
		return "", malformed("string of %d bytes", n)
	}
	b, err := d.fixed(int(n))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (d *Decoder) hello() (*Hello, error) {
	b, err := d.fixed(4)
	if err != nil {
		return nil, err
	}
	if string(b) != protocolMagic {
		return nil, malformed("bad magic %q", b)
	}
	h := &Hello{}
	if h.Version, err = d.u32(); err != nil {
		return nil, err
	}
	st, err := d.u8()
	if err != nil {
		return nil, err
	}
	h.Status = HelloStatus(st)
	if h.Device, err = d.str(); err != nil {
		return nil, err
	}
	if h.Message, err = d.str(); err != nil {
		return nil, err
	}
	return h, nil
}

func (d *Decoder) progress() (*Progress, error) {
	b, err := d.fixed(progressBytes)
	if err != nil {
		return nil, err
	}
	p := &Progress{ID: binary.LittleEndian.Uint64(b)}
	p.Iteration.FailedRows = int(binary.LittleEndian.Uint32(b[32:]))
	p.Iteration.N = int(binary.LittleEndian.Uint32(b[8:]))
	p.Iteration.Of = int(binary.LittleEndian.Uint32(b[12:]))
	p.Iteration.TrainRMSE = math.Float64frombits(binary.LittleEndian.Uint64(b[16:]))
	p.Iteration.Duration = time.Duration(binary.LittleEndian.Uint64(b[24:]))
	p.Iteration.ValidationRMSE = math.Float64frombits(binary.LittleEndian.Uint64(b[36:]))
	return p, nil
}

func (d *Decoder) jobError() (*JobError, error) {
	id, err := d.u64()
	if err != nil {
		return nil, err
	}
	c, err := d.u8()
	if err != nil {
		return nil, err
	}
	msg, err := d.str()
	if err != nil {
		return nil, err
	}
	return &JobError{ID: id, Code: ErrorCode(c), Message: msg}, nil
}

func (d *Decoder) job() (*Job, error) {
	j := &Job{}
	var err error
	if j.ID, err = d.u64(); err != nil {
		return nil, err
	}
	b, err := d.fixed(paramsBytes)
	if err != nil {
		return nil, err
	}
	j.Params = als.Params{
		Rank:       int(int32(binary.LittleEndian.Uint32(b))),
		Iterations: int(int32(binary.LittleEndian.Uint32(b[4:]))),
		Lambda:     math.Float64frombits(binary.LittleEndian.Uint64(b[8:])),
		Seed:       int64(binary.LittleEndian.Uint64(b[16:])),
		// b[24] is the bias byte, checked below.
		Objective:   als.Objective(b[25]),
		Alpha:       math.Float64frombits(binary.LittleEndian.Uint64(b[26:])),
		Unobserved:  math.Float64frombits(binary.LittleEndian.Uint64(b[34:])),
		RegExponent: math.Float64frombits(binary.LittleEndian.Uint64(b[42:])),
		Solver:      als.Method(b[50]),
		CGSteps:     int(int32(binary.LittleEndian.Uint32(b[51:]))),
		Tolerance:   math.Float64frombits(binary.LittleEndian.Uint64(b[55:])),
		Validation:  math.Float64frombits(binary.LittleEndian.Uint64(b[63:])),
		Patience:    int(int32(binary.LittleEndian.Uint32(b[71:]))),
	}
	if b[24] > 1 {
		return nil, malformed("bias byte %d", b[24])
	}
	j.Params.Bias = b[24] == 1
	if j.Dataset, err = d.u64(); err != nil {
		return nil, err
	}
	if j.Version, err = d.u64(); err != nil {
		return nil, err
	}
	mode, err := d.u8()
	if err != nil {
		return nil, err
	}
	switch mode {
	case modeFull:
		if j.Ratings, err = d.ratings(); err != nil {
			return nil, err
		}
	case modeDelta:
		if j.Dataset == 0 {
			return nil, malformed("delta without a dataset")
		}
		if j.Base, err = d.u64(); err != nil {
			return nil, err
		}
		if j.Delta, err = d.delta(); err != nil {
			return nil, err
		}
	default:
		return nil, malformed("job data mode %d", mode)
	}
	hasInit, err := d.boolean()
	if err != nil {
		return nil, err
	}
	if hasInit {
		if j.Init, err = d.model(); err != nil {
			return nil, err
		}
	}
	return j, nil
}

func (d *Decoder) ratings() (*als.Ratings, error) {
	users, err := d.count("users", MaxRows)
	if err != nil {
		return nil, err
	}
	items, err := d.count("items", MaxRows)
	if err != nil {
		return nil, err
	}
	nnz, err := d.count("ratings", MaxNNZ)
	if err != nil {
		return nil, err
	}
	// The arrays alone need this many bytes; reject before allocating.
	need := 6*arrayHdr + 8*(users+1+items+1) + 16*nnz
	if need > d.left {
		return nil, malformed("%d users, %d items, %d ratings need %d bytes, frame has %d", users, items, nnz, need, d.left)
	}
	r := &als.Ratings{NumUsers: int(users), NumItems: int(items)}
	if r.UserPtr, err = readArray[int64](d, "user pointers", users+1); err != nil {
		return nil, err
	}
	if r.UserIdx, err = readArray[int32](d, "user indices", nnz); err != nil {
		return nil, err
	}
	if r.UserVal, err = readArray[float32](d, "user values", nnz); err != nil {
		return nil, err
	}
	if r.ItemPtr, err = readArray[int64](d, "item pointers", items+1); err != nil {
		return nil, err
	}
	if r.ItemIdx, err = readArray[int32](d, "item indices", nnz); err != nil {
		return nil, err
	}
	if r.ItemVal, err = readArray[float32](d, "item values", nnz); err != nil {
		return nil, err
	}
	return r, nil
}

func (d *Decoder) delta() (*Delta, error) {
	users, err := d.count("users", MaxRows)
	if err != nil {
		return nil, err
	}
	items, err := d.count("items", MaxRows)
	if err != nil {
		return nil, err
	}
	sets, err := d.count("set ratings", MaxNNZ)
	if err != nil {
		return nil, err
	}
	dels, err := d.count("deleted ratings", MaxNNZ)
	if err != nil {
		return nil, err
	}
	if need := 5*arrayHdr + 12*sets + 8*dels; need > d.left {
		return nil, malformed("%d sets, %d deletes need %d bytes, frame has %d", sets, dels, need, d.left)
	}
	dl := &Delta{NumUsers: int(users), NumItems: int(items)}
	if dl.SetUser, err = readArray[int32](d, "set users", sets); err != nil {
		return nil, err
	}
	if dl.SetItem, err = readArray[int32](d, "set items", sets); err != nil {
		return nil, err
	}
	if dl.SetVal, err = readArray[float32](d, "set values", sets); err != nil {
		return nil, err
	}
	if dl.DelUser, err = readArray[int32](d, "deleted users", dels); err != nil {
		return nil, err
	}
	if dl.DelItem, err = readArray[int32](d, "deleted items", dels); err != nil {
		return nil, err
	}
	return dl, nil
}

func (d *Decoder) count(what string, max uint64) (uint64, error) {
	n, err := d.u64()
	if err != nil {
		return 0, err
	}
	if n > max {
		return 0, malformed("%d %s exceeds %d", n, what, max)
	}
	return n, nil
}

func (d *Decoder) result() (*Result, error) {
	id, err := d.u64()
	if err != nil {
		return nil, err
	}
	m, err := d.model()
	if err != nil {
		return nil, err
	}
	return &Result{ID: id, Model: m}, nil
}

func (d *Decoder) model() (*als.Model, error) {
	b, err := d.fixed(4 + 8 + 8 + 1 + 4)
	if err != nil {
		return nil, err
	}
	rank := uint64(binary.LittleEndian.Uint32(b))
	users := binary.LittleEndian.Uint64(b[4:])
	items := binary.LittleEndian.Uint64(b[12:])
	if rank > als.MaxRank || users > MaxRows || items > MaxRows {
		return nil, malformed("model of rank %d, %d users, %d items", rank, users, items)
	}
	if b[20] > 1 {
		return nil, malformed("bias byte %d", b[20])
	}
	m := &als.Model{Rank: int(rank), NumUsers: int(users), NumItems: int(items), Bias: b[20] == 1,
		Mean: math.Float32frombits(binary.LittleEndian.Uint32(b[21:]))}
	nb := uint64(0)
	if m.Bias {
		nb = 1
	}
	need := 4*arrayHdr + 4*(users*rank+items*rank+nb*(users+items))
	if need > d.left {
		return nil, malformed("model needs %d bytes, frame has %d", need, d.left)
	}
	if m.UserFactors, err = readArray[float32](d, "user factors", users*rank); err != nil {
		return nil, err
	}
	if m.ItemFactors, err = readArray[float32](d, "item factors", items*rank); err != nil {
		return nil, err
	}
	if m.UserBias, err = readArray[float32](d, "user biases", nb*users); err != nil {
		return nil, err
	}
	if m.ItemBias, err = readArray[float32](d, "item biases", nb*items); err != nil {
		return nil, err
	}
	if !m.Bias {
		m.UserBias, m.ItemBias = nil, nil
	}
	return m, nil
}

// readArray reads an array that must hold exactly want elements. The result
// is allocated once, at its full size, when that is at most d.prealloc
// bytes (the peer is trusted to send what its header promises); a larger
// array is grown by doubling as the bytes arrive, so that a forged header
// cannot make the decoder allocate much more than it received.
func readArray[T wireNum](d *Decoder, what string, want uint64) ([]T, error) {
	n, err := d.u64()
	if err != nil {
		return nil, err
	}
	if n != want {
		return nil, malformed("%s: %d elements, want %d", what, n, want)
	}
	var zero T
	size := uint64(unsafe.Sizeof(zero))
	if n*size > d.left {
		return nil, malformed("%s: %d elements overrun the frame (%d bytes left)", what, n, d.left)
	}
	const piece = 1 << 16
	first := n
	if n*size > d.preallocBytes() {
		first = min(n, piece)
	}
	out := make([]T, 0, first)
	for uint64(len(out)) < n {
		m := int(min(n-uint64(len(out)), piece))
		if littleEndian {
			old := len(out)
			if cap(out)-old < m {
				out = slices.Grow(out, max(m, min(int(n)-old, old)))
			}
			out = out[:old+m]
			dst := unsafe.Slice((*byte)(unsafe.Pointer(&out[old])), m*int(size))
			if err := d.read(dst); err != nil {
				return nil, err
			}
			continue
		}
		b, err := d.fixed(m * int(size))
		if err != nil {
			return nil, err
		}
		for i := 0; i < m; i++ {
			var v T
			switch p := any(&v).(type) {
			case *int32:
				*p = int32(binary.LittleEndian.Uint32(b[4*i:]))
			case *int64:
				*p = int64(binary.LittleEndian.Uint64(b[8*i:]))
			case *float32:
				*p = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
			out = append(out, v)
		}
	}
	return out, nil
}
