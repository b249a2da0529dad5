package commands

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TTL commands through go-redis, in RESP2 and RESP3.

func TestExpire_SetAndRead(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		t.Run("relative", func(t *testing.T) {
			ksSet(t, c, "e", "p")
			if ok, err := c.Expire(ctx, "e", 100*time.Second).Result(); err != nil || !ok {
				t.Fatalf("EXPIRE = %v, %v", ok, err)
			}
			if d, err := c.TTL(ctx, "e").Result(); err != nil || d < 99*time.Second || d > 100*time.Second {
				t.Errorf("TTL = %v, %v; want 99-100s", d, err)
			}
			if ok, err := c.PExpire(ctx, "p", 5000*time.Millisecond).Result(); err != nil || !ok {
				t.Fatalf("PEXPIRE = %v, %v", ok, err)
			}
			if d, err := c.PTTL(ctx, "p").Result(); err != nil || d <= 4*time.Second || d > 5*time.Second {
				t.Errorf("PTTL = %v, %v; want (4s, 5s]", d, err)
			}
		})
		t.Run("absolute", func(t *testing.T) {
			ksSet(t, c, "a")
			// 2100-01-01: go-redis returns these as a time.Duration, which
			// holds at most 292 years.
			at := time.Unix(4102444800, 0)
			if ok, err := c.ExpireAt(ctx, "a", at).Result(); err != nil || !ok {
				t.Fatalf("EXPIREAT = %v, %v", ok, err)
			}
			if d, err := c.ExpireTime(ctx, "a").Result(); err != nil || d != 4102444800*time.Second {
				t.Errorf("EXPIRETIME = %v, %v", d, err)
			}
			if d, err := c.PExpireTime(ctx, "a").Result(); err != nil || d != 4102444800000*time.Millisecond {
				t.Errorf("PEXPIRETIME = %v, %v", d, err)
			}
			if ok, err := c.PExpireAt(ctx, "a", time.UnixMilli(4102444800499)).Result(); err != nil || !ok {
				t.Fatalf("PEXPIREAT = %v, %v", ok, err)
			}
			if d, _ := c.ExpireTime(ctx, "a").Result(); d != 4102444800*time.Second {
				t.Errorf("EXPIRETIME of ...499ms = %v, want rounding down", d)
			}
			ksOK(t, "PEXPIREAT", c.PExpireAt(ctx, "a", time.UnixMilli(4102444800500)).Err())
			if d, _ := c.ExpireTime(ctx, "a").Result(); d != 4102444801*time.Second {
				t.Errorf("EXPIRETIME of ...500ms = %v, want rounding up", d)
			}
		})
		t.Run("missing and persistent", func(t *testing.T) {
			ksSet(t, c, "persistent")
			for _, k := range []struct {
				key  string
				want time.Duration
			}{{"nosuch", -2}, {"persistent", -1}} {
				for name, cmd := range map[string]func() *redis.DurationCmd{
					"TTL":         func() *redis.DurationCmd { return c.TTL(ctx, k.key) },
					"PTTL":        func() *redis.DurationCmd { return c.PTTL(ctx, k.key) },
					"EXPIRETIME":  func() *redis.DurationCmd { return c.ExpireTime(ctx, k.key) },
					"PEXPIRETIME": func() *redis.DurationCmd { return c.PExpireTime(ctx, k.key) },
				} {
					if d, err := cmd().Result(); err != nil || d != k.want {
						t.Errorf("%s %s = %v, %v; want %d", name, k.key, d, err, k.want)
					}
				}
			}
			for name, cmd := range map[string]*redis.BoolCmd{
				"EXPIRE":    c.Expire(ctx, "nosuch", time.Minute),
				"PEXPIRE":   c.PExpire(ctx, "nosuch", time.Minute),
				"EXPIREAT":  c.ExpireAt(ctx, "nosuch", time.Now().Add(time.Hour)),
				"PEXPIREAT": c.PExpireAt(ctx, "nosuch", time.Now().Add(time.Hour)),
				"PERSIST":   c.Persist(ctx, "nosuch"),
			} {
				if ok, err := cmd.Result(); err != nil || ok {
					t.Errorf("%s on a missing key = %v, %v", name, ok, err)
				}
			}
		})
	})
}

func TestExpire_Options(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		want := func(what string, cmd *redis.BoolCmd, want bool) {
			t.Helper()
			if ok, err := cmd.Result(); err != nil || ok != want {
				t.Errorf("%s = %v, %v; want %v", what, ok, err, want)
			}
		}
		ttl := func(key string) time.Duration {
			d, err := c.TTL(ctx, key).Result()
			ksOK(t, "TTL", err)
			return d
		}
		ksSet(t, c, "k")
		want("XX without ttl", c.ExpireXX(ctx, "k", time.Hour), false)
		want("GT without ttl (infinite)", c.ExpireGT(ctx, "k", time.Hour), false)
		if ttl("k") != -1 {
			t.Fatal("a refused EXPIRE set a TTL")
		}
		want("NX without ttl", c.ExpireNX(ctx, "k", time.Hour), true)
		want("NX with ttl", c.ExpireNX(ctx, "k", 2*time.Hour), false)
		want("XX with ttl", c.ExpireXX(ctx, "k", 2*time.Hour), true)
		want("GT larger", c.ExpireGT(ctx, "k", 3*time.Hour), true)
		want("GT smaller", c.ExpireGT(ctx, "k", time.Hour), false)
		want("LT larger", c.ExpireLT(ctx, "k", 4*time.Hour), false)
		want("LT smaller", c.ExpireLT(ctx, "k", time.Hour), true)
		if d := ttl("k"); d < time.Hour-time.Second || d > time.Hour {
			t.Errorf("TTL after the option dance = %v, want 1h", d)
		}
		ksSet(t, c, "l")
		want("LT without ttl (infinite)", c.ExpireLT(ctx, "l", time.Hour), true)
		if d := ttl("l"); d < time.Hour-time.Second || d > time.Hour {
			t.Errorf("TTL after LT on a persistent key = %v", d)
		}
		if ok, err := c.Do(ctx, "pexpire", "l", "7200000", "XX", "GT").Bool(); err != nil || !ok {
			t.Errorf("PEXPIRE XX GT = %v, %v", ok, err)
		}
		for _, tc := range []struct {
			args []any
			err  string
		}{
			{[]any{"expire", "k", "10", "nx", "xx"}, errExpireNXOpts},
			{[]any{"expire", "k", "10", "NX", "GT"}, errExpireNXOpts},
			{[]any{"expire", "k", "10", "lt", "nx"}, errExpireNXOpts},
			{[]any{"expire", "k", "10", "gt", "lt"}, errExpireGTLT},
			{[]any{"pexpireat", "k", "10", "foo"}, "ERR Unsupported option foo"},
			{[]any{"expire", "k", "abc", "foo"}, "ERR Unsupported option foo"},
			{[]any{"expire", "k", "abc"}, errNotInt},
			{[]any{"expire", "k", "9223372036854776"}, "ERR invalid expire time in 'expire' command"},
			{[]any{"pexpire", "k", "9223372036854775807"}, "ERR invalid expire time in 'pexpire' command"},
			{[]any{"expireat", "k", "-9223372036854776"}, "ERR invalid expire time in 'expireat' command"},
		} {
			ksErr(t, "command", c.Do(ctx, tc.args...).Err(), tc.err)
		}
		if d := ttl("l"); d < 2*time.Hour-time.Second || d > 2*time.Hour {
			t.Errorf("failed commands changed the TTL to %v", d)
		}
	})
}

func TestExpire_PastTimeDeletes(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		for name, set := range map[string]func(key string) *redis.BoolCmd{
			"EXPIRE -1":     func(k string) *redis.BoolCmd { return c.Expire(ctx, k, -time.Second) },
			"EXPIRE 0":      func(k string) *redis.BoolCmd { return c.Expire(ctx, k, 0) },
			"PEXPIRE -100":  func(k string) *redis.BoolCmd { return c.PExpire(ctx, k, -100*time.Millisecond) },
			"EXPIREAT 1":    func(k string) *redis.BoolCmd { return c.ExpireAt(ctx, k, time.Unix(1, 0)) },
			"PEXPIREAT 0":   func(k string) *redis.BoolCmd { return c.PExpireAt(ctx, k, time.UnixMilli(0)) },
			"EXPIREAT past": func(k string) *redis.BoolCmd { return c.ExpireAt(ctx, k, time.Now().Add(-time.Minute)) },
			"EXPIRE NX -1":  func(k string) *redis.BoolCmd { return c.ExpireNX(ctx, k, -time.Second) },
		} {
			t.Run(name, func(t *testing.T) {
				ksSet(t, c, "gone")
				if ok, err := set("gone").Result(); err != nil || !ok {
					t.Fatalf("%s = %v, %v; want true", name, ok, err)
				}
				if n, _ := c.Exists(ctx, "gone").Result(); n != 0 {
					t.Errorf("%s left the key", name)
				}
				if n, _ := c.DBSize(ctx).Result(); n != 0 {
					t.Errorf("%s: DBSIZE %d", name, n)
				}
			})
		}
	})
}

func TestExpire_Persist(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		ksSet(t, c, "k")
		if ok, _ := c.Persist(ctx, "k").Result(); ok {
			t.Error("PERSIST of a key without TTL = true")
		}
		ksOK(t, "EXPIRE", c.Expire(ctx, "k", time.Hour).Err())
		if ok, err := c.Persist(ctx, "k").Result(); err != nil || !ok {
			t.Errorf("PERSIST = %v, %v", ok, err)
		}
		if d, _ := c.TTL(ctx, "k").Result(); d != -1 {
			t.Errorf("TTL after PERSIST = %v", d)
		}
		if v, _ := c.Get(ctx, "k").Result(); v != "v:k" {
			t.Errorf("PERSIST changed the value to %q", v)
		}
	})
}

// TestExpire_ActiveExpiry: a key whose TTL passed leaves DBSIZE and the
// store's counts without any command touching it (the store's active
// expiry cycle), and counts as expired.
func TestExpire_ActiveExpiry(t *testing.T) {
	n := testNode(t)
	c := newClient(t, n.Addr(), 3)
	ksSet(t, c, "short1", "short2", "long", "forever")
	for _, k := range []string{"short1", "short2"} {
		ksOK(t, "PEXPIRE", c.PExpire(ctx, k, 30*time.Millisecond).Err())
	}
	ksOK(t, "EXPIRE", c.Expire(ctx, "long", time.Hour).Err())
	if st := n.Store.Stats(); st.Keys[0] != 4 || st.Expires[0] != 3 {
		t.Fatalf("before expiry: %d keys, %d with TTL", st.Keys[0], st.Expires[0])
	}
	before := n.Store.Stats().ExpiredKeys
	waitFor(t, 5*time.Second, "DBSIZE to drop to 2", func() bool {
		size, err := c.DBSize(ctx).Result()
		return err == nil && size == 2
	})
	st := n.Store.Stats()
	if st.Keys[0] != 2 || st.Expires[0] != 1 {
		t.Errorf("after expiry: %d keys, %d with TTL; want 2 and 1", st.Keys[0], st.Expires[0])
	}
	if got := st.ExpiredKeys - before; got != 2 {
		t.Errorf("expired keys grew by %d, want 2", got)
	}
}

// TestExpire_ExpiredKeysInvisible: once a key's TTL passed, every command
// treats it as missing, whether the active cycle or a lookup removed it.
func TestExpire_ExpiredKeysInvisible(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		ksSet(t, c, "gone", "kept")
		ksOK(t, "PEXPIRE", c.PExpire(ctx, "gone", 20*time.Millisecond).Err())
		waitFor(t, 5*time.Second, "the key to expire", func() bool {
			d, err := c.PTTL(ctx, "gone").Result()
			return err == nil && d == -2
		})
		if err := c.Get(ctx, "gone").Err(); !errors.Is(err, redis.Nil) {
			t.Errorf("GET: %v", err)
		}
		if typ, _ := c.Type(ctx, "gone").Result(); typ != "none" {
			t.Errorf("TYPE = %q", typ)
		}
		checks := map[string]*redis.IntCmd{
			"EXISTS": c.Exists(ctx, "gone"),
			"TOUCH":  c.Touch(ctx, "gone"),
			"DEL":    c.Del(ctx, "gone"),
			"COPY":   c.Copy(ctx, "gone", "other", 0, true),
			"DBSIZE": c.DBSize(ctx),
		}
		for name, cmd := range checks {
			want := int64(0)
			if name == "DBSIZE" {
				want = 1
			}
			if n, err := cmd.Result(); err != nil || n != want {
				t.Errorf("%s = %d, %v; want %d", name, n, err, want)
			}
		}
		ksErr(t, "RENAME", c.Rename(ctx, "gone", "x").Err(), errNoSuchKey)
		for name, cmd := range map[string]*redis.BoolCmd{
			"EXPIRE":  c.Expire(ctx, "gone", time.Hour),
			"PERSIST": c.Persist(ctx, "gone"),
		} {
			if ok, _ := cmd.Result(); ok {
				t.Errorf("%s on an expired key = true", name)
			}
		}
		if keys, _ := c.Keys(ctx, "*").Result(); !slices.Equal(keys, []string{"kept"}) {
			t.Errorf("KEYS * = %q", keys)
		}
		if keys, cur, _ := c.Scan(ctx, 0, "", 100).Result(); !slices.Equal(keys, []string{"kept"}) || cur != 0 {
			t.Errorf("SCAN = %q, cursor %d", keys, cur)
		}
		if k, _ := c.RandomKey(ctx).Result(); k != "kept" {
			t.Errorf("RANDOMKEY = %q", k)
		}
	})
}
