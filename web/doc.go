// Package web serves movierec's web page: a rating view at / (find movies,
// rate them, see recommendations change) and an operator view at /status
// (the model, the last trainings with a chart of train error per
// iteration, request rates, "Retrain now").
//
// The page is plain HTML, CSS and JavaScript modules embedded in the
// binary: no framework, no CDN, no build step. The JavaScript talks only to
// the JSON API under /api/v1 (and /readyz), so the API stays the one
// contract.
//
// Assets are served under content-hash names (/static/api.3f9c2a01b4d5.js)
// with a one-year immutable cache; the two pages are served with no-cache
// and a strict Content-Security-Policy (no inline script or style, Trusted
// Types required), so a change reaches browsers on the next page load and a
// movie title can never run as code. The pages build their DOM with
// textContent only.
//
// New builds the asset table once; a Handler is immutable afterwards and
// safe for concurrent use.
package web
