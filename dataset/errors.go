package dataset

import "fmt"

// ParseError reports a malformed row: the file it is in, its 1-based line
// number, and what is wrong with it. Every reader returns a *ParseError for a
// bad row; [Load] also returns one for a rating whose movie is not in the
// movies file (Err then wraps [engine.ErrUnknownMovie]) and for a duplicate
// movie id. Use errors.As to get the fields.
type ParseError struct {
	File string // file name as given to the reader, e.g. "ratings.csv"
	Line int    // 1-based line number of the row (of its first line, for a quoted row spanning lines)
	Err  error  // what is wrong, e.g. `rating "abc" is not a number`
}

// Error formats the error as "file:line: reason", for example
// `ratings.csv:17: rating "abc" is not a number`.
func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns e.Err.
func (e *ParseError) Unwrap() error { return e.Err }
