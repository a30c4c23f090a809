package dataset_test

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"

	"movierec/dataset"
	"movierec/engine"
)

// synthRatingsCSV builds a ratings.csv of n rows shaped like MovieLens's:
// CRLF, ratings "0.5".."5.0", 9- or 10-digit timestamps.
func synthRatingsCSV(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 0, n*30)
	b = append(b, "userId,movieId,rating,timestamp\r\n"...)
	user := 1
	for i := range n {
		if i%150 == 0 {
			user++
		}
		b = strconv.AppendInt(b, int64(user), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, 1+rng.Int64N(200000), 10)
		b = append(b, ',')
		half := 1 + rng.IntN(10)
		b = strconv.AppendInt(b, int64(half/2), 10)
		b = append(b, '.', "05"[half%2])
		b = append(b, ',')
		b = strconv.AppendInt(b, 789652009+rng.Int64N(900000000), 10)
		b = append(b, '\r', '\n')
	}
	return b
}

func benchRatings(b *testing.B, in []byte, read func([]byte) ([]engine.Rating, error)) {
	b.Helper()
	rows, err := read(in)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := read(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func readCSV(in []byte) ([]engine.Rating, error) {
	return dataset.ReadRatingsCSV(bytes.NewReader(in), "ratings.csv")
}

func readCSVWorkers(workers int) func([]byte) ([]engine.Rating, error) {
	return func(in []byte) ([]engine.Rating, error) {
		return dataset.ParseRatings(in, "ratings.csv", "csv", workers)
	}
}

// BenchmarkReadRatingsCSV measures ReadRatingsCSV (all of it: the copy of
// the input, the parallel parse, the result) on the bundled ml-latest-small
// ratings (100,836 rows) and on 2 million synthetic rows; "sequential" is
// the same parse on one goroutine, "quoted" the quote-aware path.
func BenchmarkReadRatingsCSV(b *testing.B) {
	small := bundled(b, "ratings.csv")
	large := synthRatingsCSV(2_000_000)
	b.Run("ml-latest-small", func(b *testing.B) { benchRatings(b, small, readCSV) })
	b.Run("ml-latest-small/sequential", func(b *testing.B) { benchRatings(b, small, readCSVWorkers(1)) })
	b.Run("ml-latest-small/quoted", func(b *testing.B) { benchRatings(b, quoteAll(small), readCSVWorkers(1)) })
	b.Run("synthetic-2M", func(b *testing.B) { benchRatings(b, large, readCSV) })
	b.Run("synthetic-2M/sequential", func(b *testing.B) { benchRatings(b, large, readCSVWorkers(1)) })
}

// BenchmarkLoad measures Load on the bundled ml-latest-small: both files,
// the movie check.
func BenchmarkLoad(b *testing.B) {
	fsys := dataFS(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dataset.Load(fsys); err != nil {
			b.Fatal(err)
		}
	}
}

// synthNetflix generates about n ratings in the Netflix Prize layout.
func synthNetflix(b *testing.B, n int64) []byte {
	b.Helper()
	var ratings, titles bytes.Buffer
	cfg := dataset.GenConfig{Users: int(n / 200), Movies: 2000, Ratings: n, Seed: 1}
	if _, err := dataset.GenerateNetflix(b.Context(), cfg, &ratings, &titles, nil); err != nil {
		b.Fatal(err)
	}
	return ratings.Bytes()
}

// BenchmarkReadRatingsNetflix measures ReadRatingsNetflix on 2 million
// generated ratings, with the scale detected afterwards by the loader (not
// here) and declared (1:5:1); "sequential" is one goroutine.
func BenchmarkReadRatingsNetflix(b *testing.B) {
	in := synthNetflix(b, 2_000_000)
	read := func(scale *engine.Scale) func([]byte) ([]engine.Rating, error) {
		return func(in []byte) ([]engine.Rating, error) {
			return dataset.ReadRatingsNetflix(bytes.NewReader(in), "combined_data_1.txt", scale)
		}
	}
	b.Run("synthetic-2M", func(b *testing.B) { benchRatings(b, in, read(nil)) })
	b.Run("synthetic-2M/declared", func(b *testing.B) { benchRatings(b, in, read(&engine.WholeStarScale)) })
	b.Run("synthetic-2M/sequential", func(b *testing.B) {
		benchRatings(b, in, func(in []byte) ([]engine.Rating, error) {
			return dataset.ReadNetflixBlocks(bytes.NewReader(in), "c.txt", 16<<20, 1)
		})
	})
}

// BenchmarkReadRatingsPlain measures ReadRatingsPlain on 2 million
// synthetic rows with the columns reordered (movie first, tab-separated),
// so that every row takes the column-mapping parser.
func BenchmarkReadRatingsPlain(b *testing.B) {
	csv := synthRatingsCSV(2_000_000)
	var in []byte
	for i, line := range bytes.Split(bytes.TrimSpace(csv), []byte("\r\n")) {
		if i == 0 {
			continue
		}
		f := bytes.Split(line, []byte(","))
		in = append(in, f[1]...)
		in = append(in, '\t')
		in = append(in, f[0]...)
		in = append(in, '\t')
		in = append(in, f[2]...)
		in = append(in, '\n')
	}
	pf := dataset.PlainFormat{Columns: "movie,user,rating", Sep: "tab", Header: "no"}
	benchRatings(b, in, func(in []byte) ([]engine.Rating, error) {
		return dataset.ReadRatingsPlain(bytes.NewReader(in), "r.tsv", pf, nil)
	})
}
