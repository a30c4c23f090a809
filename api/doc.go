// Package api serves the engine over HTTP with Gin: the Flask tutorial's
// three routes at their exact paths and response shapes, a JSON API under
// /api/v1 (recommendations, ratings, movies, similar and popular movies,
// the model), health and readiness probes, Prometheus metrics at /metrics,
// and its OpenAPI 3.1 document at /openapi.json.
//
// Errors from the engine are mapped to statuses in one table (errors.go);
// every error response is {"error": "..."} and anything unmapped is a 500
// whose details go to the log only. With Options.APIKey set, POST routes
// (and, with Options.AuthReads, GET routes) need "Authorization: Bearer
// <key>"; the probes, /metrics and /openapi.json stay open.
package api
