//go:build cuda

package gpu

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"

	"movierec/als"
	"movierec/kernels"
)

// devCSR is one orientation of the ratings on the device: row pointers,
// column indices and values, with the capacities allocated (entries), so
// that the next version reuses the buffers when it fits.
type devCSR struct {
	ptr, idx, val  cu.DevicePtr
	ptrCap, valCap int64
}

// devRatings is a version of the ratings held on the device between Fits:
// r is the host Ratings its arrays equal (by pointer: als.Ratings is
// immutable), nil when the buffers hold nothing usable.
type devRatings struct {
	r            *als.Ratings
	users, items devCSR
}

// residentMode says how a Fit got its ratings onto the device.
type residentMode string

const (
	residentHeld  residentMode = "held"  // already there: nothing sent
	residentPatch residentMode = "patch" // the held version patched (gpu.Patch)
	residentFull  residentMode = "full"  // sent in full
)

// ensure makes c's buffers hold at least rows+1 pointers and nnz entries,
// reallocating (with 1/64 room to grow, as the worker's host buffers) when
// they are too small; a reallocated buffer's contents are undefined.
func (c *devCSR) ensure(rows, nnz int64) error {
	if c.ptrCap < rows+1 {
		c.freePtr()
		n := rows + 1 + (rows+1)/64
		p, err := cu.MemAlloc(8 * max(n, 2))
		if err != nil {
			return fmt.Errorf("gpu: cuMemAlloc resident row pointers (%d): %w", n, err)
		}
		c.ptr, c.ptrCap = p, n
	}
	if c.valCap < nnz {
		c.freeEntries()
		n := nnz + nnz/64
		i, err := cu.MemAlloc(4 * max(n, 4))
		if err != nil {
			return fmt.Errorf("gpu: cuMemAlloc resident indices (%d): %w", n, err)
		}
		v, err := cu.MemAlloc(4 * max(n, 4))
		if err != nil {
			_ = cu.MemFree(i)
			return fmt.Errorf("gpu: cuMemAlloc resident values (%d): %w", n, err)
		}
		c.idx, c.val, c.valCap = i, v, n
	}
	return nil
}

func (c *devCSR) freePtr() {
	if c.ptr != 0 {
		_ = cu.MemFree(c.ptr)
	}
	c.ptr, c.ptrCap = 0, 0
}

func (c *devCSR) freeEntries() {
	if c.idx != 0 {
		_ = cu.MemFree(c.idx)
	}
	if c.val != 0 {
		_ = cu.MemFree(c.val)
	}
	c.idx, c.val, c.valCap = 0, 0, 0
}

func (h *devRatings) free() {
	for _, c := range []*devCSR{&h.users, &h.items} {
		c.freePtr()
		c.freeEntries()
	}
	h.r = nil
}

// bytes returns the device memory h's buffers take.
func (h *devRatings) bytes() int64 {
	return 8*(h.users.ptrCap+h.items.ptrCap) + 8*(h.users.valCap+h.items.valCap)
}

// resident makes the device hold r in d.held and returns how, and the
// bytes it sent: nothing when it already does; when pt (non-nil) says r
// was built from the held version, the held arrays patched into the spare
// buffers (kernels.CopyRuns) and the two swapped, sending the row pointers,
// the run tables and the new entries only; otherwise all of r, into the
// held buffers (the spare ones freed first, so that a full upload never
// needs two copies). On error nothing is held. It runs on the device
// goroutine.
func (d *Device) resident(r *als.Ratings, pt *Patch) (residentMode, int64, error) {
	if d.held.r == r {
		return residentHeld, 0, nil
	}
	if pt != nil && d.held.r != nil && pt.Base == d.held.r && pt.Result == r {
		n, err := d.patch(r, pt)
		if err == nil {
			d.held, d.spare = d.spare, d.held
			d.held.r, d.spare.r = r, nil
			return residentPatch, n, nil
		}
		d.log.Warn("patching the held ratings failed; sending them in full", "err", err)
	}
	d.spare.free()
	d.held.r = nil
	nnz := int64(r.NNZ())
	var sent int64
	for _, c := range []struct {
		dev  *devCSR
		ptr  []int64
		idx  []int32
		val  []float32
		name string
	}{
		{&d.held.users, r.UserPtr, r.UserIdx, r.UserVal, "users"},
		{&d.held.items, r.ItemPtr, r.ItemIdx, r.ItemVal, "items"},
	} {
		if err := c.dev.ensure(int64(len(c.ptr))-1, nnz); err != nil {
			d.held.free()
			return "", 0, err
		}
		for _, m := range []struct {
			what string
			dst  cu.DevicePtr
			src  unsafe.Pointer
			n    int64
		}{
			{"row pointers", c.dev.ptr, sliceData(c.ptr), 8 * int64(len(c.ptr))},
			{"indices", c.dev.idx, sliceData(c.idx), 4 * nnz},
			{"values", c.dev.val, sliceData(c.val), 4 * nnz},
		} {
			if m.n == 0 {
				continue
			}
			if err := cu.MemcpyHtoD(m.dst, m.src, m.n); err != nil {
				d.held.free()
				return "", 0, fmt.Errorf("gpu: cuMemcpyHtoD %s %s (%d bytes): %w", c.name, m.what, m.n, err)
			}
			sent += m.n
		}
	}
	d.held.r = r
	return residentFull, sent, nil
}

// patch builds pt.Result in d.spare from d.held (which holds pt.Base):
// per orientation, Result's row pointers uploaded, then als_copy_runs
// over the held arrays' runs and over the staged new entries. It
// synchronises and returns the bytes sent; on error d.spare holds nothing
// usable (d.held is untouched).
func (d *Device) patch(r *als.Ratings, pt *Patch) (int64, error) {
	d.spare.r = nil
	nnz := int64(r.NNZ())
	var sent int64
	for _, c := range []struct {
		dst, src *devCSR
		cp       *CSRPatch
		ptr      []int64
		idx      []int32
		val      []float32
		name     string
	}{
		{&d.spare.users, &d.held.users, &pt.Users, r.UserPtr, r.UserIdx, r.UserVal, "users"},
		{&d.spare.items, &d.held.items, &pt.Items, r.ItemPtr, r.ItemIdx, r.ItemVal, "items"},
	} {
		if err := c.dst.ensure(int64(len(c.ptr))-1, nnz); err != nil {
			return 0, err
		}
		if err := cu.MemcpyHtoD(c.dst.ptr, sliceData(c.ptr), 8*int64(len(c.ptr))); err != nil {
			return 0, fmt.Errorf("gpu: cuMemcpyHtoD %s row pointers: %w", c.name, err)
		}
		sent += 8 * int64(len(c.ptr))
		u := &d.patchBuf
		u.plan(c.cp, c.idx, c.val)
		n, err := d.copyRuns(c.src.idx, c.src.val, c.dst, u.oldRuns, nil, nil)
		if err != nil {
			return 0, fmt.Errorf("gpu: %s (%s, held runs): %w", kernels.CopyRuns, c.name, err)
		}
		sent += n
		n, err = d.copyRuns(0, 0, c.dst, u.newRuns, u.stagedIdx, u.stagedVal)
		if err != nil {
			return 0, fmt.Errorf("gpu: %s (%s, new entries): %w", kernels.CopyRuns, c.name, err)
		}
		sent += n
	}
	if err := cu.Synchronize(); err != nil {
		return 0, fmt.Errorf("gpu: %s: cuCtxSynchronize: %w", kernels.CopyRuns, err)
	}
	return sent, nil
}

// copyRuns uploads runs (and, when stagedIdx is non-nil, the staged
// entries, which are then the source instead of srcIdx, srcVal) into a
// scratch buffer and launches als_copy_runs into dst. It synchronises
// before freeing the scratch buffer and returns the bytes sent.
func (d *Device) copyRuns(srcIdx, srcVal cu.DevicePtr, dst *devCSR, runs []int64, stagedIdx []int32, stagedVal []float32) (int64, error) {
	nruns := len(runs) / 3
	if nruns == 0 {
		return 0, nil
	}
	runBytes, stagedBytes := 8*int64(len(runs)), 4*int64(len(stagedIdx))
	scratch, err := cu.MemAlloc(runBytes + 2*stagedBytes)
	if err != nil {
		return 0, fmt.Errorf("cuMemAlloc scratch (%d bytes): %w", runBytes+2*stagedBytes, err)
	}
	defer func() { _ = cu.MemFree(scratch) }()
	runsDev := scratch
	if err := cu.MemcpyHtoD(runsDev, sliceData(runs), runBytes); err != nil {
		return 0, fmt.Errorf("cuMemcpyHtoD runs: %w", err)
	}
	if stagedIdx != nil {
		srcIdx = scratch + cu.DevicePtr(runBytes)
		srcVal = srcIdx + cu.DevicePtr(stagedBytes)
		if err := cu.MemcpyHtoD(srcIdx, sliceData(stagedIdx), stagedBytes); err != nil {
			return 0, fmt.Errorf("cuMemcpyHtoD staged indices: %w", err)
		}
		if err := cu.MemcpyHtoD(srcVal, sliceData(stagedVal), stagedBytes); err != nil {
			return 0, fmt.Errorf("cuMemcpyHtoD staged values: %w", err)
		}
	}
	args := []unsafe.Pointer{
		unsafe.Pointer(&srcIdx), unsafe.Pointer(&srcVal), unsafe.Pointer(&dst.idx), unsafe.Pointer(&dst.val),
		unsafe.Pointer(&runsDev), unsafe.Pointer(argInt(nruns)),
	}
	grid := min(nruns, maxGridX)
	if err := d.fnCopyRuns.Launch(grid, 1, 1, copyRunsThreads, 1, 1, 0, cu.NoStream, args); err != nil {
		return 0, fmt.Errorf("cuLaunchKernel (%d runs, grid %d): %w", nruns, grid, err)
	}
	if err := cu.Synchronize(); err != nil {
		return 0, fmt.Errorf("cuCtxSynchronize: %w", err)
	}
	return runBytes + 2*stagedBytes, nil
}

// copyRunsThreads is als_copy_runs' block size (its __launch_bounds__).
const copyRunsThreads = 256

// Patched tells d that the next Fit's ratings (pt.Result) were built from
// pt.Base by pt, so that when d still holds pt.Base on the device it can
// patch it instead of receiving pt.Result in full. pt is read during that
// Fit only, and must not change until it returns; the worker calls
// Patched and Fit from one goroutine. It implements Patcher.
func (d *Device) Patched(pt *Patch) {
	d.fitMu.Lock()
	d.pending = pt
	d.fitMu.Unlock()
}

var _ Patcher = (*Device)(nil)
