//go:build race

package engine_test

// raceEnabled skips allocation counts under the race detector, whose
// sync.Pool drops items at random.
const raceEnabled = true
