package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"
)

// auth returns the middleware of a route group: none when no API key is
// configured or the group does not need one, else a check of
// "Authorization: Bearer <key>".
func (s *Server) auth(required bool) []gin.HandlerFunc {
	if s.opts.APIKey == "" || !required {
		return nil
	}
	// Compare digests so neither the time nor the length of the key leaks.
	want := sha256.Sum256([]byte(s.opts.APIKey))
	return []gin.HandlerFunc{func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		switch {
		case h == "":
			s.unauthorized(c, "this route needs an API key: send Authorization: Bearer <key>")
		case !strings.EqualFold(scheme, "Bearer"):
			s.unauthorized(c, "the Authorization header must use the Bearer scheme")
		case !ok || strings.TrimSpace(token) == "":
			s.unauthorized(c, "missing token: send Authorization: Bearer <key>")
		default:
			got := sha256.Sum256([]byte(strings.TrimSpace(token)))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				s.unauthorized(c, "the API key is not valid")
				return
			}
			c.Next()
		}
	}}
}

// unauthorized answers 401 with a Bearer challenge.
func (s *Server) unauthorized(c *gin.Context, msg string) {
	c.Header("WWW-Authenticate", `Bearer realm="movierec"`)
	s.fail(c, fmt.Errorf("%w: %s", ErrUnauthorized, msg))
}
