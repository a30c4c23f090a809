package postgres

import (
	"slices"
	"testing"
)

func TestKeySortSettings(t *testing.T) {
	for _, tc := range []struct {
		rows int
		want []string
	}{
		{1000, []string{"SET LOCAL maintenance_work_mem = '65536kB'", "SET LOCAL max_parallel_maintenance_workers = 0"}},
		{25_000_095, []string{"SET LOCAL maintenance_work_mem = '1953132kB'", "SET LOCAL max_parallel_maintenance_workers = 0"}},
		{26_843_545, []string{"SET LOCAL maintenance_work_mem = '2097151kB'", "SET LOCAL max_parallel_maintenance_workers = 0"}},
		{26_843_546, []string{"SET LOCAL maintenance_work_mem = '1GB'"}},
		{100_480_507, []string{"SET LOCAL maintenance_work_mem = '1GB'"}},
	} {
		if got := keySortSettings(tc.rows); !slices.Equal(got, tc.want) {
			t.Errorf("keySortSettings(%d) = %q, want %q", tc.rows, got, tc.want)
		}
	}
}
