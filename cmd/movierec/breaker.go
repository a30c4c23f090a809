package main

import (
	"sync"
	"time"
)

// Backoff of the GPU circuit breaker: after the CUDA worker fails a
// training, the next breakerBase of trainings go straight to the CPU; each
// further failure doubles the wait, up to breakerMax. A success closes it.
const (
	breakerBase = time.Minute
	breakerMax  = time.Hour
)

// breaker is a circuit breaker with exponential backoff: closed, it allows
// every try; after a failure it opens for a backoff, during which allow
// says no; once the backoff has passed it allows one try (half open), whose
// failure reopens it for twice as long and whose success closes it.
//
// A breaker is safe for concurrent use. The zero value is not usable; set
// base, max and now.
type breaker struct {
	base, max time.Duration
	now       func() time.Time

	mu       sync.Mutex
	failures int       // consecutive failures
	until    time.Time // open until then
}

func newBreaker(now func() time.Time) *breaker {
	return &breaker{base: breakerBase, max: breakerMax, now: now}
}

// allow reports whether to try now, and if not, how long the breaker
// stays open.
func (b *breaker) allow() (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures == 0 {
		return true, 0
	}
	if d := b.until.Sub(b.now()); d > 0 {
		return false, d
	}
	return true, 0
}

// fail records a failed try and returns how long the breaker now stays
// open.
func (b *breaker) fail() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.base
	for i := 0; i < b.failures && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.failures++
	b.until = b.now().Add(d)
	return d
}

// succeed closes the breaker.
func (b *breaker) succeed() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures = 0
	b.until = time.Time{}
}
