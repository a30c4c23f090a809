//go:build race

package gpu

// raceEnabled: the slow emulation cases are skipped under -race (the
// emulation is single-goroutine, so the race detector adds nothing to it).
const raceEnabled = true
