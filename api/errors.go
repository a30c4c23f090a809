package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"movierec/engine"
)

// Errors of the api package itself.
var (
	// ErrBadRequest marks malformed input found while parsing a request.
	ErrBadRequest = errors.New("bad request")
	// ErrTooLarge marks a request body over the size limit.
	ErrTooLarge = errors.New("request body too large")
	// ErrUnsupportedMediaType marks a body of the wrong Content-Type.
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrUnauthorized marks a request without a valid API key.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrTimeout marks a request body that did not arrive in time.
	ErrTimeout = errors.New("request timeout")
)

// statusOf is the one table from errors to HTTP statuses. The first match
// wins, so a handler can turn an engine error into a 400 by wrapping it in
// ErrBadRequest.
var statusOf = []struct {
	err    error
	status int
}{
	{ErrBadRequest, http.StatusBadRequest},
	{ErrTooLarge, http.StatusRequestEntityTooLarge},
	{ErrUnsupportedMediaType, http.StatusUnsupportedMediaType},
	{ErrUnauthorized, http.StatusUnauthorized},
	{ErrTimeout, http.StatusRequestTimeout},
	{errNotFound, http.StatusNotFound},
	{errMethod, http.StatusMethodNotAllowed},
	{engine.ErrInvalidInput, http.StatusBadRequest},
	{engine.ErrInvalidRating, http.StatusBadRequest},
	{engine.ErrUnknownMovie, http.StatusNotFound},
	{engine.ErrNotRated, http.StatusNotFound},
	{engine.ErrModelNotReady, http.StatusServiceUnavailable},
	{engine.ErrDiskFull, http.StatusInsufficientStorage},
	{engine.ErrStoreUnavailable, http.StatusServiceUnavailable},
	{engine.ErrNotTrainer, http.StatusConflict},
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// fail writes err as a JSON error with the status the table gives it.
// Unmapped errors become a 500 with a generic message; the details are
// logged.
func (s *Server) fail(c *gin.Context, err error) {
	status := http.StatusInternalServerError
	msg := "internal error"
	for _, m := range statusOf {
		if errors.Is(err, m.err) {
			status, msg = m.status, err.Error()
			break
		}
	}
	if status == http.StatusInternalServerError {
		s.log.ErrorContext(c.Request.Context(), "request failed", logKeyRequestID, c.GetString(ctxKeyRequestID),
			logKeyRoute, c.FullPath(), slog.Any(logKeyErr, err))
	}
	c.AbortWithStatusJSON(status, errorBody{Error: msg, RequestID: c.GetString(ctxKeyRequestID)})
}
