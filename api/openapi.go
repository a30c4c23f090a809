package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc is the OpenAPI 3.1 document of every route. openapi_test.go
// checks it against the router and real responses.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI 3.1 document the server serves at
// /openapi.json. The caller must not modify it.
func OpenAPI() []byte { return openAPIDoc }

// openAPI serves GET /openapi.json.
func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}
