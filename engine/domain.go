package engine

import "errors"

// Movie is a catalog entry. ID is the data set's movie id.
type Movie struct {
	ID     int32
	Title  string
	Genres []string
}

// Rating is one user's rating of one movie. Time is Unix seconds (0 when the
// source has none).
type Rating struct {
	User  int32
	Movie int32
	Value float32
	Time  int64
}

// Sentinel errors of the engine. The api package maps them to HTTP statuses.
var (
	ErrUnknownMovie  = errors.New("unknown movie")
	ErrInvalidRating = errors.New("invalid rating")
	ErrInvalidInput  = errors.New("invalid input")
	ErrModelNotReady = errors.New("model not ready")
	// ErrNotRated marks a deletion of a rating the user has not made.
	ErrNotRated = errors.New("not rated")
	// ErrNotTrainer marks a retrain refused because another process
	// holds the trainer lock (Config.Lock), or because this one lost it.
	ErrNotTrainer = errors.New("not the trainer")
)
