package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime"

	"movierec/engine"
)

// The layouts [Load] recognises, as reported in Dataset.Layout.
const (
	LayoutLatest = "ml-latest" // ratings.csv + movies.csv (ml-latest, ml-latest-small, ml-20m, ml-25m, ml-32m)
	LayoutDat    = "ml-dat"    // ratings.dat + movies.dat (ml-1m, ml-10m)
	Layout100K   = "ml-100k"   // u.data + u.item
	// LayoutNetflix is the Netflix Prize training set: combined_data_*.txt
	// (or training_set/mv_*.txt) and movie_titles.csv.
	LayoutNetflix = "netflix"
	// LayoutPlain is a plain delimited ratings file (see LoadPlain); Load
	// never detects it.
	LayoutPlain = "plain"
)

// ErrNoDataset is returned by [Load] when the root of the file system holds
// the files of no known layout.
var ErrNoDataset = errors.New("no MovieLens data set")

// Dataset is a loaded MovieLens data set. Load returns a new Dataset owned by
// the caller; it is not safe for concurrent modification.
type Dataset struct {
	Layout  string          // one of the Layout constants
	Movies  []engine.Movie  // in file order
	Ratings []engine.Rating // in file order, duplicates not removed
	// Scale is the declared scale (Options.Scale) when there is one.
	// Otherwise it is engine.MovieLensScale for LayoutLatest; for LayoutDat
	// and Layout100K it is engine.WholeStarScale when every rating is a
	// whole number (ml-1m, ml-100k) and engine.MovieLensScale otherwise
	// (ml-10m); for LayoutNetflix and LayoutPlain it is detected from the
	// ratings by engine.ScaleDetector (1:5:1 for the Netflix Prize).
	Scale engine.Scale
}

// Options control LoadWith. The zero value is Load's behaviour.
type Options struct {
	// Layout is LayoutLatest, LayoutDat, Layout100K or LayoutNetflix, or
	// "" to detect it from the files present.
	Layout string
	// Scale declares the ratings' scale: every rating must be on it. Nil
	// means the MovieLens half stars for the MovieLens layouts (as Load
	// always did) and any finite rating, the scale then detected, for the
	// Netflix layout.
	Scale *engine.Scale
}

// layout names the two files of a layout and how to parse them.
type layout struct {
	name, ratings, movies string
	ratingsFormat         *ratingsFormat
	parseMovies           func(data []byte, name string) ([]engine.Movie, error)
}

// layouts are tried in this order.
var layouts = [...]layout{
	{LayoutLatest, "ratings.csv", "movies.csv", &csvRatings, parseMoviesCSV},
	{LayoutDat, "ratings.dat", "movies.dat", &datRatings, parseMoviesDat},
	{Layout100K, "u.data", "u.item", &uDataRatings, parseUItem},
}

// Load reads the MovieLens data set whose files are at the root of fsys. It
// detects the layout from the files present, trying in order ratings.csv +
// movies.csv, ratings.dat + movies.dat, u.data + u.item, and parses them as
// [ReadRatingsCSV] and [ReadMoviesCSV], [ReadRatingsDat] and [ReadMoviesDat],
// or [ReadUData] and [ReadUItem] do. Other files are ignored.
//
// Errors: ErrNoDataset (wrapped) when no layout's two files are both present;
// a *ParseError for a malformed row, for a duplicate movie id, and for a
// rating of a movie that is not in the movies file (its Err then wraps
// engine.ErrUnknownMovie); an fs error, wrapped, when a file can't be read.
func Load(fsys fs.FS) (*Dataset, error) { return LoadWith(fsys, Options{}) }

// LoadWith is Load with a layout chosen and a scale declared (see Options).
// It also reads the Netflix Prize layout, detected after the MovieLens ones
// from combined_data_*.txt or training_set/mv_*.txt (see
// [ReadRatingsNetflix] and [ReadMovieTitles]); its movie_titles.csv is
// optional (without it every rated movie is "Movie <id>"), and a rating of
// a movie that is not in it is a *ParseError wrapping
// engine.ErrUnknownMovie that names the "MovieID:" line.
func LoadWith(fsys fs.FS, o Options) (*Dataset, error) {
	if o.Layout == LayoutNetflix || (o.Layout == "" && netflixFiles(fsys) != nil && !anyMovieLens(fsys)) {
		return loadNetflix(fsys, o.Scale)
	}
	var l *layout
	var err error
	if o.Layout == "" {
		l, err = detect(fsys)
	} else {
		for i := range layouts {
			if layouts[i].name == o.Layout {
				l = &layouts[i]
			}
		}
		if l == nil {
			err = fmt.Errorf("layout %q: want %s, %s, %s or %s", o.Layout, LayoutLatest, LayoutDat, Layout100K, LayoutNetflix)
		}
	}
	if err != nil {
		return nil, err
	}
	mdata, err := fs.ReadFile(fsys, l.movies)
	if err != nil {
		return nil, fmt.Errorf("read movies: %w", err)
	}
	movies, err := l.parseMovies(mdata, l.movies)
	if err != nil {
		return nil, err
	}
	scale := &engine.MovieLensScale
	if o.Scale != nil {
		scale = o.Scale
	}
	ratings, first, err := loadRatings(fsys, l, scale)
	if err != nil {
		return nil, err
	}
	if err := checkMovies(ratings, movies, l.ratings, first, l.movies); err != nil {
		return nil, err
	}
	d := &Dataset{Layout: l.name, Movies: movies, Ratings: ratings, Scale: *scale}
	if o.Scale == nil && l.name != LayoutLatest && allWhole(ratings) {
		d.Scale = engine.WholeStarScale
	}
	return d, nil
}

// anyMovieLens reports whether fsys holds a file of a MovieLens layout.
func anyMovieLens(fsys fs.FS) bool {
	for _, l := range layouts {
		for _, name := range [...]string{l.ratings, l.movies} {
			if _, err := fs.Stat(fsys, name); err == nil {
				return true
			}
		}
	}
	return false
}

// setScale sets d.Scale to the declared scale, or detects it from the
// ratings (in parallel); name is the ratings file, for the error of a data
// set without ratings.
func (d *Dataset) setScale(declared *engine.Scale, name string) error {
	if declared != nil {
		d.Scale = *declared
		return nil
	}
	n := runtime.GOMAXPROCS(0)
	dets := make([]engine.ScaleDetector, n)
	rs := d.Ratings
	parallel(n, func(i int) {
		// A direct-mapped cache of values seen skips the detector for
		// the few values that make up most data sets.
		var seen [256]uint32
		for j := range seen {
			seen[j] = 0x7fc00001 // a NaN: never a rating
		}
		for _, r := range rs[i*len(rs)/n : (i+1)*len(rs)/n] {
			b := math.Float32bits(r.Value)
			h := (b ^ b>>8 ^ b>>16 ^ b>>24) & 255
			if seen[h] == b {
				continue
			}
			seen[h] = b
			dets[i].Add(r.Value)
		}
	})
	for i := 1; i < n; i++ {
		dets[0].Merge(&dets[i])
	}
	s, err := dets[0].Scale()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	d.Scale = s
	return nil
}

// LoadDir is Load(os.DirFS(dir)); its errors name dir.
func LoadDir(dir string) (*Dataset, error) { return LoadDirWith(dir, Options{}) }

// LoadDirWith is LoadWith(os.DirFS(dir), o); its errors name dir.
func LoadDirWith(dir string, o Options) (*Dataset, error) {
	d, err := LoadWith(os.DirFS(dir), o)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	return d, nil
}

// loadRatings reads and parses the ratings file of layout l in blocks,
// straight from the file: the whole file is never in memory.
func loadRatings(fsys fs.FS, l *layout, scale *engine.Scale) ([]engine.Rating, int, error) {
	f, err := fsys.Open(l.ratings)
	if err != nil {
		return nil, 0, fmt.Errorf("read ratings: %w", err)
	}
	defer f.Close()
	ratings, first, err := streamRatings(f, nil, newParser(l.ratings, l.ratingsFormat, newValueCheck(scale)), blockSize)
	if re, ok := err.(*readError); ok {
		return nil, 0, fmt.Errorf("read ratings: %w", re.err)
	}
	return ratings, first, err
}

// detect picks the first layout whose two files exist in fsys.
func detect(fsys fs.FS) (*layout, error) {
	exists := func(name string) bool {
		_, err := fs.Stat(fsys, name)
		return !errors.Is(err, fs.ErrNotExist)
	}
	for i := range layouts {
		l := &layouts[i]
		r, m := exists(l.ratings), exists(l.movies)
		switch {
		case r && m:
			return l, nil
		case r:
			return nil, fmt.Errorf("%w: found %s but not %s", ErrNoDataset, l.ratings, l.movies)
		case m:
			return nil, fmt.Errorf("%w: found %s but not %s", ErrNoDataset, l.movies, l.ratings)
		}
	}
	return nil, fmt.Errorf("%w: want ratings.csv and movies.csv, ratings.dat and movies.dat, u.data and u.item, or the Netflix Prize's combined_data_*.txt or training_set/mv_*.txt", ErrNoDataset)
}

// checkMovies returns a *ParseError for the first rating whose movie is not
// in movies. Rating i is on line first+i of the ratings file.
func checkMovies(ratings []engine.Rating, movies []engine.Movie, name string, first int, moviesName string) error {
	var maxID int32
	for _, m := range movies {
		maxID = max(maxID, m.ID)
	}
	var known func(int32) bool
	if maxID <= 1<<26 { // a bit set of at most 8 MiB
		bits := make([]uint64, maxID/64+1)
		for _, m := range movies {
			bits[m.ID/64] |= 1 << (m.ID % 64)
		}
		known = func(id int32) bool { return id <= maxID && bits[id/64]&(1<<(id%64)) != 0 }
	} else {
		set := make(map[int32]struct{}, len(movies))
		for _, m := range movies {
			set[m.ID] = struct{}{}
		}
		known = func(id int32) bool { _, ok := set[id]; return ok }
	}
	for i, r := range ratings {
		if !known(r.Movie) {
			return &ParseError{File: name, Line: first + i,
				Err: fmt.Errorf("%w %d (not in %s)", engine.ErrUnknownMovie, r.Movie, moviesName)}
		}
	}
	return nil
}

// allWhole reports whether every rating is a whole number.
func allWhole(ratings []engine.Rating) bool {
	for _, r := range ratings {
		if float64(r.Value) != math.Trunc(float64(r.Value)) {
			return false
		}
	}
	return true
}
