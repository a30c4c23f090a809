package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserContinuousScale: on a data set whose ratings are any real in
// -1..1 (issue 11), the page rates through a number field bounded by the
// scale instead of MovieLens stars, and the typed value is stored.
func TestBrowserContinuousScale(t *testing.T) {
	browser := needBrowser(t)
	var b strings.Builder
	b.WriteString("user,movie,rating\n")
	rng := rand.New(rand.NewPCG(5, 5))
	for u := range 40 {
		for m := range 30 {
			if (u+m)%4 != 0 {
				fmt.Fprintf(&b, "%d,%d,%.3f\n", u, m, 2*rng.Float64()-1)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "scores.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src := dataSource{ratings: path}
	if err := src.scale.Set("-1:1"); err != nil {
		t.Fatal(err)
	}
	_, base := startServer(t, serveConfig{data: src, minRatings: 1})
	p := newBrowserPage(t, browser, base, nil)
	const user, movie = 1000, 7

	p.open("/")
	p.do("choose user", chromedp.SetValue(chromedp.ID("user-id"), fmt.Sprint(user)),
		chromedp.Click(chromedp.CSS(`#user-form button[type=submit]`)))
	p.waitFor("recommendations shown", fmt.Sprintf(`document.getElementById('recs').dataset.user === '%d'`, user))
	p.search("movie 7")
	field := fmt.Sprintf(`#search-results li[data-movie-id="%d"] input.rating-number`, movie)
	if n := evalJS[int](p, `document.querySelectorAll('#search-results .stars').length`); n != 0 {
		t.Errorf("%d star widgets on a continuous scale, want number fields", n)
	}
	if got := evalJS[[]string](p, fmt.Sprintf(`(() => { const i = document.querySelector('%s');
		return i ? [i.min, i.max, i.step] : []; })()`, field)); strings.Join(got, " ") != "-1 1 any" {
		t.Errorf("number field min, max, step = %q, want -1 1 any", got)
	}
	p.do("rate -0.25", chromedp.SetValue(chromedp.CSS(field), "-0.25"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#search-results li[data-movie-id="%d"] button.rate`, movie))))
	p.waitFor("recommendations after the rating", `document.getElementById('recs').dataset.ratings === '1'`)
	got := storedRatings(t, base, user)
	if len(got) != 1 || math.Abs(got[movie]-(-0.25)) > 1e-6 {
		t.Errorf("stored ratings = %v, want {%d: -0.25}", got, movie)
	}
	p.check()
}
