//go:build cuda

package gpu

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

// A small cgo shim for what package cu does not bind: the opt-in limit of
// dynamic shared memory per block (227 KiB on sm_90, against the 48 KiB a
// launch gets without it) and cuFuncSetAttribute to let a kernel use it.
// Both run on the device goroutine, which holds the context.

// sharedOptIn returns CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
// of the current context's device.
func sharedOptIn() (int, error) {
	var dev C.CUdevice
	if r := C.cuCtxGetDevice(&dev); r != C.CUDA_SUCCESS {
		return 0, fmt.Errorf("cuCtxGetDevice: CUresult %d", int(r))
	}
	var v C.int
	if r := C.cuDeviceGetAttribute(&v, C.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, dev); r != C.CUDA_SUCCESS {
		return 0, fmt.Errorf("cuDeviceGetAttribute(MAX_SHARED_MEMORY_PER_BLOCK_OPTIN): CUresult %d", int(r))
	}
	return int(v), nil
}

// setMaxDynamicShared lets fn launch with up to n bytes of dynamic shared
// memory (cuFuncSetAttribute MAX_DYNAMIC_SHARED_SIZE_BYTES). cu.Function
// is a struct holding only the CUfunction handle, read here as such.
func setMaxDynamicShared(fn cu.Function, n int) error {
	f := *(*C.CUfunction)(unsafe.Pointer(&fn))
	if r := C.cuFuncSetAttribute(f, C.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, C.int(n)); r != C.CUDA_SUCCESS {
		return fmt.Errorf("cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES, %d): CUresult %d", n, int(r))
	}
	return nil
}

// Compile-time check that cu.Function is exactly one CUfunction wide.
var _ [unsafe.Sizeof(cu.Function{}) - unsafe.Sizeof(C.CUfunction(nil))]struct{}
var _ [unsafe.Sizeof(C.CUfunction(nil)) - unsafe.Sizeof(cu.Function{})]struct{}
