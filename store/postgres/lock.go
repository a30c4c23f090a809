package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"movierec/engine"
)

// trainerLockKey is the session advisory lock held by the process that
// trains.
const trainerLockKey = 0x6d6f7669_65747261 // "movietra"

// A held lease checks its connection every lockCheckEvery; a check that
// gets no answer within lockCheckTimeout fails (a loaded server may take
// more than the interval to answer, a closed connection fails at once).
var (
	lockCheckEvery   = 500 * time.Millisecond
	lockCheckTimeout = 2 * time.Second
)

// TryAcquire takes the trainer lock: a session advisory lock
// (pg_try_advisory_lock) on a connection of its own, outside the pool
// (engine.TrainerLock). It returns (nil, nil) when another process holds
// it. PostgreSQL releases the lock when the holder's session ends, so a
// process that dies (SIGKILL) or loses its connection frees it for another
// at once: no lease row or TTL to expire. The lease checks its connection
// every 500 ms and closes Lost when the check fails (an error, or no
// answer within 2 s): from then on another process may hold the lock.
func (d *DB) TryAcquire(ctx context.Context) (engine.Lease, error) {
	conn, err := pgx.ConnectConfig(ctx, d.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("trainer lock: %w", unavailable(err))
	}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", int64(trainerLockKey)).Scan(&got); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("trainer lock: %w", unavailable(err))
	}
	if !got {
		conn.Close(context.Background())
		return nil, nil
	}
	l := &lease{conn: conn, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.check(d)
	return l, nil
}

// lease is a held trainer lock; its methods are safe for concurrent use.
type lease struct {
	conn *pgx.Conn // used only by check, and by Release after check ends
	lost chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Lost is closed when the lock's connection fails its check.
func (l *lease) Lost() <-chan struct{} { return l.lost }

// Release unlocks and closes the connection. It is safe to call more
// than once, and after the lease was lost.
func (l *lease) Release() {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if !l.conn.IsClosed() {
			l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", int64(trainerLockKey))
		}
		l.conn.Close(ctx)
	})
}

// check runs SELECT 1 on the lock's connection every lockCheckEvery and
// closes lost at the first failure.
func (l *lease) check(d *DB) {
	defer close(l.done)
	t := time.NewTicker(lockCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), lockCheckTimeout)
		_, err := l.conn.Exec(ctx, "SELECT 1")
		cancel()
		if err != nil {
			d.log.Error("trainer lock lost: its connection failed", "err", err)
			close(l.lost)
			l.conn.Close(context.Background())
			return
		}
	}
}
