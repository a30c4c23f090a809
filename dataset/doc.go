// Package dataset reads rating data sets into the engine's domain types:
// the MovieLens data sets published by GroupLens Research, the Netflix
// Prize training set, and plain delimited files.
//
// Four layouts are recognised by [Load] from the files at the root of a
// file system ([LoadWith] can also choose one and declare a scale):
//
//   - "ml-latest" ([LayoutLatest]): ratings.csv and movies.csv of ml-latest,
//     ml-latest-small, ml-20m, ml-25m and ml-32m. RFC 4180 CSV with a header
//     row, UTF-8 (a byte order mark is tolerated), LF or CRLF line ends.
//   - "ml-dat" ([LayoutDat]): ratings.dat and movies.dat of ml-1m and ml-10m,
//     fields separated by "::". movies.dat of ml-1m is Latin-1.
//   - "ml-100k" ([Layout100K]): u.data (tab separated) and u.item ('|'
//     separated, Latin-1, 19 genre flags) of ml-100k.
//   - "netflix" ([LayoutNetflix]): the Netflix Prize's combined_data_*.txt
//     (or training_set/mv_*.txt) and movie_titles.csv; see
//     [ReadRatingsNetflix] and [ReadMovieTitles].
//
// A fifth, "plain" ([LayoutPlain]), is any delimited ratings file with an
// optional movies file, read by [LoadPlain] (see [PlainFormat]).
//
// The Read* functions parse one file from an io.Reader and can be used on
// their own. Every reader is strict: a malformed row is an error, a
// [*ParseError] that names the file, the 1-based line and the value, and
// nothing is skipped silently. Only empty lines at the very end of a file
// are ignored. Ratings are decimal numbers as data tools write them, read
// by [engine.ParseDecimal] ("4", "4.5", "45e-1", "-9.4e-05"; not "0_5",
// "0x1p2", "inf", "nan" or numbers with spaces). In the MovieLens layouts
// they must be exactly one of the values of [engine.MovieLensScale] (0.5
// to 5 in steps of 0.5, see [engine.Scale.Snap]: "4.5000004" is refused)
// unless another scale is declared; in the Netflix and plain layouts any
// finite value that fits a float32 is read unless a scale is declared, and
// the scale is then detected from the values ([engine.ScaleDetector]: the
// grid they lie on when it has at most 101 values, else the continuous
// range). User and movie ids must be in 0..2147483647, timestamps
// non-negative Unix seconds.
//
// Duplicates: a (user, movie) pair that occurs more than once is kept by
// the readers, in file order; everything downstream keeps the last
// occurrence (the engine, eval's training matrix, and the store's import).
//
// The ratings readers are built for size: they read the input in blocks of
// 16 MiB, cut at line boundaries, split each block into one chunk per
// processor (GOMAXPROCS) and parse the chunks in parallel, with a byte-level
// parser that allocates nothing per row, straight into one result slice
// while the next block is read. Only two blocks and the result are in
// memory at a time; when the input's size is known (a file, a bytes.Reader)
// the result is allocated once, from the line length sampled at several
// places in the input. The result is in file order. From the line of a
// double quote to the end of its block, rows take a sequential,
// quote-aware path instead, since a quoted field may hide a line end.
//
// All functions are safe for concurrent use; they share no state.
package dataset
