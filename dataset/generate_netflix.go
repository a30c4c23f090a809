package dataset

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// GenerateNetflix writes a synthetic data set in the Netflix Prize layout
// (see [ReadRatingsNetflix]): to ratings one combined_data file, every
// movie's "MovieID:" line followed by its "CustomerID,Rating,YYYY-MM-DD"
// rows (customers ascending), and to titles a movie_titles.csv
// ("MovieID,YearOfRelease,Title", some years NULL, some titles with
// commas). Ratings are whole stars 1–5. The hidden model and the shapes are
// those of [Generate] with the roles of users and movies swapped, so that
// the rows come grouped by movie as in the real files: movie activity is
// lognormal and customer popularity Zipf-like; cfg.Users is the number of
// customers (ids 1..Users) and cfg.Movies the number of movies (1..Movies).
// A customer may rate no movie. The statistics count as Generate's do,
// except that MaxUserRatings and MedianUserRatings describe the movies'
// rating counts and RatedMovies the customers with a rating. Errors are
// Generate's.
func GenerateNetflix(ctx context.Context, cfg GenConfig, ratings, titles io.Writer, progress func(done, total int64)) (GenStats, error) {
	swapped := cfg
	swapped.Users, swapped.Movies = cfg.Movies, cfg.Users
	g, err := newGenerator(swapped)
	if err != nil {
		return GenStats{}, err
	}
	g.netflix = true
	// The customers' hidden vectors and biases; their CSV is not wanted.
	if err := g.writeMovies(bufio.NewWriter(io.Discard)); err != nil {
		return GenStats{}, err
	}
	bw := bufio.NewWriterSize(titles, 1<<16)
	var src rand.PCG
	rng := rand.New(&src)
	var line []byte
	for id := 1; id <= cfg.Movies; id++ {
		src.Seed(cfg.Seed, streamMovie|1<<61|uint64(id))
		year := 1920 + rng.IntN(86)
		if rng.IntN(50) == 0 {
			year = 0 // NULL
		}
		title := "Synthetic Movie " + strconv.Itoa(id)
		if id%10 == 3 {
			title += ", The"
		}
		line = netflixTitleLine(line[:0], int32(id), year, title)
		if _, err := bw.Write(line); err != nil {
			return GenStats{}, fmt.Errorf("write titles: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return GenStats{}, fmt.Errorf("write titles: %w", err)
	}
	st, err := g.writeRatings(ctx, ratings, progress)
	st.Users, st.Movies = cfg.Users, cfg.Movies
	return st, err
}

// appendDate appends the UTC date of Unix time ts (≥ 0) as YYYY-MM-DD.
func appendDate(dst []byte, ts int64) []byte {
	// Howard Hinnant's civil_from_days.
	z := ts/86400 + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}
