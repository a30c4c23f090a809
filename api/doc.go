// Package api serves the engine over HTTP with Gin: the Flask tutorial's
// three routes at their exact paths and response shapes, health and
// readiness probes, and one JSON error shape for every failure.
//
// Errors from the engine are mapped to statuses in one table (errors.go);
// anything unmapped is a 500 whose details go to the log only.
package api
