package commands

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestObject_Diff compares the deterministic OBJECT replies with Redis 7.0.
func TestObject_Diff(t *testing.T) {
	d := newDiffer(t)
	d.do("SET", "int", "12345")
	d.do("SET", "shared", "7")
	d.do("SET", "lead0", "0123")
	d.do("SET", "short", "hello")
	d.do("SET", "long", strings.Repeat("x", 45))
	d.do("ZADD", "small", "1", "a", "2", "b")
	args := []string{"ZADD", "big"}
	for i := range 130 {
		args = append(args, strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	d.do(args...)
	d.do("ZADD", "wide", "1", strings.Repeat("w", 65))
	for _, k := range []string{"int", "shared", "lead0", "short", "long", "small", "big", "wide", "missing"} {
		d.do("OBJECT", "ENCODING", k)
		d.do("OBJECT", "REFCOUNT", k)
	}
	d.do("OBJECT", "HELP")
	d.do("OBJECT", "FREQ", "int")     // no LFU policy: error
	d.do("OBJECT", "FREQ", "missing") // null before the policy check
	d.do("OBJECT", "IDLETIME", "missing")
	d.do("OBJECT", "ENCODING")
	d.do("OBJECT", "NOPE", "int")
	d.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
	d.do("OBJECT", "IDLETIME", "int") // LFU policy: error
	d.do("SET", "fresh", "v")
	d.do("OBJECT", "FREQ", "fresh") // a key created under LFU starts at 5... after its SET lookup
	d.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
	d.do("CONFIG", "SET", "maxmemory", "1gb")
	d.do("CONFIG", "GET", "maxmemory")
	d.do("SET", "shared2", "8")
	d.do("OBJECT", "REFCOUNT", "shared2") // created under LRU with a limit: integers are not shared
	d.do("CONFIG", "SET", "maxmemory", "0")
	d.doErr("must be one of the following", "CONFIG", "SET", "maxmemory-policy", "lru")
	d.doErr("argument must be a memory value", "CONFIG", "SET", "maxmemory", "1x")
	d.doErr("between 1 and", "CONFIG", "SET", "maxmemory-samples", "0")
	d.doErr("between 0 and", "CONFIG", "SET", "lfu-log-factor", "-1")
	d.do("CONFIG", "SET", "maxmemory-samples", "10", "lfu-log-factor", "20", "lfu-decay-time", "2")
	d.do("CONFIG", "GET", "maxmemory-samples")
	d.doSorted("CONFIG", "GET", "lfu-*")
	d.do("CONFIG", "SET", "maxmemory-policy", "noeviction")
}

// TestObject_IdleTimeIgnoresObject: OBJECT itself is not an access.
func TestObject_IdleAndFreq(t *testing.T) {
	n := testNode(t)
	c := newClient(t, n.Addr(), 2)
	ctx := context.Background()
	must(t, c.Set(ctx, "k", "v", 0).Err())
	if idle, err := c.ObjectIdleTime(ctx, "k").Result(); err != nil || idle != 0 {
		t.Fatalf("idle %v %v", idle, err)
	}
	must(t, c.ConfigSet(ctx, "maxmemory-policy", "volatile-lfu").Err())
	for range 200 {
		c.Get(ctx, "k")
	}
	f1, err := c.ObjectFreq(ctx, "k").Result()
	must(t, err)
	f2, _ := c.ObjectFreq(ctx, "k").Result()
	if f1 <= 5 || f1 != f2 {
		t.Fatalf("freq after 200 GETs %d then %d: want > 5 and OBJECT FREQ not counting as a hit", f1, f2)
	}
}

func infoField(t *testing.T, c *redis.Client, section, field string) int64 {
	t.Helper()
	for _, l := range strings.Split(c.Info(context.Background(), section).Val(), "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			must(t, err)
			return n
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return 0
}

// TestMaxmemory_NoEvictionOOM: over the limit, writes flagged DenyOOM get
// Redis's OOM error, and so does a command queued in MULTI; reads, DEL and
// EXEC of a read-only transaction still work.
func TestMaxmemory_NoEvictionOOM(t *testing.T) {
	n := testNode(t)
	c := newClient(t, n.Addr(), 2)
	ctx := context.Background()
	for i := range 100 {
		must(t, c.Set(ctx, "k"+strconv.Itoa(i), strings.Repeat("v", 100), 0).Err())
	}
	used := infoField(t, c, "memory", "used_memory")
	must(t, c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used/2, 10)).Err())
	if err := c.Set(ctx, "new", "v", 0).Err(); err == nil || err.Error() != errOOM {
		t.Fatalf("SET over maxmemory: %v, want %q", err, errOOM)
	}
	if v, err := c.Get(ctx, "k1").Result(); err != nil || len(v) != 100 {
		t.Fatalf("GET over maxmemory: %q %v", v, err)
	}
	raw := dialRaw(t, n.Addr())
	raw.do("MULTI")
	if got := raw.do("GET", "k1"); got != "-"+errOOM+"\r\n" {
		t.Fatalf("GET queued in MULTI over maxmemory: %q", got)
	}
	if got := raw.do("EXEC"); !strings.HasPrefix(got, "-EXECABORT") {
		t.Fatalf("EXEC after a refused command: %q", got)
	}
	must(t, c.Del(ctx, "k1").Err()) // DEL is not DenyOOM
	if infoField(t, c, "stats", "evicted_keys") != 0 {
		t.Fatal("noeviction evicted keys")
	}
	must(t, c.ConfigSet(ctx, "maxmemory", "0").Err())
	must(t, c.Set(ctx, "new", "v", 0).Err())
}

// TestMaxmemory_AllKeysLRUUnderLoad: writes never fail and used_memory
// stays under the limit (plus at most one write), evicted_keys counts.
func TestMaxmemory_EvictsUnderLoad(t *testing.T) {
	for _, policy := range []string{"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-ttl"} {
		t.Run(policy, func(t *testing.T) {
			n := testNode(t, "maxmemory", "200kb", "maxmemory-policy", policy)
			c := newClient(t, n.Addr(), 2)
			ctx := context.Background()
			val := strings.Repeat("v", 200)
			for i := range 3000 {
				must(t, c.Set(ctx, "key:"+strconv.Itoa(i), val, 1e12).Err())
				if used := infoField(t, c, "memory", "used_memory"); used > 200*1024+600 {
					t.Fatalf("write %d: used_memory %d over maxmemory", i, used)
				}
			}
			if ev := infoField(t, c, "stats", "evicted_keys"); ev < 2000 {
				t.Fatalf("evicted_keys %d", ev)
			}
			must(t, c.ConfigResetStat(ctx).Err())
			if ev := infoField(t, c, "stats", "evicted_keys"); ev != 0 {
				t.Fatalf("evicted_keys after RESETSTAT %d", ev)
			}
		})
	}
}
