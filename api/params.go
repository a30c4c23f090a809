package api

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// defaultLimit is the length of a JSON API list when the client names none.
const defaultLimit = 10

// maxGenreLen bounds the genre filter.
const maxGenreLen = 64

// parseCount reads a top-N count named name: 1..MaxCount.
func (s *Server) parseCount(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q is not an integer", ErrBadRequest, name, clip([]byte(v)))
	}
	if n < 1 || n > s.opts.MaxCount {
		return 0, fmt.Errorf("%w: %s %d must be between 1 and %d", ErrBadRequest, name, n, s.opts.MaxCount)
	}
	return n, nil
}

// limit reads the limit query parameter: 1..MaxCount, defaultLimit when
// absent.
func (s *Server) limit(c *gin.Context) (int, error) {
	v, ok := c.GetQuery("limit")
	if !ok {
		return defaultLimit, nil
	}
	return s.parseCount("limit", v)
}

// minRatings reads the min_ratings query parameter: 0..2³¹−1, or -1 (the
// engine's default) when absent.
func minRatings(c *gin.Context) (int, error) {
	v, ok := c.GetQuery("min_ratings")
	if !ok {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: min_ratings %q is not a non-negative 32-bit integer", ErrBadRequest, clip([]byte(v)))
	}
	return int(n), nil
}

// genre reads the genre query parameter ("" when absent).
func genre(c *gin.Context) (string, error) {
	g := strings.TrimSpace(c.Query("genre"))
	if len(g) > maxGenreLen {
		return "", fmt.Errorf("%w: genre is longer than %d bytes", ErrBadRequest, maxGenreLen)
	}
	return g, nil
}

// listParams reads the limit and min_ratings query parameters that every
// list route takes.
func (s *Server) listParams(c *gin.Context) (n, minR int, err error) {
	if n, err = s.limit(c); err != nil {
		return 0, 0, err
	}
	if minR, err = minRatings(c); err != nil {
		return 0, 0, err
	}
	return n, minR, nil
}
