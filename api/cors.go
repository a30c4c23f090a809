package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// ParseCORSOrigins parses the --cors-origin value: a comma-separated list
// of origins ("https://app.example.com", "http://localhost:3000") or "*"
// for any origin. An origin is a scheme (http or https), a host and an
// optional port, with no path, query or trailing slash, as browsers send
// it in the Origin header. An empty s gives nil: CORS off.
func ParseCORSOrigins(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for o := range strings.SplitSeq(s, ",") {
		o = strings.TrimSpace(o)
		if o == "*" {
			out = append(out, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "/") || o != u.Scheme+"://"+u.Host {
			return nil, fmt.Errorf("CORS origin %q: want scheme://host[:port] (such as https://app.example.com) or *", o)
		}
		out = append(out, o)
	}
	return out, nil
}

// corsAllowHeaders are the request headers a cross-origin client may send.
const corsAllowHeaders = "Authorization, Content-Type, X-Request-ID"

// cors adds the CORS response headers for an allowed Origin (an exact
// match of one of Options.CORSOrigins, or any origin with "*"). A request
// from another origin gets no CORS headers, so the browser withholds the
// answer. Preflights are answered by options.
func (s *Server) cors(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if len(s.opts.CORSOrigins) == 0 {
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Add("Vary", "Origin")
	if origin != "" {
		switch {
		case slices.Contains(s.opts.CORSOrigins, origin):
			h.Set("Access-Control-Allow-Origin", origin)
		case slices.Contains(s.opts.CORSOrigins, "*"):
			h.Set("Access-Control-Allow-Origin", "*")
		}
		if h.Get("Access-Control-Allow-Origin") != "" {
			h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After, WWW-Authenticate")
		}
	}
	c.Next()
}

// options answers OPTIONS on a route path: 204 with Allow, and for an
// allowed CORS preflight the methods and headers a client may use. It needs
// no API key (browsers send preflights without one).
func (s *Server) options(allow string) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Allow", allow)
		if h.Get("Access-Control-Allow-Origin") != "" && c.GetHeader("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", allow)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "600")
		}
		c.Status(http.StatusNoContent)
	}
}
