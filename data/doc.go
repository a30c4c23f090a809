// Package data bundles small public data sets into the binary so that the
// service, its tests and its examples run without a download.
//
// The only data set is MovieLens ml-latest-small (GroupLens Research, research
// and non-commercial use only; see README.md and ml-latest-small/README.txt
// for the license and the citation, Harper & Konstan 2015). Read it with
// package dataset:
//
//	ds, err := dataset.Load(data.MLLatestSmall())
package data
