//go:build cuda

package gpu

// SetSplit makes d's later fits split rows with more than threshold
// ratings into slices of at most slice (threshold 0: no split), so that
// the device tests exercise the heavy-row kernels on small data sets.
func SetSplit(d *Device, threshold, slice int) error {
	return d.do(func() error {
		d.splitAt, d.splitSlice = threshold, slice
		return nil
	})
}
