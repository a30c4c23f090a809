package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser tests drive the web page in a headless Chromium against the
// whole server on port 0. They skip when no browser is installed, except
// under CI=true, where a missing browser is a failure (.ci/run installs
// Debian's chromium). Each test writes a screenshot of each page it visits
// into its temp dir, and also into $MOVIEREC_SCREENSHOTS when that is set
// (that is how docs/*.png are made).

// browserStep bounds one browser step: generous, for a loaded 2-core box.
const browserStep = 90 * time.Second

// browserNames are the executables tried, in order, when
// $MOVIEREC_BROWSER is unset.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

func findBrowser() string {
	if p := os.Getenv("MOVIEREC_BROWSER"); p != "" {
		return p
	}
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserPage is one headless browser tab. It records every JavaScript
// exception, console error, browser log error, HTTP error response and
// failed request; check fails the test on any that allow does not accept.
type browserPage struct {
	t     *testing.T
	ctx   context.Context
	base  string
	allow func(problem string) bool

	mu       sync.Mutex
	problems []string
}

// needBrowser returns the browser to drive; without one it skips the test,
// or fails it under CI=true. Call it before starting the server.
func needBrowser(t *testing.T) string {
	t.Helper()
	path := findBrowser()
	if path == "" {
		msg := fmt.Sprintf("no browser found (tried $MOVIEREC_BROWSER and %s on PATH); install Debian's chromium: apt-get install -y chromium",
			strings.Join(browserNames, ", "))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: the browser tests must run)")
		}
		t.Skip(msg)
	}
	return path
}

func newBrowserPage(t *testing.T, path, base string, allow func(string) bool) *browserPage {
	t.Helper()
	if allow == nil {
		allow = func(string) bool { return false }
	}
	p := &browserPage{t: t, base: base, allow: allow}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 960),
		chromedp.Flag("hide-scrollbars", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithListener(p.record))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first Do starts the browser; it gets no timeout, as it binds the
	// browser's life to its context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	p.ctx = ctx
	return p
}

// record runs in the tab's event loop: it only appends.
func (p *browserPage) record(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		problem = fmt.Sprintf("JavaScript exception: %s", d.Text)
		if d.Exception != nil && d.Exception.Description != "" {
			problem += " " + d.Exception.Description
		}
		problem += fmt.Sprintf(" at %s:%d", d.URL, d.LineNumber+1)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				if a.Value != nil {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			problem = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			problem = fmt.Sprintf("browser log error (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			problem = fmt.Sprintf("HTTP %d %s", ev.Response.Status, ev.Response.URL)
		}
	case *network.EventLoadingFailed:
		if !ev.Canceled {
			problem = fmt.Sprintf("request failed: %s %s", ev.ErrorText, ev.BlockedReason)
		}
	}
	if problem == "" {
		return
	}
	p.mu.Lock()
	p.problems = append(p.problems, problem)
	p.mu.Unlock()
}

// check fails the test on every problem recorded that allow rejects.
func (p *browserPage) check() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.problems {
		if !p.allow(pr) {
			p.t.Errorf("browser: %s", pr)
		}
	}
}

// do runs steps with a time limit; on failure it saves a screenshot for
// the log and stops the test.
func (p *browserPage) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail("%s: %v", what, err)
	}
}

func (p *browserPage) fail(format string, args ...any) {
	p.t.Helper()
	p.check()
	if b, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot()); err == nil {
		dir := os.Getenv("MOVIEREC_SCREENSHOTS")
		if dir == "" {
			dir = p.t.TempDir() // removed after the test; set MOVIEREC_SCREENSHOTS to keep it
		}
		f := filepath.Join(dir, "failure-"+p.t.Name()+".png")
		if os.WriteFile(f, b, 0o644) == nil {
			p.t.Logf("screenshot at failure: %s", f)
		}
	}
	p.t.Fatalf(format, args...)
}

// eval evaluates a JavaScript expression and decodes its JSON value.
func evalJS[T any](p *browserPage, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.fail("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor evaluates expr until it is true. It polls from Go with
// Runtime.evaluate: chromedp's Poll compiles its predicate with
// new Function, which the page's CSP rightly forbids.
func (p *browserPage) waitFor(what, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(browserStep)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, browserStep)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Boolean(`+expr+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.fail("waiting for %s (%s): not true after %v (last error: %v)", what, expr, browserStep, err)
		}
		time.Sleep(50 * time.Millisecond) // the poll interval, not a synchronisation
	}
}

// open navigates to path and waits until the page's script is done
// with its first load.
func (p *browserPage) open(path string) {
	p.t.Helper()
	p.do("navigate to "+path, chromedp.Navigate(p.base+path))
	p.waitFor(path+" ready", `document.body.dataset.ready === 'true'`)
}

// screenshot writes the viewport as name.png into the test's temp dir, and
// for the pages shown in the README (docs) also into $MOVIEREC_SCREENSHOTS
// when that is set.
func (p *browserPage) screenshot(name string, docs bool) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStep)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.fail("screenshot %s: %v", name, err)
	}
	dirs := []string{p.t.TempDir()}
	if d := os.Getenv("MOVIEREC_SCREENSHOTS"); d != "" && docs {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		f := filepath.Join(d, name+".png")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			p.t.Fatalf("write %s: %v", f, err)
		}
		p.t.Logf("screenshot %s", f)
	}
}

// ids returns the movie ids of the rows in a list.
func (p *browserPage) ids(list string) []int {
	p.t.Helper()
	return evalJS[[]int](p, `[...document.querySelectorAll('#`+list+` li.movie')].map(e => Number(e.dataset.movieId))`)
}

// search types q into the search box (replacing what is there) and waits
// for its results.
func (p *browserPage) search(q string) {
	p.t.Helper()
	p.do("select the search text", chromedp.Focus(chromedp.ID("search-input")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('search-input').select()`))
	p.do("type "+q, chromedp.SendKeys(chromedp.ID("search-input"), q))
	p.waitFor("results for "+q, fmt.Sprintf(`document.getElementById('search-results').dataset.query === %q`, q))
}

// rateIn clicks the star for value on movie in a list and waits until
// the recommendations were rebuilt with want ratings.
func (p *browserPage) rateIn(list string, movie int, value string, want int) {
	p.t.Helper()
	p.do(fmt.Sprintf("rate %d %s", movie, value),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#%s li[data-movie-id="%d"] label[data-value="%s"]`, list, movie, value))))
	p.waitFor(fmt.Sprintf("recommendations after %d ratings", want),
		fmt.Sprintf(`document.getElementById('recs').dataset.ratings === '%d'`, want))
}

// storedRatings reads a user's ratings from the API.
func storedRatings(t *testing.T, base string, user int) map[int]float64 {
	t.Helper()
	status, body := get(t, fmt.Sprintf("%s/api/v1/users/%d/ratings", base, user))
	if status != 200 {
		t.Fatalf("GET ratings of %d = %d %s", user, status, body)
	}
	var out struct {
		Ratings []struct {
			MovieID int     `json:"movie_id"`
			Rating  float64 `json:"rating"`
		} `json:"ratings"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	m := map[int]float64{}
	for _, r := range out.Ratings {
		m[r.MovieID] = r.Rating
	}
	return m
}

// Movie ids of ml-latest-small.
const (
	toyStory  = 1
	theMatrix = 2571
	godfather = 858
)

func TestBrowserRatingView(t *testing.T) {
	browser := needBrowser(t)
	_, base := startServer(t, serveConfig{})
	p := newBrowserPage(t, browser, base, nil)
	const user = 1000001

	p.open("/")
	p.do("choose user", chromedp.SetValue(chromedp.ID("user-id"), fmt.Sprint(user)),
		chromedp.Click(chromedp.CSS(`#user-form button[type=submit]`)))
	p.waitFor("popular for a new user", fmt.Sprintf(`(() => { const s = document.getElementById('recs');
		return s.dataset.user === '%d' && s.dataset.mode === 'popular' && s.querySelectorAll('li.movie').length > 0 &&
			document.getElementById('recs-h').textContent === 'Popular'; })()`, user))
	if got := evalJS[string](p, `localStorage.getItem('movierec.user')`); got != fmt.Sprint(user) {
		t.Errorf("localStorage movierec.user = %q, want %d", got, user)
	}
	popular := p.ids("recs-list")

	// Search as you type finds Toy Story (1995).
	p.search("toy story")
	titles := evalJS[[]string](p, `[...document.querySelectorAll('#search-results .title')].map(e => e.textContent)`)
	if !slices.Contains(titles, "Toy Story (1995)") {
		t.Fatalf("search %q shows %q, want Toy Story (1995) among them", "toy story", titles)
	}

	// Three ratings: "Popular" becomes "Recommended for you", which changes
	// and never shows a rated movie.
	p.rateIn("search-results", toyStory, "4.5", 1)
	recs := [][]int{popular, p.ids("recs-list")}
	if h := evalJS[string](p, `document.getElementById('recs-h').textContent`); h != "Recommended for you" {
		t.Errorf("heading after a rating = %q, want Recommended for you", h)
	}
	p.search("matrix")
	p.rateIn("search-results", theMatrix, "5", 2)
	recs = append(recs, p.ids("recs-list"))
	p.search("godfather")
	p.rateIn("search-results", godfather, "4", 3)
	recs = append(recs, p.ids("recs-list"))
	rated := []int{toyStory, theMatrix, godfather}
	for i, r := range recs[1:] {
		if len(r) == 0 {
			t.Errorf("recommendations after %d ratings are empty", i+1)
		}
		for _, m := range rated[:i+1] {
			if slices.Contains(r, m) {
				t.Errorf("recommendations after %d ratings = %v, include rated movie %d", i+1, r, m)
			}
		}
	}
	if slices.Equal(recs[3], recs[0]) || (slices.Equal(recs[1], recs[2]) && slices.Equal(recs[2], recs[3])) {
		t.Errorf("recommendations did not change with the ratings: %v", recs)
	}
	want := map[int]float64{toyStory: 4.5, theMatrix: 5, godfather: 4}
	if got := storedRatings(t, base, user); !maps.Equal(got, want) {
		t.Errorf("stored ratings = %v, want %v", got, want)
	}
	// "Your ratings": newest first.
	if got := p.ids("mine-list"); !slices.Equal(got, []int{godfather, theMatrix, toyStory}) {
		t.Errorf("Your ratings = %v, want newest first %v", got, []int{godfather, theMatrix, toyStory})
	}

	// Change a rating from "Your ratings".
	p.do("change Toy Story to 3", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#mine-list li[data-movie-id="%d"] label[data-value="3"]`, toyStory))))
	p.waitFor("Toy Story shown at 3", fmt.Sprintf(`(() => { const o = document.querySelector('#mine-list li[data-movie-id="%d"] .stars-value');
		return o && o.textContent === '3' && document.querySelector('#messages .info')?.textContent.includes('Toy Story (1995): 3'); })()`, toyStory))
	p.waitFor("recommendations rebuilt", `document.getElementById('recs').dataset.ratings === '3'`)

	// Remove a rating.
	p.do("remove The Matrix", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#mine-list li[data-movie-id="%d"] button.remove`, theMatrix))))
	p.waitFor("The Matrix gone from Your ratings", fmt.Sprintf(`document.querySelector('#mine-list li[data-movie-id="%d"]') === null &&
		document.getElementById('recs').dataset.ratings === '2'`, theMatrix))
	want = map[int]float64{toyStory: 3, godfather: 4}
	if got := storedRatings(t, base, user); !maps.Equal(got, want) {
		t.Errorf("stored ratings after change and remove = %v, want %v", got, want)
	}

	// Similar to Toy Story.
	p.do("open Similar", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#mine-list li[data-movie-id="%d"] button.similar`, toyStory))))
	p.waitFor("similar movies", fmt.Sprintf(`!document.getElementById('similar').hidden &&
		document.getElementById('similar-list').dataset.movieId === '%d' &&
		document.querySelectorAll('#similar-list li.movie').length > 0`, toyStory))
	if h := evalJS[string](p, `document.getElementById('similar-h').textContent`); h != "Similar to Toy Story (1995)" {
		t.Errorf("similar heading = %q, want Similar to Toy Story (1995)", h)
	}
	if sim := p.ids("similar-list"); slices.Contains(sim, toyStory) {
		t.Errorf("similar to Toy Story = %v, includes Toy Story", sim)
	}
	p.search("toy story")
	p.screenshot("web-rate", true)

	// The genre filter keeps only that genre.
	p.do("filter Comedy", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('genre');
		s.value = 'Comedy'; s.dispatchEvent(new Event('change')); })()`))
	p.waitFor("comedies only", `(() => { const m = [...document.querySelectorAll('#recs-list li.movie .meta')];
		return m.length > 0 && m.every(e => e.textContent.includes('Comedy')); })()`)

	// The operator view: the model's backend, the chart of the trainings,
	// and Retrain now.
	p.open("/status")
	p.waitFor("the model's backend", `document.querySelector('#model-fields dd[data-field="backend"]')?.textContent === 'cpu'`)
	p.waitFor("a chart of train error", `document.querySelectorAll('#charts svg.chart polyline').length > 0 &&
		document.querySelectorAll('#charts svg.chart circle.dot').length > 1`)
	p.waitFor("request counters", `Number(document.querySelector('#request-stats dd[data-field="requests_total"]')?.textContent.replace(/\D/g, '')) > 0`)
	p.screenshot("web-status", true)
	p.do("retrain", chromedp.Click(chromedp.ID("retrain")))
	p.waitFor("retrain acknowledged", `document.querySelector('#messages .info')?.textContent.includes('Retrain')`)

	// Phone width: the rating view still fits.
	p.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	p.open("/")
	p.waitFor("ratings on phone", `document.querySelectorAll('#mine-list li.movie').length === 2`)
	if w := evalJS[int](p, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("page width on a 390 px phone = %d px, want no horizontal scroll", w)
	}
	p.screenshot("web-rate-phone", true)
	p.check()
}

func TestBrowserAPIKey(t *testing.T) {
	const key = "s3cret-key"
	browser := needBrowser(t)
	_, base := startServer(t, serveConfig{apiKey: key})
	// The refused writes are the point of this test: their 401s are expected.
	p := newBrowserPage(t, browser, base, func(pr string) bool {
		return strings.Contains(pr, "HTTP 401") || strings.Contains(pr, "status of 401")
	})
	const user = 1000002

	p.open("/")
	p.do("choose user", chromedp.SetValue(chromedp.ID("user-id"), fmt.Sprint(user)),
		chromedp.Click(chromedp.CSS(`#user-form button[type=submit]`)))
	p.waitFor("popular", fmt.Sprintf(`document.getElementById('recs').dataset.user === '%d'`, user))
	p.search("toy story")

	// Without the key the write fails: the page asks, and cancelling shows the server's message.
	star := chromedp.CSS(fmt.Sprintf(`#search-results li[data-movie-id="%d"] label[data-value="4"]`, toyStory))
	p.do("rate without a key", chromedp.Click(star))
	p.waitFor("the key dialog", `document.getElementById('key-dialog').open`)
	p.do("cancel", chromedp.Click(chromedp.ID("key-cancel")))
	p.waitFor("the error", `document.querySelector('#messages .error')?.textContent.includes('API key')`)
	if got := storedRatings(t, base, user); len(got) != 0 {
		t.Fatalf("stored ratings without a key = %v, want none", got)
	}

	// A wrong key is refused, the right one is remembered and the rating stored.
	p.do("rate again", chromedp.Click(star))
	p.waitFor("the key dialog", `document.getElementById('key-dialog').open`)
	p.do("enter a wrong key", chromedp.SendKeys(chromedp.ID("key-input"), "wrong"), chromedp.Click(chromedp.ID("key-save")))
	p.waitFor("the key refused", `document.getElementById('key-dialog').open &&
		document.getElementById('key-message').textContent.includes('not valid')`)
	p.screenshot("api-key", false)
	p.do("enter the key", chromedp.SendKeys(chromedp.ID("key-input"), key), chromedp.Click(chromedp.ID("key-save")))
	p.waitFor("the rating stored", fmt.Sprintf(`!document.getElementById('key-dialog').open &&
		document.querySelector('#mine-list li[data-movie-id="%d"]') !== null && !document.getElementById('key-forget').hidden`, toyStory))
	if got := storedRatings(t, base, user); got[toyStory] != 4 {
		t.Errorf("stored ratings with the key = %v, want Toy Story at 4", got)
	}
	if got := evalJS[string](p, `localStorage.getItem('movierec.apiKey')`); got != key {
		t.Errorf("remembered key = %q, want %q", got, key)
	}

	// The remembered key serves the next write without asking.
	p.do("rate another", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#mine-list li[data-movie-id="%d"] label[data-value="2.5"]`, toyStory))))
	p.waitFor("changed without a dialog", fmt.Sprintf(`!document.getElementById('key-dialog').open &&
		document.querySelector('#mine-list li[data-movie-id="%d"] .stars-value')?.textContent === '2.5' &&
		document.querySelector('#messages .info')?.textContent.includes('Toy Story (1995): 2.5')`, toyStory))
	if got := storedRatings(t, base, user); got[toyStory] != 2.5 {
		t.Errorf("stored ratings after the change = %v, want Toy Story at 2.5", got)
	}
	p.check()
}
