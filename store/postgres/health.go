package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"movierec/engine"
)

// isUnavailable reports whether err says the database cannot be reached
// (as opposed to refusing the data).
func isUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, engine.ErrStoreUnavailable) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// 08: connection exception; 57P01..03: the server shuts down or
		// is starting; 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" ||
			pe.Code == "57P03" || pe.Code == "53300"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

// unavailable wraps err in engine.ErrStoreUnavailable when it says the
// database cannot be reached; other errors come back as they are.
func unavailable(err error) error {
	if err == nil || errors.Is(err, engine.ErrStoreUnavailable) || !isUnavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", engine.ErrStoreUnavailable, err)
}

// health tracks whether writes work, for StorageStatus: a write that fails
// because the database is unreachable marks the store unhealthy; the next
// write that succeeds, or the probe (a SELECT 1 every probeEvery), marks
// it healthy again.
type health struct {
	mu           sync.Mutex
	writeErr     string
	probing      bool
	saveFailures int64
	lastSaveErr  string
}

// probeEvery is how often an unhealthy store checks the database.
var probeEvery = time.Second

// noteWrite records a write's outcome and returns err, wrapped in
// engine.ErrStoreUnavailable when the database cannot be reached.
func (d *DB) noteWrite(err error) error {
	err = unavailable(err)
	d.health.mu.Lock()
	defer d.health.mu.Unlock()
	switch {
	case err == nil:
		if d.health.writeErr != "" {
			d.log.Info("writes work again")
		}
		d.health.writeErr = ""
		return nil
	case !errors.Is(err, engine.ErrStoreUnavailable):
		return err
	}
	if d.health.writeErr == "" {
		d.log.Error("writes fail: the database cannot be reached", "err", err)
	}
	d.health.writeErr = err.Error()
	if !d.health.probing {
		d.health.probing = true
		go d.probe()
	}
	return err
}

// probe pings the database every probeEvery until it answers or the store
// closes.
func (d *DB) probe() {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-d.quit:
			d.health.mu.Lock()
			d.health.probing = false
			d.health.mu.Unlock()
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		_, err := d.pool.Exec(ctx, "SELECT 1")
		cancel()
		d.health.mu.Lock()
		if err == nil {
			if d.health.writeErr != "" {
				d.log.Info("the database answers again")
			}
			d.health.writeErr = ""
			d.health.probing = false
			d.health.mu.Unlock()
			return
		}
		d.health.mu.Unlock()
	}
}

// noteSave records a model save's outcome.
func (d *DB) noteSave(err error) error {
	err = d.noteWrite(err)
	if err != nil {
		d.health.mu.Lock()
		d.health.saveFailures++
		d.health.lastSaveErr = err.Error()
		d.health.mu.Unlock()
	}
	return err
}

// StorageStatus reports whether writes work and how many model saves
// failed. It is safe for concurrent use and does no I/O.
func (d *DB) StorageStatus() engine.StorageStatus {
	d.health.mu.Lock()
	defer d.health.mu.Unlock()
	return engine.StorageStatus{WriteError: d.health.writeErr,
		ModelSaveFailures: d.health.saveFailures, LastModelSaveError: d.health.lastSaveErr}
}
