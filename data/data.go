package data

import (
	"embed"
	"io/fs"
)

// mlLatestSmall holds the embedded files; it is never written.
//
//go:embed ml-latest-small/ratings.csv ml-latest-small/movies.csv ml-latest-small/README.txt
var mlLatestSmall embed.FS

// MLLatestSmall returns the MovieLens ml-latest-small data set as a read-only
// file system whose root holds ratings.csv, movies.csv and README.txt, byte
// for byte as GroupLens distributes them (CSV with CRLF line ends). The files
// live in the binary: nothing is read from disk. The result is safe for
// concurrent use.
func MLLatestSmall() fs.FS {
	sub, err := fs.Sub(mlLatestSmall, "ml-latest-small")
	if err != nil {
		panic("data: " + err.Error()) // unreachable: the directory is embedded
	}
	return sub
}
