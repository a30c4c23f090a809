// Package api serves the engine over HTTP with Gin: the Flask tutorial's
// three routes at their exact paths and response shapes, a JSON API under
// /api/v1 (recommendations, ratings, movies, similar and popular movies,
// the model), health and readiness probes, Prometheus metrics at /metrics,
// and its OpenAPI 3.1 document at /openapi.json.
//
// Errors from the engine are mapped to statuses in one table (errors.go);
// every error response is {"error": "...", "request_id": "..."} with the
// id in X-Request-ID too, and anything unmapped is a 500 whose details go
// to the log only. Unknown paths (a trailing slash is never redirected) are
// JSON 404s, wrong methods JSON 405s with Allow. Unavailable gives the
// start-up 503 the same shape, and ProtocolErrors does so for the 431, 400
// and 501 answers net/http writes before any handler runs (with a fresh
// id: the request could not be read).
//
// Input is strict: ratings are read by engine.ParseDecimal (plain decimals
// with an optional exponent; no Go-only syntax, inf or nan) and must be
// exactly a step of the scale; JSON bodies refuse duplicate keys, keys that
// differ from a field only in case, unknown fields and trailing data; a
// query string that does not parse is a 400 on every route; a body that
// stalls past the server's read timeout is a 408 without socket addresses.
//
// Every GET route answers HEAD; every route path answers OPTIONS with 204
// and Allow. CORS is off unless Options.CORSOrigins names origins (exact
// matches or "*"); preflights are answered by the OPTIONS routes.
//
// With Options.APIKey set, POST and DELETE routes (and, with
// Options.AuthReads, GET and HEAD routes) need "Authorization: Bearer
// <key>"; the probes, /metrics, /openapi.json and OPTIONS stay open. The
// key never appears in an answer or a log line.
package api
