package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"movierec/data"
	"movierec/dataset"
	"movierec/engine"
)

// scaleFlag is a --scale value: a declared rating scale, or none.
type scaleFlag struct {
	s   engine.Scale
	set bool
}

func (f *scaleFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return f.s.Spec()
}

func (f *scaleFlag) Set(v string) error {
	s, err := engine.ParseScale(v)
	if err != nil {
		return err
	}
	f.s, f.set = s, true
	return nil
}

// declared returns the declared scale, or nil.
func (f *scaleFlag) declared() *engine.Scale {
	if !f.set {
		return nil
	}
	s := f.s
	return &s
}

// scaleUsage documents --scale on every command that takes it.
const scaleUsage = "rating scale of the data: MIN:MAX:STEP (0.5:5:0.5, 1:10:1), MIN:MAX (any real in the range) or unbounded; " +
	"default: MovieLens half stars for the MovieLens layouts, detected from the ratings otherwise"

// dataSource is where a command's data set comes from: a directory of a
// known layout (--data, --layout), a plain delimited file (--ratings,
// --movies, --columns, --sep, --header/--no-header), or the bundled
// ml-latest-small; --scale declares its rating scale.
type dataSource struct {
	dir, layout      string
	scale            scaleFlag
	ratings, movies  string
	columns, sep     string
	header, noHeader bool
}

// register adds the flags; dataUsage describes --data for the command.
func (d *dataSource) register(fs *flag.FlagSet, dataUsage string) {
	fs.StringVar(&d.dir, "data", "", dataUsage)
	fs.StringVar(&d.layout, "layout", "", "layout of --data: ml-latest, ml-dat, ml-100k or netflix (default: detected from the files)")
	fs.Var(&d.scale, "scale", scaleUsage)
	fs.StringVar(&d.ratings, "ratings", "", "plain delimited ratings file (instead of --data): a user id, a movie id and a rating per line, see --columns")
	fs.StringVar(&d.movies, "movies", "", "with --ratings: movies file with id and title columns (optional genres); without it titles are \"Movie <id>\"")
	fs.StringVar(&d.columns, "columns", "", "with --ratings: the file's columns in order, e.g. user,movie,rating,timestamp or movie,user,-,rating (other names are ignored; default: from the header, else user,movie,rating[,timestamp])")
	fs.StringVar(&d.sep, "sep", "", "with --ratings: field separator: comma, tab, ::, | or ; (default: detected from the first line)")
	fs.BoolVar(&d.header, "header", false, "with --ratings: the first line is a header (default: when its first field holds a letter)")
	fs.BoolVar(&d.noHeader, "no-header", false, "with --ratings: the first line is data")
}

// validate checks the combination of flags.
func (d *dataSource) validate() error {
	plainOnly := d.movies != "" || d.columns != "" || d.sep != "" || d.header || d.noHeader
	switch {
	case d.ratings != "" && d.dir != "":
		return errors.New("--ratings and --data exclude each other: give a directory or a plain ratings file")
	case d.ratings == "" && plainOnly:
		return errors.New("--movies, --columns, --sep, --header and --no-header go with --ratings")
	case d.header && d.noHeader:
		return errors.New("--header and --no-header exclude each other")
	case d.ratings != "" && d.layout != "" && d.layout != dataset.LayoutPlain:
		return fmt.Errorf("--layout %s does not go with --ratings (a plain file)", d.layout)
	case d.layout == dataset.LayoutPlain && d.ratings == "":
		return errors.New("--layout plain needs --ratings FILE")
	}
	switch d.layout {
	case "", dataset.LayoutLatest, dataset.LayoutDat, dataset.Layout100K, dataset.LayoutNetflix, dataset.LayoutPlain:
		return nil
	}
	return fmt.Errorf("--layout %q: want ml-latest, ml-dat, ml-100k, netflix or plain", d.layout)
}

// bundled reports whether no data was named: the bundled data set is used.
func (d *dataSource) bundled() bool { return d.dir == "" && d.ratings == "" }

// load reads the data set, logging what it read.
func (d *dataSource) load(log *slog.Logger) (*dataset.Dataset, error) {
	start := time.Now()
	var ds *dataset.Dataset
	var err error
	opts := dataset.Options{Layout: d.layout, Scale: d.scale.declared()}
	name := d.dir
	switch {
	case d.ratings != "":
		name = d.ratings
		pf := dataset.PlainFormat{Columns: d.columns, Sep: d.sep}
		if d.header {
			pf.Header = "yes"
		} else if d.noHeader {
			pf.Header = "no"
		}
		ds, err = dataset.LoadPlain(dataset.PlainOptions{Ratings: d.ratings, Movies: d.movies, Format: pf, Scale: opts.Scale})
	case d.dir == "":
		name = "bundled ml-latest-small"
		ds, err = dataset.LoadWith(data.MLLatestSmall(), opts)
	default:
		ds, err = dataset.LoadDirWith(d.dir, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("load data %s: %w", name, err)
	}
	how := "detected"
	if d.scale.set {
		how = "declared"
	} else if ds.Layout != dataset.LayoutNetflix && ds.Layout != dataset.LayoutPlain {
		how = "of the layout"
	}
	log.Info("data loaded", "source", name, "layout", ds.Layout, "movies", len(ds.Movies),
		"ratings", len(ds.Ratings), "scale", ds.Scale.Spec(), "scale_from", how, "seconds", time.Since(start).Seconds())
	return ds, nil
}

// checkStored refuses a declared scale that differs from the one a
// database holds: its ratings were checked against that one.
func (d *dataSource) checkStored(stored engine.Scale, dbPath string) error {
	if d.scale.set && d.scale.s != stored {
		return fmt.Errorf("--scale %s: the database %s holds ratings on the scale %s (declare that, or start a new database)",
			d.scale.s.Spec(), dbPath, stored.Spec())
	}
	return nil
}
