package compat

// Distributed locks: go-redsync/redsync (with its go-redis v9 pool) and
// bsm/redislock. Each lock is one key, so both run unchanged on a cluster.

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bsm/redislock"
	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"
)

// TestRedsync_Counter: goroutines take the mutex, read-modify-write a
// counter with GET/SET and release; no update is lost.
func TestRedsync_Counter(t *testing.T) {
	c := newGoRedis(t)
	ctx := ctxFor(t, 120*time.Second)
	p := prefix(t)
	lockKey, counter := p+"lock", p+"counter"
	cleanupKeys(t, c, lockKey, counter)
	rs := redsync.New(goredis.NewPool(c))

	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := rs.NewMutex(lockKey,
				redsync.WithExpiry(10*time.Second),
				redsync.WithTries(2000),
				redsync.WithRetryDelay(5*time.Millisecond))
			for i := 0; i < each; i++ {
				if err := m.LockContext(ctx); err != nil {
					errs <- fmt.Errorf("Lock: %w", err)
					return
				}
				n, err := c.Get(ctx, counter).Int()
				if err != nil && !errors.Is(err, redis.Nil) {
					errs <- err
					return
				}
				if err := c.Set(ctx, counter, n+1, 0).Err(); err != nil {
					errs <- err
					return
				}
				if ok, err := m.UnlockContext(ctx); err != nil || !ok {
					errs <- fmt.Errorf("Unlock = %v, %w", ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("worker: %v", err)
	}
	if n, err := c.Get(ctx, counter).Int(); err != nil || n != workers*each {
		t.Fatalf("counter = %d, %v; want %d", n, err, workers*each)
	}
	if n, _ := c.Exists(ctx, lockKey).Result(); n != 0 {
		t.Fatalf("lock key left behind after the last Unlock")
	}
}

// TestRedsync_ExtendUnlockExpiry: Extend pushes the expiry out; another
// value cannot unlock; an expired lock can be taken by someone else and its
// old owner's Unlock says it had expired.
func TestRedsync_ExtendUnlockExpiry(t *testing.T) {
	c := newGoRedis(t)
	ctx := ctxFor(t, 30*time.Second)
	lockKey := prefix(t) + "lock"
	cleanupKeys(t, c, lockKey)
	rs := redsync.New(goredis.NewPool(c))

	// The timeout factor bounds each SET NX at half the expiry (the default,
	// 5%, is tight for short locks on a loaded machine).
	m := rs.NewMutex(lockKey, redsync.WithExpiry(2*time.Second), redsync.WithTries(1), redsync.WithTimeoutFactor(0.5))
	if err := m.LockContext(ctx); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if v, err := c.Get(ctx, lockKey).Result(); err != nil || v != m.Value() {
		t.Fatalf("lock key = %q, %v; want the mutex's value", v, err)
	}
	// Someone else cannot take it.
	other := rs.NewMutex(lockKey, redsync.WithExpiry(2*time.Second), redsync.WithTries(1), redsync.WithTimeoutFactor(0.5))
	var taken *redsync.ErrTaken
	if err := other.LockContext(ctx); err == nil {
		t.Fatalf("a second mutex took a held lock")
	} else if !errors.Is(err, redsync.ErrFailed) && !errors.As(err, &taken) {
		t.Fatalf("second Lock: %v, want ErrFailed or ErrTaken", err)
	}

	// Extend: PEXPIRE through the touch script.
	time.Sleep(100 * time.Millisecond)
	before, _ := c.PTTL(ctx, lockKey).Result()
	until := m.Until()
	m2 := rs.NewMutex(lockKey, redsync.WithExpiry(5*time.Second), redsync.WithValue(m.Value()))
	if ok, err := m2.ExtendContext(ctx); err != nil || !ok {
		t.Fatalf("Extend = %v, %v", ok, err)
	}
	after, _ := c.PTTL(ctx, lockKey).Result()
	if after <= before || after > 5*time.Second {
		t.Fatalf("PTTL after Extend = %v (before %v), want in (%v, 5s]", after, before, before)
	}
	if !m2.Until().After(until) {
		t.Fatalf("Until did not move forward")
	}

	// Unlock by a different value fails and leaves the lock alone.
	intruder := rs.NewMutex(lockKey, redsync.WithValue("not-the-owner"))
	if ok, err := intruder.UnlockContext(ctx); ok || err == nil {
		t.Fatalf("Unlock with another value = %v, %v; want false and an error", ok, err)
	} else if !errors.As(err, &taken) {
		t.Fatalf("Unlock with another value: %v, want ErrTaken", err)
	}
	if v, _ := c.Get(ctx, lockKey).Result(); v != m.Value() {
		t.Fatalf("lock value after a foreign Unlock = %q", v)
	}
	if ok, err := m2.UnlockContext(ctx); err != nil || !ok {
		t.Fatalf("owner's Unlock = %v, %v", ok, err)
	}

	// Expiry: a short lock lapses; another mutex takes it; the old owner's
	// Unlock reports that its lock had expired (the key now holds another
	// value, so it is "taken"; on a missing key it is ErrLockAlreadyExpired).
	short := rs.NewMutex(lockKey, redsync.WithExpiry(500*time.Millisecond), redsync.WithTries(3), redsync.WithTimeoutFactor(0.5))
	if err := short.LockContext(ctx); err != nil {
		t.Fatalf("short Lock: %v", err)
	}
	if !waitUntil(5*time.Second, 20*time.Millisecond, func() bool { return c.Exists(ctx, lockKey).Val() == 0 }) {
		t.Fatalf("lock with a 500 ms expiry still there after 5 s")
	}
	if ok, err := short.UnlockContext(ctx); ok || !errors.Is(err, redsync.ErrLockAlreadyExpired) {
		t.Fatalf("Unlock of an expired lock = %v, %v; want ErrLockAlreadyExpired", ok, err)
	}
	next := rs.NewMutex(lockKey, redsync.WithExpiry(5*time.Second), redsync.WithTries(3), redsync.WithTimeoutFactor(0.5))
	if err := next.LockContext(ctx); err != nil {
		t.Fatalf("Lock after the previous one expired: %v", err)
	}
	if ok, err := short.UnlockContext(ctx); ok || !errors.As(err, &taken) {
		t.Fatalf("old owner's Unlock of a lock someone else holds = %v, %v; want ErrTaken", ok, err)
	}
	if ok, err := next.UnlockContext(ctx); err != nil || !ok {
		t.Fatalf("new owner's Unlock = %v, %v", ok, err)
	}
}

// TestRedislock_Contention: goroutines obtain the lock with retries,
// update a counter with GET/SET and release; every update counts.
func TestRedislock_Contention(t *testing.T) {
	c := newGoRedis(t)
	ctx := ctxFor(t, 120*time.Second)
	p := prefix(t)
	lockKey, counter := p+"lock", p+"counter"
	cleanupKeys(t, c, lockKey, counter)
	locker := redislock.New(c)

	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				lock, err := locker.Obtain(ctx, lockKey, 10*time.Second, &redislock.Options{
					RetryStrategy: redislock.LimitRetry(redislock.LinearBackoff(5*time.Millisecond), 4000),
					Metadata:      "worker-" + strconv.Itoa(w),
				})
				if err != nil {
					errs <- fmt.Errorf("Obtain: %w", err)
					return
				}
				if lock.Metadata() != "worker-"+strconv.Itoa(w) {
					errs <- fmt.Errorf("Metadata = %q", lock.Metadata())
					return
				}
				n, err := c.Get(ctx, counter).Int()
				if err != nil && !errors.Is(err, redis.Nil) {
					errs <- err
					return
				}
				if err := c.Set(ctx, counter, n+1, 0).Err(); err != nil {
					errs <- err
					return
				}
				if err := lock.Release(ctx); err != nil {
					errs <- fmt.Errorf("Release: %w", err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("worker: %v", err)
	}
	if n, err := c.Get(ctx, counter).Int(); err != nil || n != workers*each {
		t.Fatalf("counter = %d, %v; want %d", n, err, workers*each)
	}
}

// TestRedislock_Lifecycle: ErrNotObtained while held, TTL and Refresh,
// ErrLockNotHeld once the lock has expired.
func TestRedislock_Lifecycle(t *testing.T) {
	c := newGoRedis(t)
	ctx := ctxFor(t, 30*time.Second)
	lockKey := prefix(t) + "lock"
	cleanupKeys(t, c, lockKey)
	locker := redislock.New(c)

	lock, err := locker.Obtain(ctx, lockKey, 10*time.Second, nil)
	if err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	if _, err := locker.Obtain(ctx, lockKey, time.Second, nil); !errors.Is(err, redislock.ErrNotObtained) {
		t.Fatalf("Obtain of a held lock without retry: %v, want ErrNotObtained", err)
	}
	if _, err := locker.Obtain(ctx, lockKey, time.Second, &redislock.Options{
		RetryStrategy: redislock.LimitRetry(redislock.LinearBackoff(20*time.Millisecond), 3),
	}); !errors.Is(err, redislock.ErrNotObtained) {
		t.Fatalf("Obtain of a held lock with 3 retries: %v, want ErrNotObtained", err)
	}
	ttl, err := lock.TTL(ctx)
	if err != nil || ttl <= 9*time.Second || ttl > 10*time.Second {
		t.Fatalf("TTL = %v, %v; want in (9s, 10s]", ttl, err)
	}
	if err := lock.Refresh(ctx, 30*time.Second, nil); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if ttl, err := lock.TTL(ctx); err != nil || ttl <= 29*time.Second || ttl > 30*time.Second {
		t.Fatalf("TTL after Refresh = %v, %v; want in (29s, 30s]", ttl, err)
	}
	// Re-obtaining with the holder's own token succeeds (it is its lock).
	again, err := locker.Obtain(ctx, lockKey, 5*time.Second, &redislock.Options{Token: lock.Token()})
	if err != nil {
		t.Fatalf("Obtain with the holder's token: %v", err)
	}
	if err := again.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := lock.Release(ctx); !errors.Is(err, redislock.ErrLockNotHeld) {
		t.Fatalf("second Release: %v, want ErrLockNotHeld", err)
	}

	// A lock that expires is no longer held.
	short, err := locker.Obtain(ctx, lockKey, 200*time.Millisecond, nil)
	if err != nil {
		t.Fatalf("Obtain 200ms: %v", err)
	}
	if !waitUntil(5*time.Second, 20*time.Millisecond, func() bool {
		ttl, err := short.TTL(ctx)
		return err == nil && ttl == 0
	}) {
		t.Fatalf("TTL of a 200 ms lock still positive after 5 s")
	}
	if err := short.Refresh(ctx, time.Second, nil); !errors.Is(err, redislock.ErrNotObtained) {
		t.Fatalf("Refresh of an expired lock: %v, want ErrNotObtained", err)
	}
	if err := short.Release(ctx); !errors.Is(err, redislock.ErrLockNotHeld) {
		t.Fatalf("Release after expiry: %v, want ErrLockNotHeld", err)
	}
	// And someone else can take it.
	next, err := locker.Obtain(ctx, lockKey, time.Second, nil)
	if err != nil {
		t.Fatalf("Obtain after expiry: %v", err)
	}
	if err := next.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
}
