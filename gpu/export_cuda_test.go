//go:build cuda

package gpu

import (
	"unsafe"

	"gorgonia.org/cu"

	"movierec/als"
)

// SetSplit makes d's later fits split rows with more than threshold
// ratings into slices of at most slice (threshold 0: no split), so that
// the device tests exercise the heavy-row kernels on small data sets.
func SetSplit(d *Device, threshold, slice int) error {
	return d.do(func() error {
		d.splitAt, d.splitSlice = threshold, slice
		return nil
	})
}

// LastUpload returns how d's last Fit got its ratings onto the device
// ("held", "patch" or "full") and the bytes it sent for them.
func LastUpload(d *Device) (mode string, sent int64) {
	_ = d.do(func() error {
		mode, sent = string(d.lastMode), d.lastSent
		return nil
	})
	return mode, sent
}

// HeldRatings downloads the ratings d holds on the device: both
// orientations' row pointers, indices and values, as an als.Ratings
// (dimensions from the host Ratings they are meant to equal), or nil.
func HeldRatings(d *Device) (*als.Ratings, error) {
	var out *als.Ratings
	err := d.do(func() error {
		h := d.held
		if h.r == nil {
			return nil
		}
		nnz := h.r.NNZ()
		out = &als.Ratings{NumUsers: h.r.NumUsers, NumItems: h.r.NumItems,
			UserPtr: make([]int64, h.r.NumUsers+1), ItemPtr: make([]int64, h.r.NumItems+1),
			UserIdx: make([]int32, nnz), UserVal: make([]float32, nnz),
			ItemIdx: make([]int32, nnz), ItemVal: make([]float32, nnz)}
		for _, c := range []struct {
			dst unsafe.Pointer
			src cu.DevicePtr
			n   int64
		}{
			{sliceData(out.UserPtr), h.users.ptr, 8 * int64(len(out.UserPtr))},
			{sliceData(out.ItemPtr), h.items.ptr, 8 * int64(len(out.ItemPtr))},
			{sliceData(out.UserIdx), h.users.idx, 4 * int64(nnz)},
			{sliceData(out.UserVal), h.users.val, 4 * int64(nnz)},
			{sliceData(out.ItemIdx), h.items.idx, 4 * int64(nnz)},
			{sliceData(out.ItemVal), h.items.val, 4 * int64(nnz)},
		} {
			if c.n == 0 {
				continue
			}
			if err := cu.MemcpyDtoH(c.dst, c.src, c.n); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
