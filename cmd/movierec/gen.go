package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"movierec/dataset"
)

// runGen writes a synthetic data set into --out: ratings.csv, movies.csv
// and README.txt, or with --layout netflix combined_data_1.txt,
// movie_titles.csv and README.txt.
func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		lf      logFlags
		cfg     dataset.GenConfig
		preset  string
		out     string
		ratings int64
		layout  string
	)
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.Users, "users", 0, "number of users (each rates at least one movie)")
	fs.IntVar(&cfg.Movies, "movies", 0, "number of movies")
	fs.Int64Var(&ratings, "ratings", 0, "number of ratings")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed: the same flags give the same files")
	fs.IntVar(&cfg.Rank, "rank", 10, "rank of the hidden user and movie vectors")
	fs.Float64Var(&cfg.Noise, "noise", 0.5, "standard deviation of the Gaussian noise on each rating (0: none)")
	fs.StringVar(&preset, "preset", "", "start from a preset's counts: "+strings.Join(presetNames(), ", ")+" (flags given override it)")
	fs.StringVar(&out, "out", "", "output directory (required; created if missing)")
	fs.StringVar(&layout, "layout", dataset.LayoutLatest, "files to write: ml-latest (ratings.csv, movies.csv; half stars) or netflix (combined_data_1.txt, movie_titles.csv; whole stars 1-5, grouped by movie)")
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		fmt.Fprintln(stderr, "--out is required")
		return errUsage
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	cfg.Ratings = ratings
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if preset == "" && (!set["users"] || !set["movies"] || !set["ratings"]) {
		return fmt.Errorf("--users, --movies and --ratings are required without --preset")
	}
	if preset != "" {
		p, ok := dataset.Presets()[preset]
		if !ok {
			return fmt.Errorf("--preset %q: want one of %s", preset, strings.Join(presetNames(), ", "))
		}
		if !set["users"] {
			cfg.Users = p.Users
		}
		if !set["movies"] {
			cfg.Movies = p.Movies
		}
		if !set["ratings"] {
			cfg.Ratings = p.Ratings
		}
		if !set["rank"] {
			cfg.Rank = p.Rank
		}
		if !set["noise"] {
			cfg.Noise = p.Noise
		}
	}
	switch {
	case cfg.Noise == 0:
		cfg.Noise = -1 // GenConfig's spelling of "no noise"
	case cfg.Noise < 0:
		return fmt.Errorf("--noise %v: want a value ≥ 0", cfg.Noise)
	}
	if layout != dataset.LayoutLatest && layout != dataset.LayoutNetflix {
		return fmt.Errorf("--layout %q: want %s or %s", layout, dataset.LayoutLatest, dataset.LayoutNetflix)
	}
	if cfg.Rank < 1 {
		return fmt.Errorf("--rank %d: want a value ≥ 1", cfg.Rank)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}

	log.Info("generating", "out", out, "users", cfg.Users, "movies", cfg.Movies, "ratings", cfg.Ratings,
		"seed", cfg.Seed, "rank", cfg.Rank, "noise", max(cfg.Noise, 0))
	start := time.Now()
	st, err := genFiles(ctx, cfg, layout, out, func(done, total int64) {
		secs := time.Since(start).Seconds()
		log.Info("generation progress", "percent", fmt.Sprintf("%.1f", 100*float64(done)/float64(total)),
			"ratings", done, "ratings_per_s", fmt.Sprintf("%.0f", float64(done)/secs))
	})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	readme := genReadme(cfg, st, args)
	if layout == dataset.LayoutNetflix {
		readme = genNetflixReadme(cfg, st, args)
	}
	if err := os.WriteFile(filepath.Join(out, "README.txt"), readme, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "out               %s\nusers             %d\nmovies            %d (%d rated)\nratings           %d\nseconds           %.2f\nratings/s         %.0f\nmean rating       %.3f\nnoise floor RMSE  %.4f\n",
		out, st.Users, st.Movies, st.RatedMovies, st.Ratings, secs, float64(st.Ratings)/secs, st.MeanRating, st.NoiseRMSE)
	return nil
}

// genFiles writes ratings.csv and movies.csv into dir under temporary names
// and renames them when both are complete, so an interrupted run leaves no
// file that looks finished.
func genFiles(ctx context.Context, cfg dataset.GenConfig, layout, dir string, progress func(done, total int64)) (dataset.GenStats, error) {
	names := []string{filepath.Join(dir, "ratings.csv"), filepath.Join(dir, "movies.csv")}
	generate := dataset.Generate
	if layout == dataset.LayoutNetflix {
		names = []string{filepath.Join(dir, "combined_data_1.txt"), filepath.Join(dir, "movie_titles.csv")}
		generate = dataset.GenerateNetflix
	}
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	for _, n := range names {
		f, err := os.Create(n + ".tmp")
		if err != nil {
			return dataset.GenStats{}, err
		}
		files = append(files, f)
	}
	st, err := generate(ctx, cfg, files[0], files[1], progress)
	if err != nil {
		return st, err
	}
	for i, f := range files {
		if err := f.Close(); err != nil {
			return st, err
		}
		if err := os.Rename(f.Name(), names[i]); err != nil {
			return st, err
		}
	}
	return st, nil
}

func genReadme(cfg dataset.GenConfig, st dataset.GenStats, args []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `SYNTHETIC DATA: not MovieLens, not real users

Generated by "movierec gen %s".
ratings.csv and movies.csv follow the ml-latest layout (MovieLens 25M), but
every rating comes from a hidden model: score = mean + user bias + movie bias
+ user vector · movie vector (rank %d), plus Gaussian noise (standard
deviation %g), rounded to half stars and clipped to 0.5..5. Movie popularity
is Zipf-like and user activity lognormal; no user rates a movie twice.

users                %d
movies               %d (%d with ratings)
ratings              %d
seed                 %d
user activity        median %d, max %d ratings
mean rating          %.3f
noise floor RMSE     %.4f

The noise floor is the RMSE of these ratings against the noiseless hidden
scores (clamped to 0.5..5): no model can be expected to do better on
held-out ratings.
`, strings.Join(args, " "), cfg.Rank, max(cfg.Noise, 0), st.Users, st.Movies, st.RatedMovies, st.Ratings, cfg.Seed,
		st.MedianUserRatings, st.MaxUserRatings, st.MeanRating, st.NoiseRMSE)
	return []byte(b.String())
}

func presetNames() []string {
	var names []string
	for n := range dataset.Presets() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func genNetflixReadme(cfg dataset.GenConfig, st dataset.GenStats, args []string) []byte {
	return fmt.Appendf(nil, `SYNTHETIC DATA: not the Netflix Prize, not real customers

Generated by "movierec gen %s".
combined_data_1.txt and movie_titles.csv follow the Netflix Prize layout: a
"MovieID:" line, then that movie's "CustomerID,Rating,YYYY-MM-DD" lines;
titles "MovieID,YearOfRelease,Title" (some years NULL, some titles with
commas). Ratings are whole stars 1-5 from a hidden model (rank %d, noise
%g) with the roles of users and movies swapped, so that rows come grouped
by movie.

customers            %d
movies               %d
ratings              %d
seed                 %d
mean rating          %.3f
noise floor RMSE     %.4f
`, strings.Join(args, " "), cfg.Rank, max(cfg.Noise, 0), st.Users, st.Movies, st.Ratings, cfg.Seed, st.MeanRating, st.NoiseRMSE)
}
