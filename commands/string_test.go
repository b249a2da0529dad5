package commands

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"cairn/store"
)

// strForEachProtoNode is forEachProto with the node at hand (to plant keys of
// another type or read expiries from the store).
func strForEachProtoNode(t *testing.T, fn func(t *testing.T, n *Node, c *redis.Client)) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			n := testNode(t)
			fn(t, n, newClient(t, n.Addr(), proto))
		})
	}
}

// strPttl is a key's remaining time to live in milliseconds with PTTL's
// conventions (-2 missing, -1 no expiry): from the PTTL command when Cairn
// has it, else from the store's entry.
func strPttl(t *testing.T, n *Node, c *redis.Client, key string) int64 {
	t.Helper()
	if n.Cmd.Table().Get("pttl") != nil {
		d, err := c.PTTL(ctx, key).Result()
		must(t, err)
		if d < 0 {
			return int64(d) // go-redis passes -1 and -2 through as nanoseconds
		}
		return d.Milliseconds()
	}
	ms := int64(-2)
	_, err := n.Store.Update(0, func(tx *store.Tx) {
		switch e := tx.Get([]byte(key)); {
		case e == nil:
		case e.ExpireAt == 0:
			ms = -1
		default:
			ms = e.ExpireAt - tx.Now()
		}
	})
	must(t, err)
	return ms
}

// strWantTTL checks that key's PTTL is in [lo, hi] milliseconds (or exactly
// -1/-2 when lo == hi).
func strWantTTL(t *testing.T, n *Node, c *redis.Client, key string, lo, hi int64) {
	t.Helper()
	if got := strPttl(t, n, c, key); got < lo || got > hi {
		t.Errorf("PTTL %s = %d, want in [%d, %d]", key, got, lo, hi)
	}
}

// strWantErr checks that err is a Redis error with exactly the text want.
func strWantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// strWantNil checks that a command's reply was null.
func strWantNil(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, redis.Nil) {
		t.Errorf("error = %v, want redis.Nil", err)
	}
}

func strWantVal[T comparable](t *testing.T, got T, err error, want T) {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error %v (want %v)", err, want)
		return
	}
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestString_GetSet(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		t.Run("missing", func(t *testing.T) {
			_, err := c.Get(ctx, "gs:missing").Result()
			strWantNil(t, err)
		})
		t.Run("set get", func(t *testing.T) {
			ok, err := c.Set(ctx, "gs:a", "hello", 0).Result()
			strWantVal(t, ok, err, "OK")
			v, err := c.Get(ctx, "gs:a").Result()
			strWantVal(t, v, err, "hello")
			must(t, c.Set(ctx, "gs:a", "", 0).Err())
			v, err = c.Get(ctx, "gs:a").Result()
			strWantVal(t, v, err, "")
		})
		t.Run("binary", func(t *testing.T) {
			val := "a\x00b\r\n\xff"
			must(t, c.Set(ctx, "gs:bin", val, 0).Err())
			v, err := c.Get(ctx, "gs:bin").Result()
			strWantVal(t, v, err, val)
		})
		t.Run("big value", func(t *testing.T) {
			val := strings.Repeat("0123456789", 100_000)
			must(t, c.Set(ctx, "gs:big", val, 0).Err())
			v, err := c.Get(ctx, "gs:big").Result()
			strWantVal(t, len(v), err, len(val))
			if v != val {
				t.Error("big value changed")
			}
		})
	})
}

func TestString_SetConditions(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		t.Run("nx", func(t *testing.T) {
			ok, err := c.SetNX(ctx, "sc:nx", "1", 0).Result()
			strWantVal(t, ok, err, true)
			ok, err = c.SetNX(ctx, "sc:nx", "2", 0).Result()
			strWantVal(t, ok, err, false)
			v, err := c.Get(ctx, "sc:nx").Result()
			strWantVal(t, v, err, "1")
		})
		t.Run("xx", func(t *testing.T) {
			ok, err := c.SetXX(ctx, "sc:xx", "1", 0).Result()
			strWantVal(t, ok, err, false)
			must(t, c.Set(ctx, "sc:xx", "1", 0).Err())
			ok, err = c.SetXX(ctx, "sc:xx", "2", 0).Result()
			strWantVal(t, ok, err, true)
		})
		t.Run("get", func(t *testing.T) {
			_, err := c.SetArgs(ctx, "sc:get", "1", redis.SetArgs{Get: true}).Result()
			strWantNil(t, err)
			v, err := c.SetArgs(ctx, "sc:get", "2", redis.SetArgs{Get: true}).Result()
			strWantVal(t, v, err, "1")
			// NX GET returns the old value and sets nothing.
			v, err = c.SetArgs(ctx, "sc:get", "3", redis.SetArgs{Mode: "NX", Get: true}).Result()
			strWantVal(t, v, err, "2")
			v, err = c.Get(ctx, "sc:get").Result()
			strWantVal(t, v, err, "2")
			// XX GET on a missing key: null, nothing set.
			_, err = c.SetArgs(ctx, "sc:get2", "1", redis.SetArgs{Mode: "XX", Get: true}).Result()
			strWantNil(t, err)
			_, err = c.Get(ctx, "sc:get2").Result()
			strWantNil(t, err)
		})
		t.Run("setnx command", func(t *testing.T) {
			n, err := c.Do(ctx, "SETNX", "sc:snx", "1").Int64()
			strWantVal(t, n, err, 1)
			n, err = c.Do(ctx, "SETNX", "sc:snx", "2").Int64()
			strWantVal(t, n, err, 0)
		})
		t.Run("syntax errors", func(t *testing.T) {
			for _, args := range [][]any{
				{"SET", "sc:e", "v", "NX", "XX"}, {"SET", "sc:e", "v", "EX", "1", "PX", "1"},
				{"SET", "sc:e", "v", "KEEPTTL", "EX", "1"}, {"SET", "sc:e", "v", "EX"}, {"SET", "sc:e", "v", "PERSIST"},
				{"SET", "sc:e", "v", "BOGUS"}, {"GETEX", "sc:e", "KEEPTTL"}, {"GETEX", "sc:e", "PERSIST", "EX", "1"},
			} {
				strWantErr(t, c.Do(ctx, args...).Err(), "ERR syntax error")
			}
		})
		t.Run("expire errors", func(t *testing.T) {
			strWantErr(t, c.Do(ctx, "SET", "sc:e", "v", "EX", "0").Err(), "ERR invalid expire time in 'set' command")
			strWantErr(t, c.Do(ctx, "SET", "sc:e", "v", "PX", "-1").Err(), "ERR invalid expire time in 'set' command")
			strWantErr(t, c.Do(ctx, "SET", "sc:e", "v", "EX", "9223372036854775").Err(), "ERR invalid expire time in 'set' command")
			strWantErr(t, c.Do(ctx, "SET", "sc:e", "v", "EX", "x").Err(), "ERR value is not an integer or out of range")
			strWantErr(t, c.Do(ctx, "SETEX", "sc:e", "0", "v").Err(), "ERR invalid expire time in 'setex' command")
			strWantErr(t, c.Do(ctx, "PSETEX", "sc:e", "0", "v").Err(), "ERR invalid expire time in 'psetex' command")
			must(t, c.Set(ctx, "sc:e", "v", 0).Err())
			strWantErr(t, c.Do(ctx, "GETEX", "sc:e", "EX", "0").Err(), "ERR invalid expire time in 'getex' command")
			_, err := c.Get(ctx, "sc:e").Result()
			must(t, err)
		})
		t.Run("arity", func(t *testing.T) {
			strWantErr(t, c.Do(ctx, "SET", "sc:a").Err(), "ERR wrong number of arguments for 'set' command")
			strWantErr(t, c.Do(ctx, "MSET", "sc:a", "1", "sc:b").Err(), "ERR wrong number of arguments for 'mset' command")
			strWantErr(t, c.Do(ctx, "MSETNX", "sc:a").Err(), "ERR wrong number of arguments for 'msetnx' command")
			strWantErr(t, c.Do(ctx, "GETRANGE", "sc:a", "0").Err(), "ERR wrong number of arguments for 'getrange' command")
		})
	})
}

func TestString_TTL(t *testing.T) {
	strForEachProtoNode(t, func(t *testing.T, n *Node, c *redis.Client) {
		t.Run("set ex px exat pxat", func(t *testing.T) {
			must(t, c.Set(ctx, "ttl:ex", "v", 100*time.Second).Err())
			strWantTTL(t, n, c, "ttl:ex", 98_000, 100_000)
			must(t, c.Set(ctx, "ttl:px", "v", 1500*time.Millisecond).Err())
			strWantTTL(t, n, c, "ttl:px", 1_000, 1_500)
			at := time.Now().Add(time.Hour)
			must(t, c.SetArgs(ctx, "ttl:exat", "v", redis.SetArgs{ExpireAt: at.Truncate(time.Second)}).Err())
			strWantTTL(t, n, c, "ttl:exat", 3_590_000, 3_600_000)
			must(t, c.Do(ctx, "SET", "ttl:pxat", "v", "PXAT", at.UnixMilli()).Err())
			strWantTTL(t, n, c, "ttl:pxat", 3_590_000, 3_600_000)
		})
		t.Run("set clears and keepttl keeps", func(t *testing.T) {
			must(t, c.Set(ctx, "ttl:k", "v", 100*time.Second).Err())
			must(t, c.SetArgs(ctx, "ttl:k", "w", redis.SetArgs{KeepTTL: true}).Err())
			strWantTTL(t, n, c, "ttl:k", 98_000, 100_000)
			must(t, c.Set(ctx, "ttl:k", "x", 0).Err())
			strWantTTL(t, n, c, "ttl:k", -1, -1)
			must(t, c.SetArgs(ctx, "ttl:k2", "v", redis.SetArgs{KeepTTL: true}).Err())
			strWantTTL(t, n, c, "ttl:k2", -1, -1)
		})
		t.Run("writes that keep the ttl", func(t *testing.T) {
			for _, tc := range []struct {
				name, init string
				args       []any
			}{
				{"append", "a", []any{"APPEND", "ttl:keep", "b"}},
				{"setrange", "abc", []any{"SETRANGE", "ttl:keep", "1", "x"}},
				{"incr", "1", []any{"INCR", "ttl:keep"}},
				{"decrby", "1", []any{"DECRBY", "ttl:keep", "5"}},
				{"incrbyfloat", "1", []any{"INCRBYFLOAT", "ttl:keep", "0.5"}},
				{"set keepttl", "1", []any{"SET", "ttl:keep", "2", "KEEPTTL"}},
				{"getex plain", "1", []any{"GETEX", "ttl:keep"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					must(t, c.Set(ctx, "ttl:keep", tc.init, 100*time.Second).Err())
					must(t, c.Do(ctx, tc.args...).Err())
					strWantTTL(t, n, c, "ttl:keep", 98_000, 100_000)
				})
			}
		})
		t.Run("writes that clear the ttl", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				args []any
			}{
				{"set", []any{"SET", "ttl:clr", "2"}},
				{"set get", []any{"SET", "ttl:clr", "2", "GET"}},
				{"getset", []any{"GETSET", "ttl:clr", "2"}},
				{"mset", []any{"MSET", "ttl:clr", "2"}},
				{"getex persist", []any{"GETEX", "ttl:clr", "PERSIST"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					must(t, c.Set(ctx, "ttl:clr", "1", 100*time.Second).Err())
					must(t, c.Do(ctx, tc.args...).Err())
					strWantTTL(t, n, c, "ttl:clr", -1, -1)
				})
			}
		})
		t.Run("setex psetex", func(t *testing.T) {
			must(t, c.SetEx(ctx, "ttl:sx", "v", 50*time.Second).Err())
			strWantTTL(t, n, c, "ttl:sx", 48_000, 50_000)
			must(t, c.Do(ctx, "PSETEX", "ttl:psx", "2500", "v").Err())
			strWantTTL(t, n, c, "ttl:psx", 2_000, 2_500)
		})
		t.Run("getex", func(t *testing.T) {
			must(t, c.Set(ctx, "ttl:gx", "v", 0).Err())
			v, err := c.GetEx(ctx, "ttl:gx", 30*time.Second).Result()
			strWantVal(t, v, err, "v")
			strWantTTL(t, n, c, "ttl:gx", 28_000, 30_000)
			v, err = c.Do(ctx, "GETEX", "ttl:gx", "PX", "4000").Text()
			strWantVal(t, v, err, "v")
			strWantTTL(t, n, c, "ttl:gx", 3_000, 4_000)
			v, err = c.Do(ctx, "GETEX", "ttl:gx", "EXAT", time.Now().Add(time.Hour).Unix()).Text()
			strWantVal(t, v, err, "v")
			strWantTTL(t, n, c, "ttl:gx", 3_590_000, 3_600_000)
			v, err = c.GetEx(ctx, "ttl:gx", 0).Result() // go-redis sends PERSIST for 0
			strWantVal(t, v, err, "v")
			strWantTTL(t, n, c, "ttl:gx", -1, -1)
			// An absolute time already past deletes the key after replying.
			v, err = c.Do(ctx, "GETEX", "ttl:gx", "PXAT", "1").Text()
			strWantVal(t, v, err, "v")
			strWantTTL(t, n, c, "ttl:gx", -2, -2)
		})
		t.Run("expiry", func(t *testing.T) {
			must(t, c.Set(ctx, "ttl:gone", "v", 30*time.Millisecond).Err())
			must(t, c.Do(ctx, "SETEX", "ttl:gone2", "1", "v").Err())
			strWantNil(t, c.Do(ctx, "SET", "ttl:gone3", "v", "GET", "PX", "30").Err())
			gone := func(key string) bool {
				_, err := c.Get(ctx, key).Result()
				if err != nil && !errors.Is(err, redis.Nil) {
					t.Fatalf("GET %s: %v", key, err)
				}
				return errors.Is(err, redis.Nil)
			}
			if gone("ttl:gone2") {
				t.Fatal("SETEX 1 expired at once")
			}
			waitFor(t, 3*time.Second, "keys to expire", func() bool {
				return gone("ttl:gone") && gone("ttl:gone2") && gone("ttl:gone3")
			})
			strWantTTL(t, n, c, "ttl:gone", -2, -2)
		})
		t.Run("past exat", func(t *testing.T) {
			must(t, c.Do(ctx, "SET", "ttl:past", "v", "EXAT", "1").Err())
			_, err := c.Get(ctx, "ttl:past").Result()
			strWantNil(t, err)
		})
	})
}

func TestString_WrongType(t *testing.T) {
	strForEachProtoNode(t, func(t *testing.T, n *Node, c *redis.Client) {
		strPlantNonString(t, n, "wt:z")
		const wrong = "WRONGTYPE Operation against a key holding the wrong kind of value"
		for _, args := range [][]any{
			{"GET", "wt:z"}, {"GETEX", "wt:z"}, {"GETEX", "wt:z", "EX", "10"}, {"GETDEL", "wt:z"}, {"GETSET", "wt:z", "v"},
			{"SET", "wt:z", "v", "GET"}, {"SET", "wt:z", "v", "NX", "GET"}, {"APPEND", "wt:z", "v"}, {"STRLEN", "wt:z"},
			{"GETRANGE", "wt:z", "0", "1"}, {"SUBSTR", "wt:z", "0", "1"}, {"SETRANGE", "wt:z", "0", "v"},
			{"SETRANGE", "wt:z", "0", ""}, {"INCR", "wt:z"}, {"DECR", "wt:z"}, {"INCRBY", "wt:z", "1"},
			{"DECRBY", "wt:z", "1"}, {"INCRBYFLOAT", "wt:z", "1"},
		} {
			t.Run(fmt.Sprint(args...), func(t *testing.T) {
				strWantErr(t, c.Do(ctx, args...).Err(), wrong)
			})
		}
		t.Run("not an error", func(t *testing.T) {
			vals, err := c.MGet(ctx, "wt:z", "wt:missing").Result()
			must(t, err)
			if len(vals) != 2 || vals[0] != nil || vals[1] != nil {
				t.Errorf("MGET = %v, want [nil nil]", vals)
			}
			ok, err := c.SetNX(ctx, "wt:z", "v", 0).Result()
			strWantVal(t, ok, err, false)
			ok, err = c.MSetNX(ctx, "wt:z", "v", "wt:other", "w").Result()
			strWantVal(t, ok, err, false)
			_, err = c.Get(ctx, "wt:other").Result()
			strWantNil(t, err)
			// An error before the type check wins.
			strWantErr(t, c.Do(ctx, "SETRANGE", "wt:z", "-1", "v").Err(), "ERR offset is out of range")
			strWantErr(t, c.Do(ctx, "GETRANGE", "wt:z", "x", "1").Err(), "ERR value is not an integer or out of range")
		})
		t.Run("set overwrites", func(t *testing.T) {
			strPlantNonString(t, n, "wt:y")
			must(t, c.Set(ctx, "wt:y", "now a string", 0).Err())
			v, err := c.Get(ctx, "wt:y").Result()
			strWantVal(t, v, err, "now a string")
			strPlantNonString(t, n, "wt:x")
			must(t, c.MSet(ctx, "wt:x", "m").Err())
			v, err = c.Get(ctx, "wt:x").Result()
			strWantVal(t, v, err, "m")
		})
	})
}

func TestString_MultiKey(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		t.Run("mset mget", func(t *testing.T) {
			must(t, c.MSet(ctx, "mk:a", "1", "mk:b", "2").Err())
			vals, err := c.MGet(ctx, "mk:a", "mk:missing", "mk:b").Result()
			must(t, err)
			if fmt.Sprint(vals) != "[1 <nil> 2]" {
				t.Errorf("MGET = %v", vals)
			}
		})
		t.Run("msetnx all or nothing", func(t *testing.T) {
			ok, err := c.MSetNX(ctx, "mk:c", "1", "mk:a", "x").Result()
			strWantVal(t, ok, err, false)
			_, err = c.Get(ctx, "mk:c").Result()
			strWantNil(t, err)
			ok, err = c.MSetNX(ctx, "mk:c", "1", "mk:d", "2").Result()
			strWantVal(t, ok, err, true)
			vals, err := c.MGet(ctx, "mk:c", "mk:d").Result()
			must(t, err)
			if fmt.Sprint(vals) != "[1 2]" {
				t.Errorf("MGET = %v", vals)
			}
		})
		t.Run("getset getdel", func(t *testing.T) {
			_, err := c.GetSet(ctx, "mk:gs", "1").Result()
			strWantNil(t, err)
			v, err := c.GetSet(ctx, "mk:gs", "2").Result()
			strWantVal(t, v, err, "1")
			v, err = c.GetDel(ctx, "mk:gs").Result()
			strWantVal(t, v, err, "2")
			_, err = c.GetDel(ctx, "mk:gs").Result()
			strWantNil(t, err)
		})
	})
}

func TestString_AppendRange(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		t.Run("append", func(t *testing.T) {
			n, err := c.Append(ctx, "ar:a", "hello").Result()
			strWantVal(t, n, err, 5)
			n, err = c.Append(ctx, "ar:a", " world").Result()
			strWantVal(t, n, err, 11)
			n, err = c.StrLen(ctx, "ar:a").Result()
			strWantVal(t, n, err, 11)
			n, err = c.StrLen(ctx, "ar:missing").Result()
			strWantVal(t, n, err, 0)
		})
		t.Run("getrange", func(t *testing.T) {
			must(t, c.Set(ctx, "ar:g", "hello", 0).Err())
			for _, tc := range []struct {
				start, end int64
				want       string
			}{
				{0, -1, "hello"}, {1, 3, "ell"}, {-3, -1, "llo"}, {0, -100, "h"}, {-1, -5, ""},
				{-10, -20, ""}, {3, 1, ""}, {2, 100, "llo"}, {10, 20, ""},
			} {
				v, err := c.GetRange(ctx, "ar:g", tc.start, tc.end).Result()
				strWantVal(t, v, err, tc.want)
			}
			v, err := c.GetRange(ctx, "ar:missing", 0, -1).Result()
			strWantVal(t, v, err, "")
		})
		t.Run("setrange", func(t *testing.T) {
			n, err := c.SetRange(ctx, "ar:s", 3, "ab").Result()
			strWantVal(t, n, err, 5)
			v, err := c.Get(ctx, "ar:s").Result()
			strWantVal(t, v, err, "\x00\x00\x00ab")
			n, err = c.SetRange(ctx, "ar:s", 1, "XYZW").Result()
			strWantVal(t, n, err, 5)
			v, err = c.Get(ctx, "ar:s").Result()
			strWantVal(t, v, err, "\x00XYZW")
			// An empty value on a missing key creates nothing.
			n, err = c.SetRange(ctx, "ar:none", 10, "").Result()
			strWantVal(t, n, err, 0)
			_, err = c.Get(ctx, "ar:none").Result()
			strWantNil(t, err)
			strWantErr(t, c.SetRange(ctx, "ar:s", -1, "x").Err(), "ERR offset is out of range")
			strWantErr(t, c.SetRange(ctx, "ar:s", 512<<20, "x").Err(), "ERR string exceeds maximum allowed size (proto-max-bulk-len)")
			strWantErr(t, c.Do(ctx, "SETRANGE", "ar:s", "9223372036854775807", "x").Err(), "ERR string exceeds maximum allowed size (proto-max-bulk-len)")
		})
	})
}

// TestString_RawReplies checks the exact RESP2 and RESP3 bytes of nulls and
// of replies go-redis would hide. The steps run in order on one connection.
func TestString_RawReplies(t *testing.T) {
	steps := []struct {
		args         []string
		resp2, resp3 string
	}{
		{[]string{"GET", "raw:missing"}, "$-1\r\n", "_\r\n"},
		{[]string{"SET", "raw:a", "1"}, "+OK\r\n", "+OK\r\n"},
		{[]string{"SET", "raw:a", "1", "NX"}, "$-1\r\n", "_\r\n"},
		{[]string{"SET", "raw:b", "1", "XX", "GET"}, "$-1\r\n", "_\r\n"},
		{[]string{"SET", "raw:a", "2", "GET"}, "$1\r\n1\r\n", "$1\r\n1\r\n"},
		{[]string{"MGET", "raw:a", "raw:missing"}, "*2\r\n$1\r\n2\r\n$-1\r\n", "*2\r\n$1\r\n2\r\n_\r\n"},
		{[]string{"GETRANGE", "raw:missing", "0", "-1"}, "$0\r\n\r\n", "$0\r\n\r\n"},
		{[]string{"GETDEL", "raw:missing"}, "$-1\r\n", "_\r\n"},
		{[]string{"GETEX", "raw:missing", "EX", "0"}, "$-1\r\n", "_\r\n"},
		{[]string{"GETSET", "raw:c", "x"}, "$-1\r\n", "_\r\n"},
		{[]string{"INCRBYFLOAT", "raw:f", "0.1"}, "$3\r\n0.1\r\n", "$3\r\n0.1\r\n"},
		{[]string{"INCRBYFLOAT", "raw:f", "0.2"}, "$3\r\n0.3\r\n", "$3\r\n0.3\r\n"},
		{[]string{"INCR", "raw:i"}, ":1\r\n", ":1\r\n"},
		{[]string{"MSETNX", "raw:a", "1"}, ":0\r\n", ":0\r\n"},
		{[]string{"SETNX", "raw:a", "1"}, ":0\r\n", ":0\r\n"},
	}
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			r := dialRaw(t, testNode(t).Addr())
			if proto == 3 {
				if got := r.do("HELLO", "3"); !strings.HasPrefix(got, "%") {
					t.Fatalf("HELLO 3: %q", got)
				}
			}
			for _, st := range steps {
				want := st.resp2
				if proto == 3 {
					want = st.resp3
				}
				if got := r.do(st.args...); got != want {
					t.Errorf("%q: got %q, want %q", st.args, got, want)
				}
			}
		})
	}
}
