//go:build !amd64 || purego

package f32

func dotsTileArch(t []float32, ldt int, src []float32, n int, ps []float32, nu, k, ld int) {
	dotsTileGo(t, ldt, src, n, ps, nu, k, ld)
}

func indexAboveArch(x []float32, v float32) int { return indexAboveGo(x, v) }

func mulArch(o, f, d []float32) { mulGo(o, f, d) }

func gramIdxArch(t []float32, ldt int, src []float32, k int, idx []int32) {
	gramIdxGo(t, ldt, src, k, idx, 0)
}
