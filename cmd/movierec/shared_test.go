package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"movierec/engine"
	"movierec/store/postgres"
	"movierec/store/postgres/pgtest"
)

// role is one movierec process of a multi-process test: its command,
// base URL and log.
type role struct {
	name string
	cmd  *exec.Cmd
	base string

	mu    sync.Mutex
	logs  []map[string]any
	added chan struct{} // signalled on every log line
	exit  chan struct{} // closed when the log ends (the process exited)
}

// modelArgs keep the models small, so trainings take about a second on a
// loaded 2-core machine.
var modelArgs = []string{"--backend", "cpu", "--rank", "8", "--iterations", "5", "--ranking-rank", "8",
	"--ranking-iterations", "5", "--retrain-interval", "500ms", "--log-format", "json", "--log-level", "debug"}

// startRole runs bin with args (a role: serve or trainer on 127.0.0.1:0)
// and returns once it serves and, when ready is set, once /readyz says
// 200.
func startRole(t *testing.T, name, bin string, ready bool, args ...string) *role {
	t.Helper()
	return startCmd(t, name, exec.Command(bin, append(args, modelArgs...)...), ready)
}

// startCmd is startRole for a command of the caller's (arguments and
// environment): it must log JSON, so that its "serving" line gives its
// address.
func startCmd(t *testing.T, name string, cmd *exec.Cmd, ready bool) *role {
	t.Helper()
	r := &role{name: name, cmd: cmd, added: make(chan struct{}, 1), exit: make(chan struct{})}
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		if t.Failed() {
			r.mu.Lock()
			for _, l := range r.logs[max(0, len(r.logs)-40):] {
				t.Logf("%s: %v", r.name, l)
			}
			r.mu.Unlock()
		}
	})
	addr := make(chan string, 1)
	go func() {
		defer close(r.exit)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				l = map[string]any{"msg": sc.Text()}
			}
			if l["msg"] == "serving" {
				a, _ := l["addr"].(string)
				addr <- a
			}
			r.mu.Lock()
			r.logs = append(r.logs, l)
			r.mu.Unlock()
			select {
			case r.added <- struct{}{}:
			default:
			}
		}
	}()
	select {
	case r.base = <-addr:
	case <-r.exit:
		t.Fatalf("%s exited before serving", name)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not listen in 60 s", name)
	}
	if ready {
		r.waitReady(t, 90*time.Second)
	}
	return r
}

func (r *role) waitReady(t *testing.T, d time.Duration) {
	t.Helper()
	waitUntil(t, d, r.name+" ready", func() bool {
		code, body := httpGet(r.base + "/readyz")
		return code == 200 && strings.Contains(body, `"status":"ready"`)
	})
}

// logged returns how many log lines have message msg.
func (r *role) logged(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, l := range r.logs {
		if l["msg"] == msg {
			n++
		}
	}
	return n
}

// waitLog waits until r logs a line with message msg more than n times.
func (r *role) waitLog(t *testing.T, d time.Duration, msg string, n int) {
	t.Helper()
	deadline := time.After(d)
	for r.logged(msg) <= n {
		select {
		case <-r.added:
		case <-r.exit:
			if r.logged(msg) <= n {
				t.Fatalf("%s exited before logging %q", r.name, msg)
			}
		case <-deadline:
			t.Fatalf("%s did not log %q within %v", r.name, msg, d)
		}
	}
}

// kill SIGKILLs r and waits for it to exit.
func (r *role) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", r.name, err)
	}
	<-r.exit
}

// waitUntil polls cond every 10 ms for up to d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func httpGet(url string) (int, string) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The movierec binary of the multi-process tests, built once per test
// binary (a build takes a minute under -race on a loaded 2-core box);
// TestMain removes binDir.
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// movierecBinary builds movierec once and returns its path.
func movierecBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "movierec-bin-"); binErr != nil {
			return
		}
		bin := filepath.Join(binDir, "movierec")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		binPath = bin
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// sharedDB starts a dedicated PostgreSQL cluster, imports the bundled
// data with `movierec import` and returns the database URL, the cluster
// and the binary.
func sharedDB(t *testing.T) (string, *pgtest.Cluster, string) {
	t.Helper()
	c := pgtest.NewCluster(t)
	url, err := c.CreateDB(t.Context(), "movierec")
	if err != nil {
		t.Fatal(err)
	}
	bin := movierecBinary(t)
	if out, err := exec.Command(bin, "import", "--db", url).CombinedOutput(); err != nil {
		t.Fatalf("movierec import: %v\n%s", err, out)
	}
	return url, c, bin
}

// postOutcome is what became of one POST.
type postOutcome int

const (
	acked    postOutcome = iota // 200: must be stored and seen everywhere
	rejected                    // a JSON error: nothing may be stored
	unknown                     // no answer (the replica died): either
)

// poster sends POSTs of fresh users round-robin to the replicas that are
// alive, from several goroutines, and records every outcome.
type poster struct {
	mu       sync.Mutex
	live     []*role
	outcomes map[int32]postOutcome
	bodies   map[int32]map[int32]float64
	statuses map[int]int
	stop     chan struct{}
	wg       sync.WaitGroup
	sent     atomic.Int64
}

// movies the posts rate: popular ones of the bundled data.
var postMovies = []int32{1, 2, 3, 6, 10, 32, 47, 50, 110, 150, 260, 296, 318, 356, 480, 527, 589, 593}

// invalidMovie makes a POST fail as a whole (404): all or nothing.
const invalidMovie = 999_999_999

func startPosting(replicas []*role, goroutines int) *poster {
	p := &poster{live: slices.Clone(replicas), outcomes: make(map[int32]postOutcome), bodies: make(map[int32]map[int32]float64),
		statuses: make(map[int]int), stop: make(chan struct{})}
	for g := range goroutines {
		p.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-p.stop:
					return
				default:
				}
				user := int32(1_000_000 + g*100_000 + i)
				p.mu.Lock()
				if len(p.live) == 0 {
					p.mu.Unlock()
					return
				}
				r := p.live[(g+i)%len(p.live)]
				p.mu.Unlock()
				vals := map[int32]float64{}
				var body strings.Builder
				for k := range 2 {
					m := postMovies[(g*7+i*3+k*5)%len(postMovies)]
					v := float64(1+(i+k)%9) / 2
					vals[m] = v
					fmt.Fprintf(&body, "%d,%g\n", m, v)
				}
				if i%10 == 9 {
					fmt.Fprintf(&body, "%d,4\n", invalidMovie)
				}
				out, status := p.post(r.base, user, body.String())
				p.mu.Lock()
				p.outcomes[user], p.bodies[user] = out, vals
				p.statuses[status]++
				p.mu.Unlock()
				p.sent.Add(1)
			}
		})
	}
	return p
}

func (p *poster) post(base string, user int32, body string) (postOutcome, int) {
	resp, err := httpClient.Post(fmt.Sprintf("%s/%d/ratings", base, user), "text/plain", strings.NewReader(body))
	if err != nil {
		return unknown, 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		return acked, 200
	}
	var e struct{ Error string }
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return rejected, resp.StatusCode
	}
	return unknown, resp.StatusCode
}

// remove takes r out of the round-robin (before it is killed: POSTs
// already sent to it stay in flight).
func (p *poster) remove(r *role) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live = slices.DeleteFunc(p.live, func(x *role) bool { return x == r })
}

func (p *poster) finish() {
	close(p.stop)
	p.wg.Wait()
}

// checkStored checks every outcome against the database: acknowledged
// POSTs stored exactly, rejected ones not at all.
func (p *poster) checkStored(t *testing.T, url string) {
	t.Helper()
	db, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := map[postOutcome]int{}
	for user, out := range p.outcomes {
		n[out]++
		rs, err := db.UserRatings(t.Context(), user)
		if err != nil {
			t.Fatalf("UserRatings(%d): %v", user, err)
		}
		switch out {
		case acked:
			got := map[int32]float64{}
			for _, r := range rs {
				got[r.Movie] = float64(r.Value)
			}
			if fmt.Sprint(got) != fmt.Sprint(p.bodies[user]) {
				t.Errorf("acknowledged POST of user %d: stored %v, want %v", user, got, p.bodies[user])
			}
		case rejected:
			if len(rs) != 0 {
				t.Errorf("rejected POST of user %d: stored %v, want nothing", user, rs)
			}
		}
	}
	t.Logf("POSTs: %d acknowledged, %d rejected, %d without answer; statuses %v", n[acked], n[rejected], n[unknown], p.statuses)
	if n[acked] == 0 || n[rejected] == 0 {
		t.Errorf("want both acknowledged and rejected POSTs, got %v", n)
	}
}

// checkCounts waits until every replica's rating counts of the posted
// movies (from memory) equal the database's.
func checkCounts(t *testing.T, url string, replicas ...*role) {
	t.Helper()
	db, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, _, err := db.Ratings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int{}
	for _, r := range rs {
		want[r.Movie]++
	}
	for _, r := range replicas {
		waitUntil(t, 10*time.Second, r.name+"'s counts to match the database", func() bool {
			for _, m := range postMovies {
				code, body := httpGet(fmt.Sprintf("%s/api/v1/movies/%d", r.base, m))
				var mv struct {
					RatingsCount int `json:"ratings_count"`
				}
				if code != 200 || json.Unmarshal([]byte(body), &mv) != nil || mv.RatingsCount != want[m] {
					return false
				}
			}
			return true
		})
	}
}

// modelVersion is the data version of r's published model (-1 without).
func modelVersion(r *role) int64 {
	code, body := httpGet(r.base + "/api/v1/model")
	var m struct {
		DataVersion int64 `json:"data_version"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &m) != nil {
		return -1
	}
	return m.DataVersion
}

// TestReplicasAndTrainer: PostgreSQL, three serve replicas (one eligible
// to train) and a trainer; POSTs round-robin from several goroutines; the
// trainer is SIGKILLed mid-training (the eligible replica takes over
// within 10 s and publishes a model the others load) and a replica mid-
// POST-stream. At the end every acknowledged rating is in PostgreSQL and
// counted by every surviving replica, and no rejected one is stored.
func TestReplicasAndTrainer(t *testing.T) {
	url, _, bin := sharedDB(t)
	trainer := startRole(t, "trainer", bin, true, "trainer", "--db", url, "--addr", "127.0.0.1:0")
	r0 := startRole(t, "r0", bin, true, "serve", "--db", url, "--addr", "127.0.0.1:0", "--train=false")
	r1 := startRole(t, "r1", bin, true, "serve", "--db", url, "--addr", "127.0.0.1:0", "--train=false")
	r2 := startRole(t, "r2", bin, true, "serve", "--db", url, "--addr", "127.0.0.1:0") // eligible
	if n := r2.logged("trainer lock taken: this process trains"); n != 0 {
		t.Fatalf("r2 took the trainer lock while the trainer holds it")
	}
	if code, _ := httpGet(trainer.base + "/1/ratings/top/3"); code != 404 {
		t.Errorf("trainer GET /1/ratings/top/3 = %d, want 404 (no API)", code)
	}

	p := startPosting([]*role{r0, r1, r2}, 4)
	// Kill the trainer during a training caused by the posts.
	started := trainer.logged("training started")
	trainer.waitLog(t, 60*time.Second, "training started", started)
	trainer.kill(t)
	killed := time.Now()
	// Kill a replica while POSTs are in flight to it.
	for n := p.sent.Load(); p.sent.Load() < n+50; {
		time.Sleep(5 * time.Millisecond)
	}
	r1.kill(t)
	p.remove(r1)
	r2.waitLog(t, 10*time.Second, "trainer lock taken: this process trains", 0)
	t.Logf("failover: r2 took the trainer lock %.1f s after the trainer was killed", time.Since(killed).Seconds())
	for n := p.sent.Load(); p.sent.Load() < n+100; {
		time.Sleep(5 * time.Millisecond)
	}
	p.finish()

	p.checkStored(t, url)
	checkCounts(t, url, r0, r2)
	// bench --http spreads over the surviving replicas; a POST to one
	// changes the other's answer (visibility probes).
	var out, errb bytes.Buffer
	args := []string{"--http", "--url", r0.base + "," + r2.base, "--duration", "1s", "--get-concurrency", "4",
		"--post-rate", "20", "--visibility-probes", "20", "--json"}
	if err := runLoadTest(t.Context(), args, &out, &errb); err != nil {
		t.Fatalf("bench %v = %v\n%s", args, err, errb.String())
	}
	var rep loadReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if v := rep.Visibility; v == nil || v.Probes != 20 || v.Timeouts != 0 || rep.Verified != rep.Acknowledged {
		t.Errorf("bench across replicas: visibility %+v, acknowledged %d, verified %d; want 20 probes seen, all verified", v, rep.Acknowledged, rep.Verified)
	} else {
		t.Logf("cross-replica visibility: p50 %.1f ms, p99 %.1f ms, max %.1f ms", v.P50ms, v.P99ms, v.MaxMs)
	}
	// The new trainer publishes a model of the final data; r0 loads it.
	waitUntil(t, 60*time.Second, "r0 to load a model trained by r2 after the posts", func() bool {
		v := modelVersion(r2)
		return v > 0 && r2.logged("model published") > 0 && modelVersion(r0) == v
	})
}

// TestTrainerFailover: two eligible processes, a trainer and a serve
// replica; when the one holding the lock is SIGKILLed the other trains
// within 10 s.
func TestTrainerFailover(t *testing.T) {
	url, _, bin := sharedDB(t)
	trainer := startRole(t, "trainer", bin, true, "trainer", "--db", url, "--addr", "127.0.0.1:0")
	r := startRole(t, "r", bin, true, "serve", "--db", url, "--addr", "127.0.0.1:0")
	if r.logged("trainer lock taken: this process trains") != 0 {
		t.Fatal("both processes took the trainer lock")
	}
	trainer.kill(t)
	killed := time.Now()
	r.waitLog(t, 10*time.Second, "trainer lock taken: this process trains", 0)
	took := time.Since(killed)
	// It trains on a write.
	code := 0
	if resp, err := httpClient.Post(r.base+"/4242/ratings", "text/plain", strings.NewReader("1,5\n2,4\n")); err == nil {
		code = resp.StatusCode
		resp.Body.Close()
	}
	if code != 200 {
		t.Fatalf("POST = %d, want 200", code)
	}
	r.waitLog(t, 60*time.Second, "model published", 0)
	t.Logf("the replica took over %.2f s after the trainer was killed", took.Seconds())
}

// TestDatabaseOutage stops PostgreSQL under load: replicas keep answering
// GETs from memory, POSTs answer 503 naming the cause and store nothing,
// /readyz says degraded; when PostgreSQL returns they reconnect by
// themselves and nothing acknowledged is lost.
func TestDatabaseOutage(t *testing.T) {
	url, cluster, bin := sharedDB(t)
	a := startRole(t, "a", bin, true, "serve", "--db", url, "--addr", "127.0.0.1:0")
	b := startRole(t, "b", bin, true, "serve", "--db", url, "--addr", "127.0.0.1:0", "--train=false")
	p := startPosting([]*role{a, b}, 3)
	var getsOK, getsFailed atomic.Int64
	stopGets := make(chan struct{})
	var gets sync.WaitGroup
	gets.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stopGets:
				return
			default:
			}
			r := []*role{a, b}[i%2]
			if code, _ := httpGet(fmt.Sprintf("%s/%d/ratings/top/5", r.base, 1+i%600)); code == 200 {
				getsOK.Add(1)
			} else {
				getsFailed.Add(1)
			}
		}
	})
	for n := p.sent.Load(); p.sent.Load() < n+50; {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*role{a, b} {
		waitUntil(t, 10*time.Second, r.name+" /readyz degraded", func() bool {
			code, body := httpGet(r.base + "/readyz")
			return code == 200 && strings.Contains(body, `"status":"degraded"`)
		})
		resp, err := httpClient.Post(r.base+"/4243/ratings", "text/plain", strings.NewReader("1,5\n"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || !strings.Contains(string(body), engine.ErrStoreUnavailable.Error()) {
			t.Errorf("%s: POST with the database down = %d %s, want 503 naming the cause", r.name, resp.StatusCode, body)
		}
	}
	failedBefore := getsFailed.Load()
	okBefore := getsOK.Load()
	time.Sleep(time.Second) // serve GETs for a while with the database down
	if getsFailed.Load() != failedBefore || getsOK.Load() == okBefore {
		t.Errorf("GETs with the database down: %d more failed, %d more answered; want none failed", getsFailed.Load()-failedBefore, getsOK.Load()-okBefore)
	}
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*role{a, b} {
		r.waitReady(t, 30*time.Second)
	}
	for n := p.sent.Load(); p.sent.Load() < n+50; {
		time.Sleep(5 * time.Millisecond)
	}
	p.finish()
	close(stopGets)
	gets.Wait()
	if p.statuses[503] == 0 {
		t.Errorf("no POST answered 503 during the outage: statuses %v", p.statuses)
	}
	if getsFailed.Load() != 0 {
		t.Errorf("%d GETs failed (of %d)", getsFailed.Load(), getsOK.Load()+getsFailed.Load())
	}
	p.checkStored(t, url)
	checkCounts(t, url, a, b)
	// 4243 was refused on both.
	db, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if rs, _ := db.UserRatings(context.Background(), 4243); len(rs) != 0 {
		t.Errorf("a POST answered 503 was stored: %v", rs)
	}
}

// writeDataSet writes a MovieLens data set (movies.csv, ratings.csv) into
// a new directory and returns it.
func writeDataSet(t *testing.T, movies, ratings string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"movies.csv":  "movieId,title,genres\n" + movies,
		"ratings.csv": "userId,movieId,rating,timestamp\n" + ratings,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// getJSON GETs url into v and returns the status (0 when the body is
// not v's JSON).
func getJSON(url string, v any) int {
	code, body := httpGet(url)
	if json.Unmarshal([]byte(body), v) != nil {
		return 0
	}
	return code
}

// TestImportReachesReplicas: movies imported while replicas run reach
// them without a restart: with their ratings (the import's changes), a
// movie imported without ratings (the catalog version), writes naming
// them on any replica, and models trained after the import.
func TestImportReachesReplicas(t *testing.T) {
	url, _, bin := sharedDB(t)
	r0 := startRole(t, "r0", bin, true, "serve", "--db", url, "--addr", "127.0.0.1:0") // trains
	r1 := startRole(t, "r1", bin, true, "serve", "--db", url, "--addr", "127.0.0.1:0", "--train=false")
	replicas := []*role{r0, r1}
	waitUntil(t, 60*time.Second, "r1 to serve r0's first model", func() bool {
		v := modelVersion(r0)
		return v > 0 && modelVersion(r1) == v
	})

	type movie struct {
		Title        string  `json:"title"`
		RatingsCount int     `json:"ratings_count"`
		Average      float64 `json:"average_rating"`
	}
	importData := func(dir string, want string) {
		t.Helper()
		out, err := exec.Command(bin, "import", "--db", url, "--data", dir).CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Fatalf("movierec import --data %s: %v\n%s\nwant %q", dir, err, out, want)
		}
	}
	// A data set that extends the catalog (movie 1 is stored already).
	movies := "1,Toy Story (1995),Comedy\n" + `300001,"Imported Later, The (2026)",Drama` + "\n" + "300002,Imported Unrated (2026),Comedy\n"
	ratings := "1,300001,4.5,1700000000\n900001,300001,3.5,1700000000\n900001,1,4.0,1700000000\n"
	importData(writeDataSet(t, movies, ratings), "imported 3 ")
	imported := time.Now()
	for _, r := range replicas {
		waitUntil(t, 10*time.Second, r.name+" to serve the imported movie with its ratings", func() bool {
			var m movie
			return getJSON(r.base+"/api/v1/movies/300001", &m) == 200 && m.RatingsCount == 2 && m.Average == 4 &&
				m.Title == "Imported Later, The (2026)"
		})
		t.Logf("%s serves the imported movie %v after the import exited", r.name, time.Since(imported).Round(time.Millisecond))
		var m movie
		if code := getJSON(r.base+"/api/v1/movies/300002", &m); code != 200 || m.RatingsCount != 0 {
			t.Errorf("%s: GET /api/v1/movies/300002 = %d %+v, want 200 and no ratings", r.name, code, m)
		}
		var ur struct {
			Ratings []struct {
				MovieID int32   `json:"movie_id"`
				Title   string  `json:"title"`
				Rating  float32 `json:"rating"`
			} `json:"ratings"`
		}
		if code := getJSON(r.base+"/api/v1/users/900001/ratings", &ur); code != 200 || len(ur.Ratings) != 2 ||
			ur.Ratings[1].MovieID != 300001 || ur.Ratings[1].Title != "Imported Later, The (2026)" || ur.Ratings[1].Rating != 3.5 {
			t.Errorf("%s: GET /api/v1/users/900001/ratings = %d %+v, want movies 1 and 300001 with titles", r.name, code, ur)
		}
		// The model trained before the import predicts the average.
		if code, body := httpGet(r.base + "/1/ratings/300001"); code != 200 || !strings.Contains(body, "Imported Later") {
			t.Errorf("%s: GET /1/ratings/300001 = %d %s, want 200", r.name, code, body)
		}
	}

	// An import that adds a movie and no ratings moves only the catalog.
	importData(writeDataSet(t, movies+"300003,Imported Alone (2026),Drama\n", ratings), "nothing imported")
	imported = time.Now()
	for _, r := range replicas {
		waitUntil(t, 5*time.Second, r.name+" to serve the movie imported without ratings", func() bool {
			var m movie
			return getJSON(r.base+"/api/v1/movies/300003", &m) == 200
		})
		t.Logf("%s serves the movie imported alone %v after the import exited", r.name, time.Since(imported).Round(time.Millisecond))
	}
	if code, body := post(t, r1.base+"/api/v1/users/900002/ratings", "application/json",
		`[{"movie_id": 300003, "rating": 5}, {"movie_id": 300002, "rating": 2}]`); code != 200 {
		t.Fatalf("r1: POST ratings of the imported movies = %d %s, want 200", code, body)
	}
	waitUntil(t, 5*time.Second, "r0 to count r1's rating of movie 300003", func() bool {
		var m movie
		return getJSON(r0.base+"/api/v1/movies/300003", &m) == 200 && m.RatingsCount == 1
	})

	// r0 trains on the new data; r1 loads the model, which covers the
	// imported movies.
	db, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.DataVersion(t.Context())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 60*time.Second, fmt.Sprintf("r1 to load a model of data version %d", v), func() bool { return modelVersion(r1) >= v })
	var sim struct {
		Similar []struct {
			MovieID int32 `json:"movie_id"`
		} `json:"similar"`
	}
	if code := getJSON(r1.base+"/api/v1/movies/300003/similar?limit=5&min_ratings=1", &sim); code != 200 || len(sim.Similar) == 0 {
		t.Errorf("r1: GET /api/v1/movies/300003/similar = %d %+v, want similar movies from a model that has its factors", code, sim)
	}
	var recs struct {
		Recommendations []struct {
			MovieID int32 `json:"movie_id"`
		} `json:"recommendations"`
	}
	if code := getJSON(r1.base+"/api/v1/users/900002/recommendations?limit=10&min_ratings=0", &recs); code != 200 || len(recs.Recommendations) != 10 {
		t.Errorf("r1: GET /api/v1/users/900002/recommendations = %d %+v, want 10", code, recs)
	}
	for _, r := range replicas {
		if n := r.logged("changes name movies missing from the catalog; skipped"); n != 0 {
			t.Errorf("%s skipped changes of imported movies (%d log lines)", r.name, n)
		}
	}
}
