package gpu_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/gpu"
)

func sampleModel(bias bool) *als.Model {
	r, _ := alstest.Synthetic(7, 5, 20, 2, 0.3, 1)
	var m als.Model
	als.Prepare(&m, r, als.Params{Rank: 3, Iterations: 1, Lambda: 0.1, Seed: 2, Bias: bias})
	if bias {
		m.UserBias[1], m.ItemBias[4] = 0.25, -1.5
	}
	return &m
}

func sampleMessages() []gpu.Message {
	r, _ := alstest.Synthetic(30, 20, 150, 2, 0.3, 3)
	empty := als.NewRatings(0, 0, nil, nil, nil)
	return []gpu.Message{
		&gpu.Hello{Version: gpu.ProtocolVersion},
		&gpu.Hello{Version: 7, Status: gpu.HelloNoDevice, Device: "", Message: "no device ✓"},
		&gpu.Hello{Version: gpu.ProtocolVersion, Status: gpu.HelloOK, Device: "NVIDIA H100 80GB HBM3 (sm_90)"},
		&gpu.Job{ID: 1, Params: als.Params{Rank: 8, Iterations: 10, Lambda: 0.1, Seed: 5}, Ratings: r},
		&gpu.Job{ID: 11, Params: als.Params{Rank: 8, Iterations: 10, Lambda: 0.1, Seed: 5, Solver: als.CG}, Ratings: r},
		&gpu.Job{ID: 12, Params: als.Params{Rank: 8, Iterations: 10, Lambda: 0.1, Seed: 5, Solver: als.Cholesky}, Ratings: r},
		&gpu.Job{ID: 2, Params: als.Params{Rank: 3, Iterations: 1, Lambda: 0.5, Seed: -9, Bias: true}, Ratings: r, Init: sampleModel(true)},
		&gpu.Job{ID: 3, Params: als.Params{Rank: -1, Iterations: -2, Lambda: math.Inf(1)}, Ratings: empty},
		&gpu.Job{ID: 8, Params: als.DefaultImplicitParams(), Ratings: r},
		&gpu.Job{ID: 13, Params: als.DefaultParams(), Ratings: r, Dataset: 77, Version: 3},
		&gpu.Job{ID: 14, Params: als.DefaultParams(), Dataset: 77, Version: 4, Base: 3, Delta: &gpu.Delta{
			NumUsers: 4, NumItems: 5, SetUser: []int32{0, 3}, SetItem: []int32{4, 1}, SetVal: []float32{4.5, 1},
			DelUser: []int32{1}, DelItem: []int32{2}}},
		&gpu.Job{ID: 15, Params: als.DefaultParams(), Dataset: 1, Version: 2, Base: 1, Delta: &gpu.Delta{NumUsers: 1, NumItems: 1,
			SetUser: []int32{}, SetItem: []int32{}, SetVal: []float32{}, DelUser: []int32{}, DelItem: []int32{}}},
		&gpu.Job{ID: 9, Params: als.Params{Objective: als.Implicit, Rank: 256, Iterations: 1, Lambda: 1e-3, Alpha: 40,
			Unobserved: 0.125, RegExponent: 2, Seed: 1 << 40}, Ratings: r},
		// Invalid values still decode: the worker's als.Params.Validate
		// answers them with CodeInvalidParams instead of ending the session.
		&gpu.Job{ID: 10, Params: als.Params{Objective: 7, Rank: 3, Iterations: 1, Lambda: 0.1, Alpha: -1,
			Unobserved: math.Inf(-1), RegExponent: 3, Bias: true}, Ratings: empty},
		// Implicit + CG with its steps (--ranking-solver cg): the device's
		// als_implicit_cg_* kernels need both. (After the jobs that
		// TestDecodeErrors takes from this list by index.)
		&gpu.Job{ID: 16, Params: als.Params{Objective: als.Implicit, Rank: 64, Iterations: 10, Lambda: 0.1, Alpha: 1,
			Unobserved: 1, RegExponent: 0.75, Seed: 5, Solver: als.CG, CGSteps: 7}, Ratings: r},
		// A warm start after a POST: Init of the Delta's shape, without
		// biases (the ranking model).
		&gpu.Job{ID: 17, Params: als.Params{Objective: als.Implicit, Rank: 3, Iterations: 3, Lambda: 0.1, Alpha: 1,
			Unobserved: 1, RegExponent: 0.75, Seed: 5}, Dataset: 77, Version: 5, Base: 4, Delta: &gpu.Delta{
			NumUsers: 7, NumItems: 5, SetUser: []int32{6}, SetItem: []int32{2}, SetVal: []float32{3.5},
			DelUser: []int32{}, DelItem: []int32{}}, Init: sampleModel(false)},
		&gpu.Cancel{ID: 1 << 60},
		&gpu.Progress{ID: 4, Iteration: als.Iteration{N: 3, Of: 10, TrainRMSE: 0.8125, Duration: 1500 * time.Millisecond, FailedRows: 7, ValidationRMSE: 0.875}},
		&gpu.Result{ID: 5, Model: sampleModel(false)},
		&gpu.Result{ID: 6, Model: sampleModel(true)},
		&gpu.JobError{ID: 7, Code: gpu.CodeInvalidParams, Message: "rank 0"},
	}
}

// TestParamsEveryField checks that a Job carries every field of als.Params:
// each field in turn is set to a non-zero value, and the decoded Params must
// equal the encoded ones. A field added to als.Params and not to the wire
// format fails here.
func TestParamsEveryField(t *testing.T) {
	r, _ := alstest.Synthetic(5, 4, 10, 2, 0.3, 4)
	typ := reflect.TypeFor[als.Params]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			var p als.Params
			v := reflect.ValueOf(&p).Elem().Field(i)
			switch v.Kind() {
			case reflect.Int, reflect.Int64:
				v.SetInt(-3)
			case reflect.Uint8:
				v.SetUint(1)
			case reflect.Float64:
				v.SetFloat(0.375)
			case reflect.Bool:
				v.SetBool(true)
			default:
				t.Fatalf("als.Params.%s has kind %v: teach the wire format and this test about it", f.Name, v.Kind())
			}
			if f.Name == "RegOffset" {
				// No field on the wire (the CUDA backend has no ridge
				// offset): refused, never dropped.
				if err := gpu.NewEncoder(io.Discard).Write(&gpu.Job{ID: 1, Params: p, Ratings: r}); !errors.Is(err, als.ErrInvalidParams) {
					t.Errorf("encoding a job with a ridge offset = %v, want an error wrapping ErrInvalidParams", err)
				}
				return
			}
			m, err := gpu.NewDecoder(bytes.NewReader(encoded(t, &gpu.Job{ID: 1, Params: p, Ratings: r}))).Next()
			if err != nil {
				t.Fatalf("Next() = %v", err)
			}
			if got := m.(*gpu.Job).Params; got != p {
				t.Errorf("Params round trip = %+v, want %+v", got, p)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	enc := gpu.NewEncoder(&buf)
	msgs := sampleMessages()
	for _, m := range msgs {
		if err := enc.Write(m); err != nil {
			t.Fatalf("Write(%T) = %v", m, err)
		}
	}
	dec := gpu.NewDecoder(&buf)
	for i, want := range msgs {
		got, err := dec.Next()
		if err != nil {
			t.Fatalf("Next() #%d = %v, want %T", i, err, want)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("message #%d (%T) round trip (-want +got):\n%s", i, want, diff)
		}
	}
	if m, err := dec.Next(); err != io.EOF {
		t.Errorf("Next() at end = %v, %v, want io.EOF", m, err)
	}
}

// frame builds a raw frame.
func frame(typ byte, payload []byte) []byte {
	b := []byte{typ}
	b = binary.LittleEndian.AppendUint64(b, uint64(len(payload)))
	return append(b, payload...)
}

func encoded(t *testing.T, m gpu.Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gpu.NewEncoder(&buf).Write(m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeErrors(t *testing.T) {
	job := encoded(t, sampleMessages()[3])
	hugeUsers := bytes.Clone(job)
	// users count sits after type(1)+len(8)+id(8)+params(75)+dataset(8)+version(8)+mode(1).
	const users = 1 + 8 + 8 + 75 + 8 + 8 + 1
	binary.LittleEndian.PutUint64(hugeUsers[users:], 1<<40)
	lying := bytes.Clone(job)
	binary.LittleEndian.PutUint64(lying[users+16:], 1<<30) // nnz larger than the frame holds
	badBias := bytes.Clone(job)
	badBias[1+8+8+24] = 2 // the bias byte: params' rank, iterations, lambda, seed come first
	badMode := bytes.Clone(job)
	badMode[users-1] = 2
	deltaJob := encoded(t, sampleMessages()[10])
	// a delta's counts: after the mode, base(8), users(8), items(8), sets(8), deletes(8).
	hugeSets := bytes.Clone(deltaJob)
	binary.LittleEndian.PutUint64(hugeSets[users+24:], 1<<30)
	noDataset := bytes.Clone(deltaJob)
	binary.LittleEndian.PutUint64(noDataset[users-17:], 0)
	tests := []struct {
		name  string
		in    []byte
		proto bool // want ErrProtocol (else a truncation error)
	}{
		{"unknown type", frame('Z', nil), true},
		{"bad magic", frame('H', []byte("XXXX\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")), true},
		{"oversized hello", append([]byte{'H'}, binary.LittleEndian.AppendUint64(nil, 1<<30)...), true},
		{"oversized job", append([]byte{'J'}, binary.LittleEndian.AppendUint64(nil, 1<<50)...), true},
		{"cancel too long", frame('C', make([]byte, 9)), true},
		{"cancel too short", frame('C', make([]byte, 7)), true},
		{"progress too long", frame('P', make([]byte, 45)), true},
		{"progress too short", frame('P', make([]byte, 43)), true},
		{"trailing bytes", frame('E', make([]byte, 9+4+1)), true},
		{"too many users", hugeUsers, true},
		{"nnz beyond frame", lying, true},
		{"bias byte 2", badBias, true},
		{"data mode 2", badMode, true},
		{"delta sets beyond frame", hugeSets, true},
		{"delta without dataset", noDataset, true},
		{"truncated job", job[:len(job)-3], false},
		{"truncated header", job[:5], false},
		{"string too long", frame('E', append(make([]byte, 9), 0xff, 0xff, 0xff, 0x7f)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := gpu.NewDecoder(bytes.NewReader(tc.in)).Next()
			if err == nil {
				t.Fatalf("Next() = %T, want an error", m)
			}
			if got := errors.Is(err, gpu.ErrProtocol); got != tc.proto {
				t.Errorf("Next() = %v; errors.Is(ErrProtocol) = %t, want %t", err, got, tc.proto)
			}
			if !tc.proto && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("Next() = %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}

func FuzzDecoder(f *testing.F) {
	for _, m := range sampleMessages() {
		var buf bytes.Buffer
		if err := gpu.NewEncoder(&buf).Write(m); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte("Error in initialization, please refer to ... NoDevice\n"))
	f.Add(frame('J', nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		dec := gpu.NewDecoder(bytes.NewReader(in))
		for range 8 {
			m, err := dec.Next()
			if err != nil {
				return
			}
			// Whatever decodes must re-encode to a stream that decodes to
			// the same message (when its slices are consistent).
			if j, ok := m.(*gpu.Job); ok && j.Ratings != nil && j.Ratings.Validate() != nil {
				continue
			}
			var buf bytes.Buffer
			if err := gpu.NewEncoder(&buf).Write(m); err != nil {
				t.Fatalf("re-encode %T: %v", m, err)
			}
			again, err := gpu.NewDecoder(&buf).Next()
			if err != nil {
				t.Fatalf("decode re-encoded %T: %v", m, err)
			}
			if diff := cmp.Diff(m, again, cmp.Comparer(func(a, b float64) bool {
				return a == b || (math.IsNaN(a) && math.IsNaN(b))
			}), cmp.Comparer(func(a, b float32) bool {
				return a == b || (a != a && b != b)
			})); diff != "" {
				t.Fatalf("re-encoded %T differs:\n%s", m, diff)
			}
		}
	})
}
