package main

import (
	"fmt"
	"log/slog"
	"time"

	"movierec/data"
	"movierec/dataset"
)

// loadData reads dir, or the bundled ml-latest-small when dir is empty.
func loadData(dir string, log *slog.Logger) (*dataset.Dataset, error) {
	start := time.Now()
	var ds *dataset.Dataset
	var err error
	name := dir
	if dir == "" {
		name = "bundled ml-latest-small"
		ds, err = dataset.Load(data.MLLatestSmall())
	} else {
		ds, err = dataset.LoadDir(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("load data %s: %w", name, err)
	}
	log.Info("data loaded", "source", name, "layout", ds.Layout, "movies", len(ds.Movies),
		"ratings", len(ds.Ratings), "seconds", time.Since(start).Seconds())
	return ds, nil
}
