package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Errors of opening a database.
var (
	// ErrNotMovierec marks a file that exists but is not a movierec
	// database: empty (0 bytes), not SQLite, or SQLite with other tables.
	// Open never imports over it.
	ErrNotMovierec = errors.New("not a movierec database")
	// ErrLocked marks a database another process serves.
	ErrLocked = errors.New("database in use by another process")
	// ErrCorrupt marks a database that fails PRAGMA quick_check.
	ErrCorrupt = errors.New("database corrupt")
)

// sqliteHeader starts every SQLite 3 database file.
const sqliteHeader = "SQLite format 3\x00"

// checkFile refuses an existing path that cannot be a movierec database:
// an empty file (a failed copy, a `touch`) or one that is not SQLite. A
// missing file is fine: Open creates it.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%w: %s is a directory", ErrNotMovierec, path)
	}
	if fi.Size() == 0 {
		return fmt.Errorf("%w: %s exists but is empty (0 bytes); remove it to start a new database, or name the right file", ErrNotMovierec, path)
	}
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, []byte(sqliteHeader)) {
		return fmt.Errorf("%w: %s is not an SQLite database", ErrNotMovierec, path)
	}
	return nil
}

// checkSchema refuses an SQLite database that is not ours: schema version
// 0 (no movierec migration ran) yet tables of its own.
func (d *DB) checkSchema(ctx context.Context, have int) error {
	if have != 0 {
		return nil
	}
	rows, err := d.write.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 5")
	if err != nil {
		return fmt.Errorf("read schema of %s: %w", d.path, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return fmt.Errorf("read schema of %s: %w", d.path, err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema of %s: %w", d.path, err)
	}
	if len(names) > 0 {
		return fmt.Errorf("%w: %s is an SQLite database of something else (tables %s)", ErrNotMovierec, d.path, strings.Join(names, ", "))
	}
	return nil
}

// QuickCheck runs PRAGMA quick_check: a scan of every page and index
// (seconds per GiB). It returns an error wrapping ErrCorrupt, with the
// first problems found, when the file is damaged.
func (d *DB) QuickCheck(ctx context.Context) error {
	rows, err := d.read.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		if sqliteCode(err) == sqliteCorrupt {
			return fmt.Errorf("%w: %s: %w", ErrCorrupt, d.path, err)
		}
		return fmt.Errorf("quick_check %s: %w", d.path, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("quick_check %s: %w", d.path, err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		if sqliteCode(err) == sqliteCorrupt {
			return fmt.Errorf("%w: %s: %w", ErrCorrupt, d.path, err)
		}
		return fmt.Errorf("quick_check %s: %w", d.path, err)
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return fmt.Errorf("%w: %s: quick_check: %s", ErrCorrupt, d.path, strings.Join(msgs, "; "))
}
