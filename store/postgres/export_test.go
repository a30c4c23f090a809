package postgres

// UseSnapshots turns the ratings snapshot on or off for the external
// tests and benchmarks, and returns the previous setting.
func UseSnapshots(on bool) (was bool) {
	was, useSnapshots = useSnapshots, on
	return was
}
