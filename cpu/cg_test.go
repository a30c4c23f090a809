package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"movierec/als"
)

// TestSdotsSaxpys checks sdots and saxpys (the AVX2 assembly where the CPU
// has it) and their plain-Go versions against float64 sums for every
// k = 1..260 and row counts around the kernels' group of four, including
// the table's last row (whose masked tail ends the slice).
func TestSdotsSaxpys(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for k := 1; k <= 260; k++ {
		const rows = 40
		src := make([]float32, rows*k)
		for j := range src {
			src[j] = float32(rng.NormFloat64())
		}
		p := make([]float32, k)
		for j := range p {
			p[j] = float32(rng.NormFloat64())
		}
		for _, n := range []int{0, 1, 3, 4, 5, 9} {
			idx := make([]int32, n)
			for j := range idx {
				idx[j] = int32(rng.IntN(rows))
			}
			if n > 0 {
				idx[n-1] = rows - 1
			}
			w := make([]float32, n)
			for j := range w {
				w[j] = float32(rng.NormFloat64())
			}
			// float64 references and the error scales Σ|terms|.
			wantT := make([]float64, n)
			scaleT := make([]float64, n)
			wantA := make([]float64, k)
			scaleA := make([]float64, k)
			for j, it := range idx {
				row := src[int(it)*k : int(it)*k+k]
				for c, v := range row {
					wantT[j] += float64(v) * float64(p[c])
					scaleT[j] += math.Abs(float64(v) * float64(p[c]))
					wantA[c] += float64(w[j]) * float64(v)
					scaleA[c] += math.Abs(float64(w[j]) * float64(v))
				}
			}
			for _, impl := range []struct {
				name   string
				dots   func(t, src []float32, k int, idx []int32, p []float32)
				axpys  func(dst, src []float32, k int, idx []int32, t []float32)
				sentry bool
			}{
				{"asm", sdots, saxpys, true},
				{"go", sdotsGo, saxpysGo, false},
			} {
				got := make([]float32, n+1)
				got[n] = 42 // must stay
				impl.dots(got, src, k, idx, p)
				for j := range n {
					if d := math.Abs(float64(got[j]) - wantT[j]); d > 1e-6*(scaleT[j]+1e-30)*float64(k) {
						t.Fatalf("%s sdots k=%d n=%d: t[%d] = %v, want %v", impl.name, k, n, j, got[j], wantT[j])
					}
				}
				if got[n] != 42 {
					t.Fatalf("%s sdots k=%d n=%d wrote past t[%d]", impl.name, k, n, n-1)
				}
				dst := make([]float32, k+1)
				dst[k] = 42
				impl.axpys(dst, src, k, idx, w)
				for c := range k {
					if d := math.Abs(float64(dst[c]) - wantA[c]); d > 1e-6*(scaleA[c]+1e-30)*float64(n+1) {
						t.Fatalf("%s saxpys k=%d n=%d: dst[%d] = %v, want %v", impl.name, k, n, c, dst[c], wantA[c])
					}
				}
				if dst[k] != 42 {
					t.Fatalf("%s saxpys k=%d n=%d wrote past dst[%d]", impl.name, k, n, k-1)
				}
			}
		}
	}
}

// TestSdotsPanics checks that sdots and saxpys reject an index out of
// range and short slices.
func TestSdotsPanics(t *testing.T) {
	src := make([]float32, 12)
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"sdots index", func() { sdots(make([]float32, 1), src, 4, []int32{3}, make([]float32, 4)) }},
		{"sdots short t", func() { sdots(nil, src, 4, []int32{0}, make([]float32, 4)) }},
		{"sdots short p", func() { sdots(make([]float32, 1), src, 4, []int32{0}, make([]float32, 3)) }},
		{"saxpys index", func() { saxpys(make([]float32, 4), src, 4, []int32{-1}, make([]float32, 1)) }},
		{"saxpys short dst", func() { saxpys(make([]float32, 3), src, 4, []int32{0}, make([]float32, 1)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", tc.name)
				}
			}()
			tc.fn()
		})
	}
}

// TestSolveRowCGConverges checks that enough CG steps reach the Cholesky
// solution of every test row, explicit (with and without biases) and
// implicit, from a zero and from a random start, and that the row solve
// allocates nothing.
func TestSolveRowCGConverges(t *testing.T) {
	for _, k := range []int{1, 8, 33, 64} {
		for _, tc := range []struct {
			name     string
			bias     bool
			implicit bool
		}{{"explicit", false, false}, {"bias", true, false}, {"implicit", false, true}} {
			t.Run(fmt.Sprintf("k=%d/%s", k, tc.name), func(t *testing.T) {
				h := testHalf(testLens, k, tc.bias, uint64(k))
				if tc.implicit {
					p := als.DefaultImplicitParams()
					p.Rank = k
					h.imp = &implicitHalf{p: p, fixed: len(h.fixed) / k, ld: gramDim(k), gram: make([]float64, gramDim(k)*gramDim(k)), diag: make([]float64, k)}
					ws := defaultKernel.newWorkspace(k, 1000)
					team := newTeam([]*workspace{ws}, 0, false)
					fixedGram(team, h, newImplicitScratch(h.imp.ld, len(h.fixed)/k, k))
					team.close()
					h.imp.positive = make([]bool, h.rows())
					cgShared(h)
				}
				kern := defaultKernel
				ws := kern.newWorkspace(h.kp, 1000)
				kern.growImplicit(ws, k)
				kern.growCG(ws, k, h.kp)
				want := make([][]float64, h.rows())
				for row := range want {
					if !kern.solveRow(ws, h, row) {
						t.Fatalf("row %d: Cholesky failed", row)
					}
					want[row] = append([]float64(nil), ws.b[:h.kp]...)
				}
				h.cg = min(als.MaxCGSteps, 4*h.kp)
				rng := rand.New(rand.NewPCG(1, 2))
				for row, n := range testLens {
					x := h.dst[row*k : row*k+k]
					for c := range x {
						x[c] = float32(rng.NormFloat64())
					}
					if !kern.solveRow(ws, h, row) {
						t.Fatalf("row %d (n=%d): CG failed", row, n)
					}
					if n == 0 {
						continue
					}
					var d, s float64
					for c, v := range x {
						d = max(d, math.Abs(float64(v)-want[row][c]))
						s = max(s, math.Abs(want[row][c]))
					}
					if h.bias {
						d = max(d, math.Abs(float64(h.dstBias[row])-want[row][k]))
					}
					if d > 2e-3*s+1e-5 {
						t.Errorf("row %d (n=%d): CG differs from Cholesky by %.3g (max |x| %.3g)", row, n, d, s)
					}
				}
				h.cg = 3
				if a := testing.AllocsPerRun(10, func() { kern.solveRow(ws, h, len(testLens)-1) }); a != 0 {
					t.Errorf("solveRowCG allocates %v times per row, want 0", a)
				}
			})
		}
	}
}
