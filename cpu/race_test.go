//go:build race

package cpu

// raceEnabled shortens exhaustive kernel sweeps under the race detector,
// which slows their plain-Go reference loops about tenfold.
const raceEnabled = true
