package compat

// go-redis/redis_rate: the GCRA limiter, one Lua script over one key.

import (
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// burst sends n concurrent Allow calls and returns the results and how long
// the burst took from the first call to the last reply.
func burst(t *testing.T, lim *redis_rate.Limiter, key string, limit redis_rate.Limit, n int) ([]*redis_rate.Result, time.Duration) {
	t.Helper()
	ctx := ctxFor(t, 30*time.Second)
	results := make([]*redis_rate.Result, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			results[i], errs[i] = lim.Allow(ctx, key, limit)
		}(i)
	}
	began := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(began)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Allow #%d: %v", i, err)
		}
	}
	return results, elapsed
}

// TestRateLimit_Burst: 30 concurrent requests against PerSecond(10) let
// exactly the burst of 10 through (plus one per 100 ms the burst itself
// took, which the limit refills); the results say how long to wait.
func TestRateLimit_Burst(t *testing.T) {
	c := newGoRedis(t)
	lim := redis_rate.NewLimiter(c)
	key := prefix(t) + "api"
	cleanupKeys(t, c, "rate:"+key)
	limit := redis_rate.PerSecond(10)

	results, elapsed := burst(t, lim, key, limit, 30)
	allowed := 0
	for _, r := range results {
		switch r.Allowed {
		case 1:
			allowed++
			if r.Remaining < 0 || r.Remaining > 9 || r.RetryAfter != -1 {
				t.Fatalf("allowed result: remaining %d, retry after %v", r.Remaining, r.RetryAfter)
			}
			if r.ResetAfter <= 0 || r.ResetAfter > time.Second+elapsed {
				t.Fatalf("allowed result: reset after %v", r.ResetAfter)
			}
		case 0:
			if r.Remaining != 0 || r.RetryAfter <= 0 || r.RetryAfter > 101*time.Millisecond {
				t.Fatalf("denied result: remaining %d, retry after %v; want 0 and (0, 100ms]", r.Remaining, r.RetryAfter)
			}
			if r.ResetAfter <= 0 || r.ResetAfter > time.Second {
				t.Fatalf("denied result: reset after %v", r.ResetAfter)
			}
		default:
			t.Fatalf("Allowed = %d", r.Allowed)
		}
	}
	refill := int(elapsed / (100 * time.Millisecond))
	if allowed < 10 || allowed > 10+refill {
		t.Fatalf("%d of 30 allowed in a %v burst, want 10 (at most %d)", allowed, elapsed, 10+refill)
	}
	t.Logf("%d of 30 allowed; burst took %v", allowed, elapsed.Round(time.Millisecond))
}

// TestRateLimit_Exact: with PerMinute(10) the refill during the burst is
// nil, so exactly 10 of 30 pass; Reset starts over; AllowN takes several.
func TestRateLimit_Exact(t *testing.T) {
	c := newGoRedis(t)
	ctx := ctxFor(t, 30*time.Second)
	lim := redis_rate.NewLimiter(c)
	key := prefix(t) + "login"
	cleanupKeys(t, c, "rate:"+key)
	limit := redis_rate.PerMinute(10)

	results, elapsed := burst(t, lim, key, limit, 30)
	allowed := 0
	for _, r := range results {
		allowed += r.Allowed
		if r.Allowed == 0 && (r.RetryAfter <= 0 || r.RetryAfter > 6*time.Second+time.Millisecond) {
			t.Fatalf("denied result: retry after %v, want (0, 6s]", r.RetryAfter)
		}
	}
	if elapsed < 6*time.Second && allowed != 10 {
		t.Fatalf("%d of 30 allowed, want exactly 10", allowed)
	}
	if ttl, err := c.TTL(ctx, "rate:"+key).Result(); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL of the limiter's key = %v, %v", ttl, err)
	}

	if err := lim.Reset(ctx, key); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	r, err := lim.Allow(ctx, key, limit)
	if err != nil || r.Allowed != 1 || r.Remaining < 8 || r.Remaining > 9 {
		t.Fatalf("Allow after Reset = %+v, %v; want allowed, 9 remaining", r, err)
	}
	if err := lim.Reset(ctx, key); err != nil {
		t.Fatalf("Reset: %v", err)
	}

	// AllowN: 5 of 10, then 6 more is too many, then 4 fit.
	r, err = lim.AllowN(ctx, key, limit, 5)
	if err != nil || r.Allowed != 5 || r.Remaining < 4 || r.Remaining > 5 {
		t.Fatalf("AllowN 5 = %+v, %v; want 5 allowed, 5 remaining", r, err)
	}
	r, err = lim.AllowN(ctx, key, limit, 6)
	if err != nil || r.Allowed != 0 || r.RetryAfter <= 0 || r.RetryAfter > 6*time.Second+time.Millisecond {
		t.Fatalf("AllowN 6 over the remaining 5 = %+v, %v; want denied, retry after ~6s", r, err)
	}
	r, err = lim.AllowN(ctx, key, limit, 4)
	if err != nil || r.Allowed != 4 || r.Remaining > 1 {
		t.Fatalf("AllowN 4 = %+v, %v; want 4 allowed, at most 1 remaining", r, err)
	}
}
