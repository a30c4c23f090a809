package dataset_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"movierec/dataset"
	"movierec/engine"
)

// genSmall is small enough for -race yet long-tailed: with 2000 users and 500
// movies the top 1% (5 movies) could hold at most 5·2000 of 100000 ratings.
var genSmall = dataset.GenConfig{Users: 5000, Movies: 2000, Ratings: 100000, Seed: 7}

// generate runs Generate on cfg and returns the two files and the stats.
func generate(t testing.TB, cfg dataset.GenConfig) (ratings, movies []byte, st dataset.GenStats) {
	t.Helper()
	var r, m bytes.Buffer
	st, err := dataset.Generate(context.Background(), cfg, &r, &m, nil)
	if err != nil {
		t.Fatalf("Generate(%+v) error: %v", cfg, err)
	}
	return r.Bytes(), m.Bytes(), st
}

// loadGenerated parses generated files with Load, as the service would.
func loadGenerated(t *testing.T, ratings, movies []byte) *dataset.Dataset {
	t.Helper()
	d, err := dataset.Load(fstest.MapFS{
		"ratings.csv": {Data: ratings},
		"movies.csv":  {Data: movies},
	})
	if err != nil {
		t.Fatalf("Load(generated) error: %v", err)
	}
	return d
}

// checkShape checks the counts and uniqueness every generated set must have.
func checkShape(t *testing.T, cfg dataset.GenConfig, d *dataset.Dataset) (perUser, perMovie map[int32]int) {
	t.Helper()
	if got := int64(len(d.Ratings)); got != cfg.Ratings {
		t.Errorf("ratings = %d, want %d", got, cfg.Ratings)
	}
	if len(d.Movies) != cfg.Movies {
		t.Errorf("movies = %d, want %d", len(d.Movies), cfg.Movies)
	}
	for i, m := range d.Movies {
		if m.ID != int32(i+1) {
			t.Fatalf("movie %d has id %d, want %d", i, m.ID, i+1)
		}
	}
	perUser, perMovie = map[int32]int{}, map[int32]int{}
	type pair struct{ u, m int32 }
	seen := make(map[pair]bool, len(d.Ratings))
	for _, r := range d.Ratings {
		if r.User < 1 || int(r.User) > cfg.Users || r.Movie < 1 || int(r.Movie) > cfg.Movies {
			t.Fatalf("rating %+v: ids out of range", r)
		}
		if p := (pair{r.User, r.Movie}); seen[p] {
			t.Fatalf("pair (%d, %d) rated twice", r.User, r.Movie)
		} else {
			seen[p] = true
		}
		if r.Time < 946684800 || r.Time > 1704067200 {
			t.Fatalf("rating %+v: timestamp outside 2000..2024", r)
		}
		perUser[r.User]++
		perMovie[r.Movie]++
	}
	if len(perUser) != cfg.Users {
		t.Errorf("users with a rating = %d, want %d", len(perUser), cfg.Users)
	}
	return perUser, perMovie
}

func TestGenerateShape(t *testing.T) {
	cfg := genSmall
	ratings, movies, st := generate(t, cfg)
	if !bytes.HasPrefix(ratings, []byte("userId,movieId,rating,timestamp\n")) || bytes.Contains(ratings, []byte("\r")) {
		t.Errorf("ratings.csv does not start with the LF header: %q", ratings[:40])
	}
	d := loadGenerated(t, ratings, movies)
	if d.Layout != dataset.LayoutLatest || d.Scale != engine.MovieLensScale {
		t.Errorf("Load: layout %q scale %v, want ml-latest on the MovieLens scale", d.Layout, d.Scale)
	}
	perUser, perMovie := checkShape(t, cfg, d)

	// Long tails.
	mc := make([]int, 0, cfg.Movies)
	for _, n := range perMovie {
		mc = append(mc, n)
	}
	slices.Sort(mc)
	slices.Reverse(mc)
	top := 0
	for _, n := range mc[:cfg.Movies/100] {
		top += n
	}
	share := float64(top) / float64(cfg.Ratings)
	if share <= 0.10 {
		t.Errorf("top 1%% of movies hold %.1f%% of ratings, want > 10%%", 100*share)
	}
	uc := make([]int, 0, cfg.Users)
	for _, n := range perUser {
		uc = append(uc, n)
	}
	slices.Sort(uc)
	median, most := uc[len(uc)/2], uc[len(uc)-1]
	t.Logf("top 1%% of movies: %.1f%% of ratings; user activity median %d, max %d; %+v", 100*share, median, most, st)
	if most < 20*median {
		t.Errorf("max user activity %d < 20 × median %d", most, median)
	}

	// Stats agree with the files.
	if st.Ratings != cfg.Ratings || st.Users != cfg.Users || st.Movies != cfg.Movies ||
		st.RatedMovies != len(perMovie) || st.MaxUserRatings != most || st.MedianUserRatings != median {
		t.Errorf("stats %+v disagree with the files: %d rated movies, max %d, median %d", st, len(perMovie), most, median)
	}
	var hist [10]int64
	var sum float64
	for _, r := range d.Ratings {
		hist[int(r.Value*2)-1]++
		sum += float64(r.Value)
	}
	if hist != st.Histogram {
		t.Errorf("stats histogram %v, files %v", st.Histogram, hist)
	}
	if mean := sum / float64(len(d.Ratings)); math.Abs(mean-st.MeanRating) > 1e-9 || mean < 3 || mean > 4 {
		t.Errorf("mean rating %v (stats %v), want it in 3..4", mean, st.MeanRating)
	}
	// Gaussian noise 0.5 plus half-star rounding gives about
	// √(0.25 + 1/48) ≈ 0.52; clipping lowers it a little.
	if st.NoiseRMSE < 0.45 || st.NoiseRMSE > 0.53 {
		t.Errorf("NoiseRMSE = %v, want about 0.5", st.NoiseRMSE)
	}

	// Titles that need RFC 4180 quoting survive the round trip.
	var comma, quote bool
	for _, m := range d.Movies {
		comma = comma || strings.Contains(m.Title, ", The (")
		quote = quote || strings.HasPrefix(m.Title, `"Synthetic" Movie `)
	}
	if !comma || !quote {
		t.Errorf("no title with a comma (%t) or a quote (%t)", comma, quote)
	}
}

func TestGenerateDense(t *testing.T) {
	// Heavy users who rate most of the catalogue exercise the
	// without-replacement fallback; the last case rates every pair.
	for _, cfg := range []dataset.GenConfig{
		{Users: 40, Movies: 30, Ratings: 1000, Seed: 3},
		{Users: 5, Movies: 200, Ratings: 990, Seed: 4},
		{Users: 7, Movies: 11, Ratings: 77, Seed: 5, Rank: 2, Noise: -1},
	} {
		ratings, movies, st := generate(t, cfg)
		d := loadGenerated(t, ratings, movies)
		checkShape(t, cfg, d)
		if st.Ratings != cfg.Ratings {
			t.Errorf("Generate(%+v) stats ratings = %d", cfg, st.Ratings)
		}
	}
}

func TestGenerateNoNoise(t *testing.T) {
	// Without noise only rounding (at most 0.25) and clipping remain.
	_, _, st := generate(t, dataset.GenConfig{Users: 100, Movies: 100, Ratings: 3000, Seed: 2, Noise: -1})
	if st.NoiseRMSE > 0.25 || st.NoiseRMSE < 0.1 {
		t.Errorf("NoiseRMSE without noise = %v, want about √(1/48) ≈ 0.144", st.NoiseRMSE)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	r1, m1, s1 := generate(t, genSmall)
	runtime.GOMAXPROCS(2)
	r2, m2, s2 := generate(t, genSmall)
	runtime.GOMAXPROCS(prev)
	r3, m3, _ := generate(t, genSmall)
	if !bytes.Equal(r1, r2) || !bytes.Equal(m1, m2) || !bytes.Equal(r1, r3) || !bytes.Equal(m1, m3) {
		t.Errorf("Generate output differs between runs or GOMAXPROCS 1 and 2")
	}
	if s1 != s2 {
		t.Errorf("stats differ: %+v vs %+v", s1, s2)
	}
	other := genSmall
	other.Seed++
	r4, m4, _ := generate(t, other)
	if bytes.Equal(r1, r4) || bytes.Equal(m1, m4) {
		t.Errorf("seeds %d and %d give the same output", genSmall.Seed, other.Seed)
	}
}

func TestGenerateProgressAndCancel(t *testing.T) {
	cfg := dataset.GenConfig{Users: 30000, Movies: 1000, Ratings: 2_500_000, Seed: 1}
	if testing.Short() {
		cfg = dataset.GenConfig{Users: 5000, Movies: 1000, Ratings: 1_500_000, Seed: 1}
	}
	var calls [][2]int64
	_, err := dataset.Generate(t.Context(), cfg, io.Discard, io.Discard, func(done, total int64) {
		calls = append(calls, [2]int64{done, total})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) < 2 || calls[len(calls)-1] != [2]int64{cfg.Ratings, cfg.Ratings} {
		t.Fatalf("progress calls %v, want some and the last (%d, %d)", calls, cfg.Ratings, cfg.Ratings)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] <= calls[i-1][0] {
			t.Fatalf("progress not increasing: %v", calls)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	_, err = dataset.Generate(ctx, cfg, io.Discard, io.Discard, func(done, total int64) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Generate after cancel: error %v, want context.Canceled", err)
	}
	cancel()
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestGenerateWriteError(t *testing.T) {
	_, err := dataset.Generate(t.Context(), genSmall, &failWriter{n: 100000}, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Generate to a failing ratings writer: error %v, want disk full", err)
	}
	_, err = dataset.Generate(t.Context(), genSmall, io.Discard, &failWriter{n: 100}, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Generate to a failing movies writer: error %v, want disk full", err)
	}
}

func TestGenerateInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  dataset.GenConfig
	}{
		{"no users", dataset.GenConfig{Users: 0, Movies: 5, Ratings: 5}},
		{"no movies", dataset.GenConfig{Users: 5, Movies: 0, Ratings: 5}},
		{"fewer ratings than users", dataset.GenConfig{Users: 5, Movies: 5, Ratings: 4}},
		{"more ratings than pairs", dataset.GenConfig{Users: 5, Movies: 5, Ratings: 26}},
		{"negative rank", dataset.GenConfig{Users: 5, Movies: 5, Ratings: 5, Rank: -1}},
		{"NaN noise", dataset.GenConfig{Users: 5, Movies: 5, Ratings: 5, Noise: math.NaN()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dataset.Generate(t.Context(), tc.cfg, io.Discard, io.Discard, nil)
			if !errors.Is(err, engine.ErrInvalidInput) {
				t.Errorf("Generate(%+v) error = %v, want ErrInvalidInput", tc.cfg, err)
			}
		})
	}
}

func TestPresets(t *testing.T) {
	p := dataset.Presets()
	for name, want := range map[string][3]int64{
		"ml-25m":  {162541, 59047, 25000095},
		"netflix": {480189, 17770, 100480507},
		"small":   {610, 9742, 100836},
	} {
		c, ok := p[name]
		if !ok || [3]int64{int64(c.Users), int64(c.Movies), c.Ratings} != want {
			t.Errorf("Presets()[%q] = %+v, want users, movies, ratings %v", name, c, want)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := dataset.GenConfig{Users: 20000, Movies: 10000, Ratings: 3_000_000, Seed: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dataset.Generate(b.Context(), cfg, io.Discard, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.Ratings)*float64(b.N)/b.Elapsed().Seconds(), "ratings/s")
}
