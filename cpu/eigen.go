// This file's steqrT is derived from gonum's Dsteqr
// (gonum.org/v1/gonum/lapack/gonum/dsteqr.go, v0.17.0), used under its
// licence:
//
// Copyright ©2016 The Gonum Authors. All rights reserved.
//
// Redistribution and use in source and binary forms, with or without
// modification, are permitted provided that the following conditions are met:
//   - Redistributions of source code must retain the above copyright
//     notice, this list of conditions and the following disclaimer.
//   - Redistributions in binary form must reproduce the above copyright
//     notice, this list of conditions and the following disclaimer in the
//     documentation and/or other materials provided with the distribution.
//   - Neither the name of the Gonum project nor the names of its authors and
//     contributors may be used to endorse or promote products derived from this
//     software without specific prior written permission.
//
// THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
// ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
// WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
// DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
// FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
// DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
// SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
// CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
// OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
// OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

package cpu

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack"
)

// syev is LAPACK's Dsyev (lower triangle, eigenvectors) for the
// rotation of an implicit half: on return a (n×n, row-major, stride n)
// holds the orthonormal eigenvectors by columns and w the eigenvalues in
// ascending order. work must hold at least syevWork(n) elements and zt
// n·n; both are scratch. Only a's lower triangle is read.
//
// It is Dsyev's algorithm (Householder reduction to a tridiagonal matrix,
// the reflectors accumulated into Q, implicit QL/QR on the tridiagonal
// matrix applied to Q), laid out for row-major memory:
//
//   - sytrdRows reduces the full symmetric matrix (a's lower triangle
//     mirrored), whose column below the diagonal is the row right of it,
//     with dot products and axpys over contiguous rows on the AVX2
//     kernels, where gonum's Dsytrd walks columns one row stride apart
//     with plain-Go Dsymv and Dsyr2k (0.5 of its 1.2 ms at n = 128);
//   - orgtrRows forms Qᵀ directly in zt, the layout steqrT wants;
//   - the QL/QR iteration (steqrT) applies its plane rotations to the rows
//     of the transposed eigenvector matrix, contiguous, instead of to its
//     columns (the arithmetic of gonum's Dsteqr element by element).
//
// The results agree with gonum's Dsyev to rounding (TestSyev), not bit
// for bit: the reduction sums in another order.
//
// A matrix whose largest element is outside the range where Dsyev would
// scale it is passed to gonum's Dsyev itself.
func syev(n int, a, w, work, zt []float64) bool {
	if n <= 1 {
		return lp.Dsyev(lapack.EVCompute, blas.Lower, n, a, max(n, 1), w, work, len(work))
	}
	const (
		safmin = 0x1p-1022
		eps    = 0x1p-53 * 2 // dlamchP: ε·base
	)
	smlnum := safmin / eps
	rmin, rmax := math.Sqrt(smlnum), math.Sqrt(1/smlnum)
	anrm := lp.Dlansy(lapack.MaxAbs, blas.Lower, n, a, n, work)
	if !(anrm >= rmin && anrm <= rmax) {
		return lp.Dsyev(lapack.EVCompute, blas.Lower, n, a, n, w, work, len(work))
	}
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			a[j*n+i] = a[i*n+j]
		}
	}
	e, tau, rest := work[:n], work[n:2*n], work[2*n:]
	sytrdRows(n, a, w, e, tau, rest)
	orgtrRows(n, a, tau, zt)
	if !steqrT(n, w, e, zt, work[n:]) {
		return false
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a[j*n+i] = zt[i*n+j]
		}
	}
	return true
}

// sytrdRows reduces the symmetric n×n matrix a (both triangles, row-major,
// stride n) to the tridiagonal Qᵀ·a·Q with diagonal d and subdiagonal
// e[:n-1], as LAPACK's Dsytd2 with the lower triangle: Q = H_0·…·H_{n-2},
// H_i = I − tau[i]·v·vᵀ acting on coordinates i+1 … n-1, with v = (1,
// a[i, i+2:]) on return. The column below the diagonal being the row
// right of it, every step is dot products and axpys over contiguous rows:
// p = τ·A₂₂·v, w = p − (τ/2)(pᵀv)·v, A₂₂ −= v·wᵀ + w·vᵀ on the whole
// trailing matrix. work must hold n elements.
func sytrdRows(n int, a, d, e, tau, work []float64) {
	for i := 0; i < n-1; i++ {
		m := n - i - 1
		row := a[i*n+i+1 : i*n+n]
		d[i] = a[i*n+i]
		beta, t := lp.Dlarfg(m, row[0], row[1:], 1)
		e[i], tau[i] = beta, t
		if t == 0 {
			continue
		}
		row[0] = 1
		v, p := row, work[:m]
		for r := range p {
			p[r] = t * dotArch(a[(i+1+r)*n+i+1:(i+1+r)*n+n], v)
		}
		axpyArch(-0.5*t*dotArch(p, v), v, p)
		for r := range p {
			ar := a[(i+1+r)*n+i+1 : (i+1+r)*n+n]
			axpyArch(-v[r], p, ar)
			axpyArch(-p[r], v, ar)
		}
	}
	d[n-1] = a[(n-1)*n+n-1]
}

// orgtrRows sets zt (n×n, row-major) to Qᵀ = H_{n-2}·…·H_0 for the
// reflectors sytrdRows left in a and tau, accumulated from the right
// (zt ← zt·H_i for i = n-2 … 0, from the identity): H_i changes the
// columns i+1 … n-1 of the rows i+1 … n-1 only (the others are still the
// identity's there), by a dot product and an axpy per row.
func orgtrRows(n int, a, tau, zt []float64) {
	clear(zt[:n*n])
	for j := 0; j < n; j++ {
		zt[j*n+j] = 1
	}
	for i := n - 2; i >= 0; i-- {
		t := tau[i]
		if t == 0 {
			continue
		}
		v := a[i*n+i+1 : i*n+n]
		v[0] = 1
		for r := i + 1; r < n; r++ {
			zr := zt[r*n+i+1 : r*n+n]
			axpyArch(-t*dotArch(zr, v), v, zr)
		}
	}
}

// syevWork returns the work length syev needs for order n.
func syevWork(n int) int {
	var query [1]float64
	lp.Dsyev(lapack.EVCompute, blas.Lower, n, nil, max(n, 1), nil, query[:], -1)
	return max(int(query[0]), 3*n)
}

// steqrT is gonum's Dsteqr with compz = lapack.EVOrig on the transpose
// of z: zt's rows (stride n) are z's columns on entry, and on return the
// eigenvectors. work must hold 2n-2 elements.
func steqrT(n int, d, e, zt, work []float64) bool {
	const (
		eps    = 0x1p-53 // dlamchE
		safmin = 0x1p-1022
	)
	eps2 := eps * eps
	safmax := 1 / safmin
	ssfmax := math.Sqrt(safmax) / 3
	ssfmin := math.Sqrt(safmin) / eps2
	const maxit = 30
	nmaxit := n * maxit
	jtot := 0
	l1 := 0
	nm1 := n - 1
	type scaletype int
	const (
		down scaletype = iota + 1
		up
	)
	var iscale scaletype
	// rot applies the saved rotations to mm rows of zt from row r: the
	// rows of Dsteqr's Dlasr(Right, …) on z's columns.
	rot := func(direct lapack.Direct, mm int, c, s []float64, r int) {
		rotRows(direct == lapack.Forward, mm, n, c, s, zt[r*n:], n)
	}

	for {
		if l1 > n-1 {
			// Order eigenvalues and eigenvectors.
			for ii := 1; ii < n; ii++ {
				i := ii - 1
				k := i
				p := d[i]
				for j := ii; j < n; j++ {
					if d[j] < p {
						k = j
						p = d[j]
					}
				}
				if k != i {
					d[k] = d[i]
					d[i] = p
					zi, zk := zt[i*n:i*n+n], zt[k*n:k*n+n]
					for j := range zi {
						zi[j], zk[j] = zk[j], zi[j]
					}
				}
			}
			return true
		}
		if l1 > 0 {
			e[l1-1] = 0
		}
		var m int
		if l1 <= nm1 {
			for m = l1; m < nm1; m++ {
				test := math.Abs(e[m])
				if test == 0 {
					break
				}
				if test <= (math.Sqrt(math.Abs(d[m]))*math.Sqrt(math.Abs(d[m+1])))*eps {
					e[m] = 0
					break
				}
			}
		}
		l := l1
		lsv := l
		lend := m
		lendsv := lend
		l1 = m + 1
		if lend == l {
			continue
		}

		// Scale submatrix in rows and columns L to Lend
		anorm := lp.Dlanst(lapack.MaxAbs, lend-l+1, d[l:], e[l:])
		switch {
		case anorm == 0:
			continue
		case anorm > ssfmax:
			iscale = down
			lp.Dlascl(lapack.General, 0, 0, anorm, ssfmax, lend-l+1, 1, d[l:], 1)
			lp.Dlascl(lapack.General, 0, 0, anorm, ssfmax, lend-l, 1, e[l:], 1)
		case anorm < ssfmin:
			iscale = up
			lp.Dlascl(lapack.General, 0, 0, anorm, ssfmin, lend-l+1, 1, d[l:], 1)
			lp.Dlascl(lapack.General, 0, 0, anorm, ssfmin, lend-l, 1, e[l:], 1)
		}

		// Choose between QL and QR.
		if math.Abs(d[lend]) < math.Abs(d[l]) {
			lend = lsv
			l = lendsv
		}
		if lend > l {
			// QL Iteration. Look for small subdiagonal element.
			for {
				if l != lend {
					for m = l; m < lend; m++ {
						v := math.Abs(e[m])
						if v*v <= (eps2*math.Abs(d[m]))*math.Abs(d[m+1])+safmin {
							break
						}
					}
				} else {
					m = lend
				}
				if m < lend {
					e[m] = 0
				}
				p := d[l]
				if m == l {
					l++
					if l > lend {
						break
					}
					continue
				}
				if m == l+1 {
					d[l], d[l+1], work[l], work[n-1+l] = lp.Dlaev2(d[l], e[l], d[l+1])
					rot(lapack.Backward, 2, work[l:], work[n-1+l:], l)
					e[l] = 0
					l += 2
					if l > lend {
						break
					}
					continue
				}
				if jtot == nmaxit {
					break
				}
				jtot++

				// Form shift
				g := (d[l+1] - p) / (2 * e[l])
				r := lp.Dlapy2(g, 1)
				g = d[m] - p + e[l]/(g+math.Copysign(r, g))
				s := 1.0
				c := 1.0
				p = 0.0
				for i := m - 1; i >= l; i-- {
					f := s * e[i]
					b := c * e[i]
					c, s, r = lp.Dlartg(g, f)
					if i != m-1 {
						e[i+1] = r
					}
					g = d[i+1] - p
					r = (d[i]-g)*s + 2*c*b
					p = s * r
					d[i+1] = g + p
					g = c*r - b
					work[i] = c
					work[n-1+i] = -s
				}
				rot(lapack.Backward, m-l+1, work[l:], work[n-1+l:], l)
				d[l] -= p
				e[l] = g
			}
		} else {
			// QR Iteration. Look for small superdiagonal element.
			for {
				if l != lend {
					for m = l; m > lend; m-- {
						v := math.Abs(e[m-1])
						if v*v <= (eps2*math.Abs(d[m])*math.Abs(d[m-1]) + safmin) {
							break
						}
					}
				} else {
					m = lend
				}
				if m > lend {
					e[m-1] = 0
				}
				p := d[l]
				if m == l {
					l--
					if l < lend {
						break
					}
					continue
				}
				if m == l-1 {
					d[l-1], d[l], work[m], work[n-1+m] = lp.Dlaev2(d[l-1], e[l-1], d[l])
					rot(lapack.Forward, 2, work[m:], work[n-1+m:], l-1)
					e[l-1] = 0
					l -= 2
					if l < lend {
						break
					}
					continue
				}
				if jtot == nmaxit {
					break
				}
				jtot++

				// Form shift.
				g := (d[l-1] - p) / (2 * e[l-1])
				r := lp.Dlapy2(g, 1)
				g = d[m] - p + (e[l-1])/(g+math.Copysign(r, g))
				s := 1.0
				c := 1.0
				p = 0.0
				for i := m; i < l; i++ {
					f := s * e[i]
					b := c * e[i]
					c, s, r = lp.Dlartg(g, f)
					if i != m {
						e[i-1] = r
					}
					g = d[i] - p
					r = (d[i+1]-g)*s + 2*c*b
					p = s * r
					d[i] = g + p
					g = c*r - b
					work[i] = c
					work[n-1+i] = s
				}
				rot(lapack.Forward, l-m+1, work[m:], work[n-1+m:], m)
				d[l] -= p
				e[l-1] = g
			}
		}

		// Undo scaling if necessary.
		switch iscale {
		case down:
			lp.Dlascl(lapack.General, 0, 0, ssfmax, anorm, lendsv-lsv+1, 1, d[lsv:], 1)
			lp.Dlascl(lapack.General, 0, 0, ssfmax, anorm, lendsv-lsv, 1, e[lsv:], 1)
		case up:
			lp.Dlascl(lapack.General, 0, 0, ssfmin, anorm, lendsv-lsv+1, 1, d[lsv:], 1)
			lp.Dlascl(lapack.General, 0, 0, ssfmin, anorm, lendsv-lsv, 1, e[lsv:], 1)
		}
		if jtot >= nmaxit {
			break
		}
	}
	for i := 0; i < n-1; i++ {
		if e[i] != 0 {
			return false
		}
	}
	return true
}

// rotRows is LAPACK's Dlasr(Left, Variable, direct, m, n, c, s, a, lda)
// (Forward when forward, else Backward): the rotation j, for j = 0 … m-2
// in that order, turns rows j and j+1 of a (m rows of n columns, stride
// lda) into c_j·r_j + s_j·r_{j+1} and c_j·r_{j+1} − s_j·r_j, the identity
// ones (c = 1, s = 0) skipped. The results are bit for bit Dlasr's: each
// element goes through the same products and sums in the same order;
// only the memory walk differs (rotRun).
func rotRows(forward bool, m, n int, c, s, a []float64, lda int) {
	if m < 2 || n == 0 {
		return
	}
	_ = a[(m-1)*lda+n-1]
	_, _ = c[m-2], s[m-2]
	for j := 0; j < m-1; {
		if c[j] == 1 && s[j] == 0 {
			j++
			continue
		}
		e := j + 1
		for e < m-1 && !(c[e] == 1 && s[e] == 0) {
			e++
		}
		// Rotations j … e-1 act on rows j … e, which no other run of
		// non-identity rotations touches: runs can go in any order.
		rotRun(forward, e-j+1, n, c[j:e], s[j:e], a[j*lda:], lda)
		j = e
	}
}

// rotRun applies rotations 0 … rows-2 (none the identity) to rows 0 …
// rows-1 of a, column by column: the row being rotated is carried from
// one rotation to the next (in registers, on AVX), so each row is loaded
// and stored once instead of twice per rotation, and the columns are
// independent chains.
func rotRun(forward bool, rows, n int, c, s, a []float64, lda int) {
	done := rotRunArch(forward, rows, n, c, s, a, lda)
	for i := done; i < n; i++ {
		if forward {
			carry := a[i]
			for j := 0; j < rows-1; j++ {
				tmp := a[(j+1)*lda+i]
				a[j*lda+i] = s[j]*tmp + c[j]*carry
				carry = c[j]*tmp - s[j]*carry
			}
			a[(rows-1)*lda+i] = carry
		} else {
			carry := a[(rows-1)*lda+i]
			for j := rows - 2; j >= 0; j-- {
				tmp2 := a[j*lda+i]
				a[(j+1)*lda+i] = c[j]*carry - s[j]*tmp2
				carry = s[j]*carry + c[j]*tmp2
			}
			a[i] = carry
		}
	}
}
