package api

import (
	"fmt"
	"strconv"
)

// parseCount reads a top-N count: 1..MaxCount.
func (s *Server) parseCount(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%w: count %q is not an integer", ErrBadRequest, clip([]byte(v)))
	}
	if n < 1 || n > s.opts.MaxCount {
		return 0, fmt.Errorf("%w: count %d must be between 1 and %d", ErrBadRequest, n, s.opts.MaxCount)
	}
	return n, nil
}
