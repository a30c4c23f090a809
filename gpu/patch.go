package gpu

import "movierec/als"

// Patch says how Delta.ApplyPatch built a Ratings (Result) from another
// (Base), in terms that a device holding Base's arrays can replay without
// receiving all of Result's: for each orientation, the runs of entries
// copied from Base and the runs of entries that are Result's own (set
// ratings). Row pointers are not described: they are small (8 bytes a row
// against 8 a rating) and a device uploads Result's.
//
// A Patch holds its own slices and is reused by the next ApplyPatch; it is
// not safe for concurrent use. Base and Result identify the two versions by
// pointer (als.Ratings is immutable once built).
type Patch struct {
	Base, Result *als.Ratings
	Users, Items CSRPatch
}

// CSRPatch describes one orientation of a Patch. Old holds (src, dst, n)
// triplets: Result's idx[dst:dst+n] and val[dst:dst+n] equal Base's
// [src:src+n]. New holds (dst, n) pairs: entries of Result that come from no
// run of Base (their contents are Result's own). Both lists are in
// ascending dst order, adjacent runs are merged, and together they cover
// every entry of Result exactly once.
type CSRPatch struct {
	Old []int64
	New []int64
}

// Entries returns the number of entries the New runs hold.
func (c *CSRPatch) Entries() int64 {
	var n int64
	for k := 1; k < len(c.New); k += 2 {
		n += c.New[k]
	}
	return n
}

func (c *CSRPatch) reset() {
	if c != nil {
		c.Old, c.New = c.Old[:0], c.New[:0]
	}
}

// old records Result[dst:dst+n] = Base[src:src+n]; c may be nil.
func (c *CSRPatch) old(src, dst, n int64) {
	if c == nil || n == 0 {
		return
	}
	if k := len(c.Old); k > 0 && c.Old[k-3]+c.Old[k-1] == src && c.Old[k-2]+c.Old[k-1] == dst {
		c.Old[k-1] += n
		return
	}
	c.Old = append(c.Old, src, dst, n)
}

// own records that Result[dst:dst+n] is Result's own; c may be nil.
func (c *CSRPatch) own(dst, n int64) {
	if c == nil || n == 0 {
		return
	}
	if k := len(c.New); k > 0 && c.New[k-2]+c.New[k-1] == dst {
		c.New[k-1] += n
		return
	}
	c.New = append(c.New, dst, n)
}

// patchRun is the most entries one run of a device patch copies: the copy
// kernel gives each run one block, so long runs of clean rows are cut into
// pieces of this size to spread over the device.
const patchRun = 8192

// patchUpload is what a device uploads to replay one orientation of a
// Patch (kernels.CopyRuns, launched twice): the Old runs cut to at most
// patchRun entries ((src, dst, n) triplets into the held arrays), Result's
// own entries packed (stagedIdx, stagedVal) with their runs (src in the
// packed arrays). Its slices are reused by the next plan.
type patchUpload struct {
	oldRuns   []int64
	newRuns   []int64
	stagedIdx []int32
	stagedVal []float32
}

// plan sets u to the upload for c, whose Result orientation is idx, val.
func (u *patchUpload) plan(c *CSRPatch, idx []int32, val []float32) {
	u.oldRuns = cutRuns(u.oldRuns[:0], c.Old)
	u.stagedIdx, u.stagedVal = u.stagedIdx[:0], u.stagedVal[:0]
	staged := make([]int64, 0, len(c.New)/2*3)
	for k := 0; k < len(c.New); k += 2 {
		dst, n := c.New[k], c.New[k+1]
		staged = append(staged, int64(len(u.stagedIdx)), dst, n)
		u.stagedIdx = append(u.stagedIdx, idx[dst:dst+n]...)
		u.stagedVal = append(u.stagedVal, val[dst:dst+n]...)
	}
	u.newRuns = cutRuns(u.newRuns[:0], staged)
}

// cutRuns appends the (src, dst, n) triplets of runs to dst, each cut
// into pieces of at most patchRun entries.
func cutRuns(dst, runs []int64) []int64 {
	for k := 0; k < len(runs); k += 3 {
		src, to, n := runs[k], runs[k+1], runs[k+2]
		for off := int64(0); off < n; off += patchRun {
			dst = append(dst, src+off, to+off, min(patchRun, n-off))
		}
	}
	return dst
}

// bytes returns what the upload sends to the device: both run tables and
// the staged entries.
func (u *patchUpload) bytes() int64 {
	return 8*int64(len(u.oldRuns)+len(u.newRuns)) + 4*int64(len(u.stagedIdx)+len(u.stagedVal))
}

// PatchUploadBytes returns the bytes a device holding p.Base sends over
// PCIe to hold p.Result instead: both orientations' row pointers, run
// tables and staged entries. A full upload sends 16 bytes a rating plus the
// row pointers.
func PatchUploadBytes(p *Patch) int64 {
	var u patchUpload
	r := p.Result
	u.plan(&p.Users, r.UserIdx, r.UserVal)
	n := u.bytes() + 8*int64(len(r.UserPtr))
	u.plan(&p.Items, r.ItemIdx, r.ItemVal)
	return n + u.bytes() + 8*int64(len(r.ItemPtr))
}

// Patcher is implemented by a solver that keeps a Fit's ratings between
// Fits (the cuda build's Device keeps them on the GPU): Patched tells it
// that the next Fit's ratings, pt.Result, were built from pt.Base by pt,
// so that if it still holds pt.Base it can patch it instead of receiving
// pt.Result in full. The worker calls it before Fit when it applied a
// Delta (cmd/movierec-cuda).
type Patcher interface {
	Patched(pt *Patch)
}
