package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadConfig is what `movierec bench --http` is configured with.
type loadConfig struct {
	urls         urlList // the servers (replicas) the load is spread over
	url          string  // urls joined with ", ", for the report
	visibility   int     // cross-replica visibility probes after the run
	duration     time.Duration
	getWorkers   int
	postRate     float64
	users        int
	postUsers    int
	postUserBase int
	apiKey       string
	timeout      time.Duration
	retrainEvery time.Duration
	json         bool
}

// runLoadTest drives a running server with a mix of tutorial reads (GET
// /{user}/ratings/top/10, closed loop, one request at a time per worker)
// and single-rating writes (POST /{user}/ratings, open loop at a fixed
// rate, users in a dedicated high id range), reports throughput and latency
// percentiles of each, then checks that every acknowledged rating is stored.
// It only talks to loopback addresses. It fails when an acknowledged rating
// is missing or nothing succeeded.
func runLoadTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg loadConfig
	fs := flag.NewFlagSet("bench --http", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Bool("http", true, "run the HTTP load test (accepted so that `movierec bench --http` can pass its arguments on)")
	cfg.urls = urlList{urls: []string{"http://127.0.0.1:8080"}}
	fs.Var(&cfg.urls, "url", "base URL of the server (loopback only); several replicas: comma-separated or the flag repeated, and the load is spread over them round-robin")
	fs.IntVar(&cfg.visibility, "visibility-probes", 0, "with several URLs: after the run, this many times POST a rating to one replica and poll the next until its answer changes; reports p50/p99 of the delay")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long to send load")
	fs.IntVar(&cfg.getWorkers, "get-concurrency", 32, "GET workers, each with one request in flight")
	fs.Float64Var(&cfg.postRate, "post-rate", 50, "POSTs per second, sent on schedule whatever the latency (0: none)")
	fs.IntVar(&cfg.users, "users", 610, "GETs ask for users 1..users")
	fs.IntVar(&cfg.postUsers, "post-users", 1000, "POSTs rate as this many users")
	fs.IntVar(&cfg.postUserBase, "post-user-base", 2_000_000_000, "first user id of the POST users (keep clear of real users)")
	fs.StringVar(&cfg.apiKey, "api-key", "", "API key sent as Authorization: Bearer")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "timeout of each request")
	fs.DurationVar(&cfg.retrainEvery, "retrain-every", 0, "also ask for a retrain (POST /api/v1/model/retrain) this often; with serve --retrain-interval 0 a short one keeps retrains running back to back (0: never)")
	fs.BoolVar(&cfg.json, "json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	lt := newLoadTest(cfg)
	rep, err := lt.run(ctx, stderr)
	if err != nil {
		return err
	}
	if cfg.visibility > 0 {
		if rep.Visibility, err = lt.measureVisibility(ctx); err != nil {
			return err
		}
	}
	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.print(stdout)
	}
	switch {
	case rep.Verified < rep.Acknowledged:
		return fmt.Errorf("%d of %d acknowledged ratings are not stored", rep.Acknowledged-rep.Verified, rep.Acknowledged)
	case rep.Get.Requests == 0 && rep.Post.Requests == 0:
		return fmt.Errorf("no request succeeded (%d errors)", rep.Errors)
	}
	return nil
}

func (c *loadConfig) validate() error {
	if len(c.urls.urls) == 0 {
		return errors.New("--url: no URL given")
	}
	for i, u := range c.urls.urls {
		if err := checkLoopback(u); err != nil {
			return err
		}
		c.urls.urls[i] = strings.TrimRight(u, "/")
	}
	c.url = strings.Join(c.urls.urls, ", ")
	if c.visibility < 0 || c.visibility > 0 && len(c.urls.urls) < 2 {
		return fmt.Errorf("--visibility-probes %d: needs at least two --url (replicas) and a non-negative count", c.visibility)
	}
	switch {
	case c.duration <= 0:
		return fmt.Errorf("--duration %v must be positive", c.duration)
	case c.getWorkers < 0:
		return fmt.Errorf("--get-concurrency %d must not be negative", c.getWorkers)
	case c.postRate < 0 || math.IsNaN(c.postRate) || math.IsInf(c.postRate, 0):
		return fmt.Errorf("--post-rate %v must be a non-negative number", c.postRate)
	case c.getWorkers == 0 && c.postRate == 0:
		return errors.New("--get-concurrency and --post-rate are both 0: nothing to send")
	case c.users < 1 || c.users > math.MaxInt32:
		return fmt.Errorf("--users %d must be between 1 and %d", c.users, math.MaxInt32)
	case c.postUsers < 1 || c.postUserBase < 0 || int64(c.postUserBase)+int64(c.postUsers)+int64(c.visibility)-1 > math.MaxInt32:
		return fmt.Errorf("--post-user-base %d and --post-users %d must give user ids within 0..%d", c.postUserBase, c.postUsers, math.MaxInt32)
	case c.timeout <= 0:
		return fmt.Errorf("--timeout %v must be positive", c.timeout)
	case c.retrainEvery < 0:
		return fmt.Errorf("--retrain-every %v must not be negative", c.retrainEvery)
	}
	return nil
}

// checkLoopback accepts only http(s) URLs whose host is localhost or a
// loopback IP: the load test must never be pointed at someone else.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("--url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("--url %q: want an http or https URL", raw)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--url %q: the load test only targets loopback addresses (127.0.0.0/8, ::1, localhost)", raw)
}

// loadTest is one run's state.
type loadTest struct {
	cfg    loadConfig
	client *http.Client
	movies []int32       // known movie ids, for the POSTs
	next   atomic.Uint64 // round-robin over cfg.urls

	mu    sync.Mutex
	used  map[int32]map[int32]bool    // per POST user: movies picked in this run
	acked map[int32]map[int32]float64 // per POST user: acknowledged ratings
}

func newLoadTest(cfg loadConfig) *loadTest {
	conns := cfg.getWorkers + 256
	return &loadTest{
		cfg: cfg,
		client: &http.Client{
			Timeout: cfg.timeout,
			Transport: &http.Transport{
				Proxy:               nil, // loopback: never through a proxy
				MaxIdleConns:        conns,
				MaxIdleConnsPerHost: conns,
				IdleConnTimeout:     30 * time.Second,
			},
		},
		used:  map[int32]map[int32]bool{},
		acked: map[int32]map[int32]float64{},
	}
}

// kindReport is the result of one kind of request.
type kindReport struct {
	Requests  int     `json:"requests"` // answered 200
	Errors    int     `json:"errors"`   // other statuses, transport errors, POSTs dropped for too many in flight
	PerSecond float64 `json:"per_second"`
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
}

// trainingReport is what the server trained during a run, read from
// GET /api/v1/model/trainings afterwards.
type trainingReport struct {
	Finished      int     `json:"finished"`       // trainings that started and ended within the run
	MedianSeconds float64 `json:"median_seconds"` // of those (0 when none)
	MaxSeconds    float64 `json:"max_seconds"`
	Busy          float64 `json:"busy"` // fraction of the run during which a training ran
}

// loadReport is the result of a run.
type loadReport struct {
	URL          string          `json:"url"`
	Seconds      float64         `json:"seconds"`
	Get          kindReport      `json:"get"`
	Post         kindReport      `json:"post"`
	Retrains     int             `json:"retrain_requests"` // POST /api/v1/model/retrain answered 202
	Training     *trainingReport `json:"training"`         // null when the server did not say
	Errors       int             `json:"errors"`
	Acknowledged int             `json:"acknowledged"`
	Verified     int             `json:"verified"`
	// Visibility is the cross-replica visibility delay (--visibility-probes).
	Visibility *visibilityReport `json:"visibility,omitempty"`
}

// visibilityReport is how long a POST acknowledged by one replica took to
// change another replica's answer for that user.
type visibilityReport struct {
	Probes   int     `json:"probes"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	Timeouts int     `json:"timeouts"` // no change within 10 s
}

func (r *loadReport) print(w io.Writer) {
	line := func(name string, k kindReport) {
		fmt.Fprintf(w, "%-30s %8d ok %10.1f/s   p50 %7.2f ms   p90 %7.2f ms   p99 %7.2f ms   max %8.2f ms   errors %d\n",
			name, k.Requests, k.PerSecond, k.P50ms, k.P90ms, k.P99ms, k.MaxMs, k.Errors)
	}
	fmt.Fprintf(w, "%s for %.1f s\n", r.URL, r.Seconds)
	line("GET  /{user}/ratings/top/10", r.Get)
	line("POST /{user}/ratings", r.Post)
	if t := r.Training; t != nil {
		fmt.Fprintf(w, "training: %d finished in the run, median %.2f s, max %.2f s; a training ran %.0f%% of the time (%d retrain requests)\n",
			t.Finished, t.MedianSeconds, t.MaxSeconds, 100*t.Busy, r.Retrains)
	}
	if v := r.Visibility; v != nil {
		fmt.Fprintf(w, "cross-replica visibility: %d probes   p50 %7.2f ms   p99 %7.2f ms   max %8.2f ms   timeouts %d\n",
			v.Probes, v.P50ms, v.P99ms, v.MaxMs, v.Timeouts)
	}
	fmt.Fprintf(w, "errors %d\n", r.Errors)
	fmt.Fprintf(w, "acknowledged %d, verified %d\n", r.Acknowledged, r.Verified)
}

// sample collects the latencies of one kind.
type sample struct {
	mu     sync.Mutex
	lat    []time.Duration
	errors int
	first  error // the first error, for the log
}

// add records a request that took d; err nil means it succeeded.
func (s *sample) add(d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.lat = append(s.lat, d)
		return
	}
	s.errors++
	if s.first == nil {
		s.first = err
	}
}

func (s *sample) report(elapsed time.Duration) kindReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	lat := slices.Clone(s.lat)
	slices.Sort(lat)
	ms := func(q float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := max(0, int(math.Ceil(q*float64(len(lat))))-1)
		return float64(lat[i].Microseconds()) / 1000
	}
	return kindReport{Requests: len(lat), Errors: s.errors, PerSecond: float64(len(lat)) / elapsed.Seconds(),
		P50ms: ms(0.5), P90ms: ms(0.9), P99ms: ms(0.99), MaxMs: ms(1)}
}

// maxPostsInFlight bounds the open loop when the server falls behind; a
// POST over the bound is dropped and counted as an error.
const maxPostsInFlight = 1024

func (lt *loadTest) run(ctx context.Context, stderr io.Writer) (*loadReport, error) {
	if lt.cfg.postRate > 0 {
		if err := lt.loadMovies(ctx); err != nil {
			return nil, err
		}
	}
	var gets, posts sample
	runCtx, cancel := context.WithTimeout(ctx, lt.cfg.duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for range lt.cfg.getWorkers {
		wg.Go(func() {
			for runCtx.Err() == nil {
				user := 1 + rand.IntN(lt.cfg.users)
				t0 := time.Now()
				err := lt.do(runCtx, http.MethodGet, "/"+strconv.Itoa(user)+"/ratings/top/10", "", nil)
				if runCtx.Err() != nil {
					return // cut off by the end of the run: not an error
				}
				gets.add(time.Since(t0), err)
			}
		})
	}
	var retrains, retrainErrors atomic.Int64
	if lt.cfg.retrainEvery > 0 {
		wg.Go(func() {
			tick := time.NewTicker(lt.cfg.retrainEvery)
			defer tick.Stop()
			for {
				if err := lt.doStatus(runCtx, http.MethodPost, "/api/v1/model/retrain", "", http.StatusAccepted, nil); err == nil {
					retrains.Add(1)
				} else if runCtx.Err() == nil {
					retrainErrors.Add(1)
				}
				select {
				case <-runCtx.Done():
					return
				case <-tick.C:
				}
			}
		})
	}
	var inflight sync.WaitGroup
	if lt.cfg.postRate > 0 {
		wg.Go(func() {
			sem := make(chan struct{}, maxPostsInFlight)
			interval := time.Duration(float64(time.Second) / lt.cfg.postRate)
			timer := time.NewTimer(0)
			defer timer.Stop()
			for i := 0; ; i++ {
				timer.Reset(time.Until(start.Add(time.Duration(i) * interval)))
				select {
				case <-runCtx.Done():
					return
				case <-timer.C:
				}
				select {
				case sem <- struct{}{}:
				default:
					posts.add(0, errors.New("dropped: too many POSTs in flight"))
					continue
				}
				inflight.Go(func() {
					defer func() { <-sem }()
					// Let a POST sent in time finish after the run ends, so
					// that its outcome is known.
					lt.post(context.WithoutCancel(runCtx), i, &posts)
				})
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	inflight.Wait()

	rep := &loadReport{URL: lt.cfg.url, Seconds: elapsed.Seconds(), Get: gets.report(elapsed), Post: posts.report(elapsed),
		Retrains: int(retrains.Load())}
	rep.Errors = rep.Get.Errors + rep.Post.Errors + int(retrainErrors.Load())
	if t, err := lt.trainings(ctx, start, start.Add(elapsed)); err != nil {
		fmt.Fprintln(stderr, "training report:", err)
	} else {
		rep.Training = t
	}
	for _, e := range []error{gets.first, posts.first} {
		if e != nil {
			fmt.Fprintln(stderr, "first error:", e)
		}
	}
	var err error
	rep.Acknowledged, rep.Verified, err = lt.verify(ctx)
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// loadMovies fetches known movie ids for the POSTs.
func (lt *loadTest) loadMovies(ctx context.Context) error {
	var body struct {
		Movies []struct {
			MovieID int32 `json:"movie_id"`
		} `json:"movies"`
	}
	if err := lt.do(ctx, http.MethodGet, "/api/v1/movies/popular?limit=100&min_ratings=1", "", &body); err != nil {
		return fmt.Errorf("list movies to rate: %w", err)
	}
	for _, m := range body.Movies {
		lt.movies = append(lt.movies, m.MovieID)
	}
	if len(lt.movies) == 0 {
		return errors.New("list movies to rate: the server has no rated movies")
	}
	return nil
}

// post sends the i-th POST: one rating of a movie this user has not rated
// in this run, so every acknowledged rating can be checked afterwards.
func (lt *loadTest) post(ctx context.Context, i int, s *sample) {
	user := int32(lt.cfg.postUserBase + i%lt.cfg.postUsers)
	movie, ok := lt.pick(user)
	if !ok {
		s.add(0, fmt.Errorf("user %d has rated every known movie in this run", user))
		return
	}
	rating := float64(1 + rand.IntN(5)) // whole stars: valid on every scale
	t0 := time.Now()
	var stored [][3]float64
	body := fmt.Sprintf("%d,%g\n", movie, rating)
	err := lt.do(ctx, http.MethodPost, "/"+strconv.Itoa(int(user))+"/ratings", body, &stored)
	d := time.Since(t0)
	if err == nil && (len(stored) != 1 || stored[0] != [3]float64{float64(user), float64(movie), rating}) {
		err = fmt.Errorf("POST answered %v, want [[%d,%d,%g]]", stored, user, movie, rating)
	}
	s.add(d, err)
	if err != nil {
		return
	}
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if lt.acked[user] == nil {
		lt.acked[user] = map[int32]float64{}
	}
	lt.acked[user][movie] = rating
}

// pick returns a random known movie not yet rated by user in this run.
func (lt *loadTest) pick(user int32) (int32, bool) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	used := lt.used[user]
	if used == nil {
		used = map[int32]bool{}
		lt.used[user] = used
	}
	if len(used) == len(lt.movies) {
		return 0, false
	}
	for {
		m := lt.movies[rand.IntN(len(lt.movies))]
		if !used[m] {
			used[m] = true
			return m, true
		}
	}
}

// verify reads back every POST user's ratings and counts the acknowledged
// ones stored with the acknowledged value.
func (lt *loadTest) verify(ctx context.Context) (acked, verified int, err error) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	users := make([]int32, 0, len(lt.acked))
	for u, rs := range lt.acked {
		users = append(users, u)
		acked += len(rs)
	}
	slices.Sort(users)
	for _, u := range users {
		var body struct {
			Ratings []struct {
				MovieID int32   `json:"movie_id"`
				Rating  float64 `json:"rating"`
			} `json:"ratings"`
		}
		if err := lt.do(ctx, http.MethodGet, "/api/v1/users/"+strconv.Itoa(int(u))+"/ratings", "", &body); err != nil {
			return acked, verified, fmt.Errorf("verify the ratings of user %d: %w", u, err)
		}
		for _, r := range body.Ratings {
			if want, ok := lt.acked[u][r.MovieID]; ok && want == r.Rating {
				verified++
			}
		}
	}
	return acked, verified, nil
}

// trainings reports the trainings of the server's history that ran
// between from and to. The history gives start times to the second, so
// from is rounded down to one.
func (lt *loadTest) trainings(ctx context.Context, from, to time.Time) (*trainingReport, error) {
	var body struct {
		Trainings []struct {
			StartedAt time.Time `json:"started_at"`
			Seconds   float64   `json:"seconds"`
		} `json:"trainings"`
	}
	if err := lt.do(ctx, http.MethodGet, "/api/v1/model/trainings?limit=50", "", &body); err != nil {
		return nil, fmt.Errorf("read the training history: %w", err)
	}
	return summarizeTrainings(from, to, func(yield func(time.Time, time.Duration) bool) {
		for _, t := range body.Trainings {
			if !yield(t.StartedAt, time.Duration(t.Seconds*float64(time.Second))) {
				return
			}
		}
	}), nil
}

// summarizeTrainings reports the trainings (start, duration) that ran
// between from and to.
func summarizeTrainings(from, to time.Time, all func(yield func(time.Time, time.Duration) bool)) *trainingReport {
	from = from.Truncate(time.Second)
	var rep trainingReport
	var busy time.Duration
	var secs []float64
	for start, d := range all {
		end := start.Add(d)
		if lo, hi := maxTime(start, from), minTime(end, to); hi.After(lo) {
			busy += hi.Sub(lo)
		}
		if !start.Before(from) && !end.After(to) {
			secs = append(secs, d.Seconds())
		}
	}
	rep.Finished = len(secs)
	if len(secs) > 0 {
		slices.Sort(secs)
		rep.MedianSeconds = secs[len(secs)/2]
		if len(secs)%2 == 0 {
			rep.MedianSeconds = (secs[len(secs)/2-1] + secs[len(secs)/2]) / 2
		}
		rep.MaxSeconds = secs[len(secs)-1]
	}
	if run := to.Sub(from); run > 0 {
		rep.Busy = min(1, busy.Seconds()/run.Seconds())
	}
	return &rep
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// do sends one request and decodes a 200 answer into out (when not nil).
// Any other status is an error.
func (lt *loadTest) do(ctx context.Context, method, path, body string, out any) error {
	return lt.doStatus(ctx, method, path, body, http.StatusOK, out)
}

// doStatus is do for a request that answers want on success.
func (lt *loadTest) doStatus(ctx context.Context, method, path, body string, want int, out any) error {
	return lt.doAt(ctx, lt.base(), method, path, body, want, out)
}

// base returns the next server of the round-robin.
func (lt *loadTest) base() string {
	urls := lt.cfg.urls.urls
	return urls[int(lt.next.Add(1)-1)%len(urls)]
}

// doAt is doStatus on the server at base.
func (lt *loadTest) doAt(ctx context.Context, base, method, path, body string, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain")
	}
	if lt.cfg.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+lt.cfg.apiKey)
	}
	resp, err := lt.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s = %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// urlList is a flag of base URLs: comma-separated, or the flag repeated.
// The first Set replaces the default.
type urlList struct {
	urls    []string
	changed bool // Set ran: the default is gone
}

func (l *urlList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.urls, ",")
}

func (l *urlList) Set(v string) error {
	if !l.changed {
		l.urls, l.changed = nil, true
	}
	for _, u := range strings.Split(v, ",") {
		if u = strings.TrimSpace(u); u != "" {
			l.urls = append(l.urls, u)
		}
	}
	return nil
}

// measureVisibility runs the --visibility-probes: each posts one rating of
// a popular movie for a fresh user to one replica and polls the next
// replica's GET /{user}/ratings/top/10 until the answer differs from the
// one before the POST (the rated movie leaves the list, the user is folded
// in). Users come after the POST users' range.
func (lt *loadTest) measureVisibility(ctx context.Context) (*visibilityReport, error) {
	if len(lt.movies) == 0 {
		if err := lt.loadMovies(ctx); err != nil {
			return nil, err
		}
	}
	urls := lt.cfg.urls.urls
	rep := &visibilityReport{}
	var lat []time.Duration
	get := func(base, path string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return "", err
		}
		if lt.cfg.apiKey != "" {
			req.Header.Set("Authorization", "Bearer "+lt.cfg.apiKey)
		}
		resp, err := lt.client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("GET %s = %d %s", path, resp.StatusCode, b)
		}
		return string(b), err
	}
	for i := range lt.cfg.visibility {
		a, b := urls[i%len(urls)], urls[(i+1)%len(urls)]
		user := lt.cfg.postUserBase + lt.cfg.postUsers + i
		path := "/" + strconv.Itoa(user) + "/ratings/top/10"
		before, err := get(b, path)
		if err != nil {
			return nil, fmt.Errorf("visibility probe %d: %w", i, err)
		}
		// A movie the user has not rated (an earlier run may have used
		// the same user), so that the answer must change.
		var rated struct {
			Ratings []struct {
				MovieID int32 `json:"movie_id"`
			} `json:"ratings"`
		}
		if err := lt.doAt(ctx, a, http.MethodGet, "/api/v1/users/"+strconv.Itoa(user)+"/ratings", "", http.StatusOK, &rated); err != nil {
			return nil, fmt.Errorf("visibility probe %d: %w", i, err)
		}
		seen := make(map[int32]bool, len(rated.Ratings))
		for _, r := range rated.Ratings {
			seen[r.MovieID] = true
		}
		movie := int32(-1)
		for _, m := range lt.movies {
			if !seen[m] {
				movie = m
				break
			}
		}
		if movie < 0 {
			return nil, fmt.Errorf("visibility probe %d: user %d has rated every movie offered", i, user)
		}
		body := fmt.Sprintf("%d,5\n", movie)
		if err := lt.doAt(ctx, a, http.MethodPost, "/"+strconv.Itoa(user)+"/ratings", body, http.StatusOK, nil); err != nil {
			return nil, fmt.Errorf("visibility probe %d: %w", i, err)
		}
		acked := time.Now()
		for {
			now, err := get(b, path)
			if err != nil {
				return nil, fmt.Errorf("visibility probe %d: %w", i, err)
			}
			if now != before {
				lat = append(lat, time.Since(acked))
				break
			}
			if time.Since(acked) > 10*time.Second {
				rep.Timeouts++
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	slices.Sort(lat)
	rep.Probes = len(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[max(0, int(math.Ceil(p*float64(len(lat))))-1)].Microseconds()) / 1000
	}
	rep.P50ms, rep.P99ms, rep.MaxMs = q(0.5), q(0.99), q(1)
	return rep, nil
}
