package commands

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Keyspace commands through go-redis, in RESP2 and RESP3.

// ksOK fails unless err is nil.
func ksOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ksInt checks an integer reply.
func ksInt(t *testing.T, what string, got int64, err error, want int64) {
	t.Helper()
	if err != nil || got != want {
		t.Errorf("%s = %d, %v; want %d", what, got, err, want)
	}
}

// ksErr checks that err is a Redis error with exactly text.
func ksErr(t *testing.T, what string, err error, text string) {
	t.Helper()
	if err == nil || err.Error() != text {
		t.Errorf("%s: error %v, want %q", what, err, text)
	}
}

// ksClientDB is a client like c bound to database db (go-redis would
// return a connection that ran SELECT to c's pool still selecting it).
func ksClientDB(t *testing.T, c *redis.Client, db int) *redis.Client {
	t.Helper()
	o := c.Options()
	dc := redis.NewClient(&redis.Options{Addr: o.Addr, Protocol: o.Protocol, DB: db,
		DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	t.Cleanup(func() { dc.Close() })
	return dc
}

// ksSet sets each key to a value derived from it.
func ksSet(t *testing.T, c *redis.Client, keys ...string) {
	t.Helper()
	for _, k := range keys {
		ksOK(t, "SET "+k, c.Set(ctx, k, "v:"+k, 0).Err())
	}
}

func TestKeyspace_Del(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		t.Run("counts deleted keys once", func(t *testing.T) {
			ksSet(t, c, "a", "b")
			n, err := c.Del(ctx, "a", "b", "c", "a").Result()
			ksInt(t, "DEL a b c a", n, err, 2)
			n, err = c.Exists(ctx, "a", "b").Result()
			ksInt(t, "EXISTS a b", n, err, 0)
		})
		t.Run("unlink", func(t *testing.T) {
			ksSet(t, c, "u1", "u2")
			n, err := c.Unlink(ctx, "u1", "u1", "nosuch").Result()
			ksInt(t, "UNLINK", n, err, 1)
			n, err = c.Exists(ctx, "u1", "u2").Result()
			ksInt(t, "EXISTS u1 u2", n, err, 1)
		})
		t.Run("arity", func(t *testing.T) {
			ksErr(t, "DEL", c.Do(ctx, "del").Err(), "ERR wrong number of arguments for 'del' command")
		})
	})
}

func TestKeyspace_ExistsTouchType(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		ksSet(t, c, "s")
		n, err := c.Exists(ctx, "s", "s", "s", "nosuch").Result()
		ksInt(t, "EXISTS s s s nosuch", n, err, 3)
		n, err = c.Touch(ctx, "s", "nosuch", "s").Result()
		ksInt(t, "TOUCH", n, err, 2)
		if typ, err := c.Type(ctx, "s").Result(); err != nil || typ != "string" {
			t.Errorf("TYPE s = %q, %v", typ, err)
		}
		if typ, err := c.Type(ctx, "nosuch").Result(); err != nil || typ != "none" {
			t.Errorf("TYPE nosuch = %q, %v", typ, err)
		}
	})
}

func TestKeyspace_Rename(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		t.Run("moves value and ttl", func(t *testing.T) {
			ksSet(t, c, "r1")
			ksOK(t, "PEXPIRE", c.PExpire(ctx, "r1", time.Hour).Err())
			if got, err := c.Rename(ctx, "r1", "r2").Result(); err != nil || got != "OK" {
				t.Fatalf("RENAME = %q, %v", got, err)
			}
			if v, err := c.Get(ctx, "r2").Result(); err != nil || v != "v:r1" {
				t.Errorf("GET r2 = %q, %v", v, err)
			}
			if err := c.Get(ctx, "r1").Err(); !errors.Is(err, redis.Nil) {
				t.Errorf("GET r1 after rename: %v", err)
			}
			if d, err := c.PTTL(ctx, "r2").Result(); err != nil || d <= 59*time.Minute || d > time.Hour {
				t.Errorf("PTTL r2 = %v, %v; want about an hour", d, err)
			}
		})
		t.Run("overwrites destination and its ttl", func(t *testing.T) {
			ksSet(t, c, "o1", "o2")
			ksOK(t, "EXPIRE", c.Expire(ctx, "o2", time.Hour).Err())
			ksOK(t, "RENAME", c.Rename(ctx, "o1", "o2").Err())
			if v, _ := c.Get(ctx, "o2").Result(); v != "v:o1" {
				t.Errorf("GET o2 = %q", v)
			}
			if d, err := c.TTL(ctx, "o2").Result(); err != nil || d != -1 {
				t.Errorf("TTL o2 = %v, %v; want -1 (the source had none)", d, err)
			}
		})
		t.Run("same key keeps its ttl", func(t *testing.T) {
			ksSet(t, c, "same")
			at := time.Now().Add(time.Hour).Truncate(time.Second)
			ksOK(t, "EXPIREAT", c.ExpireAt(ctx, "same", at).Err())
			ksOK(t, "RENAME same same", c.Rename(ctx, "same", "same").Err())
			if d, err := c.ExpireTime(ctx, "same").Result(); err != nil || d != time.Duration(at.Unix())*time.Second {
				t.Errorf("EXPIRETIME same = %v, %v; want %d s", d, err, at.Unix())
			}
		})
		t.Run("missing source", func(t *testing.T) {
			ksErr(t, "RENAME nosuch x", c.Rename(ctx, "nosuch", "x").Err(), "ERR no such key")
			ksErr(t, "RENAME nosuch nosuch", c.Rename(ctx, "nosuch", "nosuch").Err(), "ERR no such key")
			ksErr(t, "RENAMENX nosuch x", c.RenameNX(ctx, "nosuch", "x").Err(), "ERR no such key")
		})
		t.Run("renamenx", func(t *testing.T) {
			ksSet(t, c, "n1", "n2")
			if ok, err := c.RenameNX(ctx, "n1", "n2").Result(); err != nil || ok {
				t.Errorf("RENAMENX onto an existing key = %v, %v", ok, err)
			}
			if ok, err := c.RenameNX(ctx, "n1", "n1").Result(); err != nil || ok {
				t.Errorf("RENAMENX n1 n1 = %v, %v; want false", ok, err)
			}
			if ok, err := c.RenameNX(ctx, "n1", "n3").Result(); err != nil || !ok {
				t.Errorf("RENAMENX onto a free key = %v, %v", ok, err)
			}
			if v, _ := c.Get(ctx, "n3").Result(); v != "v:n1" {
				t.Errorf("GET n3 = %q", v)
			}
			if v, _ := c.Get(ctx, "n2").Result(); v != "v:n2" {
				t.Errorf("RENAMENX changed n2 to %q", v)
			}
		})
	})
}

func TestKeyspace_Copy(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		t.Run("same db with ttl", func(t *testing.T) {
			ksSet(t, c, "src")
			at := time.Now().Add(time.Hour).Truncate(time.Second)
			ksOK(t, "EXPIREAT", c.ExpireAt(ctx, "src", at).Err())
			n, err := c.Copy(ctx, "src", "dst", 0, false).Result()
			ksInt(t, "COPY src dst DB 0", n, err, 1)
			if v, _ := c.Get(ctx, "dst").Result(); v != "v:src" {
				t.Errorf("GET dst = %q", v)
			}
			if d, _ := c.ExpireTime(ctx, "dst").Result(); d != time.Duration(at.Unix())*time.Second {
				t.Errorf("EXPIRETIME dst = %v, want %d s", d, at.Unix())
			}
			n, err = c.Copy(ctx, "src", "dst", 0, false).Result()
			ksInt(t, "COPY onto an existing key", n, err, 0)
			ksOK(t, "SET", c.Set(ctx, "src", "changed", 0).Err())
			n, err = c.Copy(ctx, "src", "dst", 0, true).Result()
			ksInt(t, "COPY REPLACE", n, err, 1)
			if v, _ := c.Get(ctx, "dst").Result(); v != "changed" {
				t.Errorf("GET dst after REPLACE = %q", v)
			}
			n, err = c.Copy(ctx, "nosuch", "dst", 0, true).Result()
			ksInt(t, "COPY nosuch", n, err, 0)
		})
		t.Run("other db", func(t *testing.T) {
			ksSet(t, c, "x")
			n, err := c.Copy(ctx, "x", "x", 7, false).Result()
			ksInt(t, "COPY x x DB 7", n, err, 1)
			conn := ksClientDB(t, c, 7)
			if v, err := conn.Get(ctx, "x").Result(); err != nil || v != "v:x" {
				t.Errorf("GET x in db 7 = %q, %v", v, err)
			}
			if n, _ := conn.DBSize(ctx).Result(); n != 1 {
				t.Errorf("DBSIZE of db 7 = %d", n)
			}
		})
		t.Run("errors", func(t *testing.T) {
			ksSet(t, c, "e")
			ksErr(t, "COPY e e", c.Do(ctx, "copy", "e", "e").Err(), errSameObject)
			ksErr(t, "COPY e e DB 0", c.Copy(ctx, "e", "e", 0, true).Err(), errSameObject)
			ksErr(t, "COPY DB 16", c.Copy(ctx, "e", "f", 16, false).Err(), errDBIndex)
			ksErr(t, "COPY DB -1", c.Copy(ctx, "e", "f", -1, false).Err(), errDBIndex)
			ksErr(t, "COPY DB abc", c.Do(ctx, "copy", "e", "f", "db", "abc").Err(), errNotInt)
			ksErr(t, "COPY DB 2^31", c.Do(ctx, "copy", "e", "f", "db", "2147483648").Err(), errIntRange)
			ksErr(t, "COPY DB", c.Do(ctx, "copy", "e", "f", "db").Err(), errSyntax)
			ksErr(t, "COPY foo", c.Do(ctx, "copy", "e", "f", "foo").Err(), errSyntax)
			if n, _ := c.Exists(ctx, "f").Result(); n != 0 {
				t.Error("a failed COPY created the destination")
			}
		})
	})
}

func TestKeyspace_Keys(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		ksSet(t, c, "user:1", "user:10", "user:2", "item:1", "hello", "hallo", "*star", "")
		for _, tc := range []struct {
			pat  string
			want []string
		}{
			{"*", []string{"", "*star", "hallo", "hello", "item:1", "user:1", "user:10", "user:2"}},
			{"user:1*", []string{"user:1", "user:10"}},
			{"user:?", []string{"user:1", "user:2"}},
			{"*:1", []string{"item:1", "user:1"}},
			{"h[ae]llo", []string{"hallo", "hello"}},
			{"h[^e]llo", []string{"hallo"}},
			{"\\*star", []string{"*star"}},
			{"", []string{""}},
			{"nomatch*", nil},
		} {
			got, err := c.Keys(ctx, tc.pat).Result()
			slices.Sort(got)
			if err != nil || !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("KEYS %q = %q, %v; want %q", tc.pat, got, err, tc.want)
			}
		}
		// Cairn's KEYS answers in key order.
		got, _ := c.Keys(ctx, "user:*").Result()
		if !slices.Equal(got, []string{"user:1", "user:10", "user:2"}) {
			t.Errorf("KEYS user:* = %q, want key order", got)
		}
	})
}

func TestKeyspace_RandomKey(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		if err := c.RandomKey(ctx).Err(); !errors.Is(err, redis.Nil) {
			t.Fatalf("RANDOMKEY on an empty db: %v, want nil", err)
		}
		keys := []string{"user:1", "user:2", "user:3", "user:4"}
		ksSet(t, c, keys...)
		seen := map[string]bool{}
		for i := 0; i < 500 && len(seen) < len(keys); i++ {
			k, err := c.RandomKey(ctx).Result()
			if err != nil || !slices.Contains(keys, k) {
				t.Fatalf("RANDOMKEY = %q, %v", k, err)
			}
			seen[k] = true
		}
		if len(seen) != len(keys) {
			t.Errorf("RANDOMKEY returned only %v in 500 calls", seen)
		}
	})
}

func TestKeyspace_DBSizeAndFlush(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		conn := c.Conn()
		defer conn.Close()
		fill := func(db, n int) {
			ksOK(t, "SELECT", conn.Select(ctx, db).Err())
			for i := range n {
				ksOK(t, "SET", conn.Set(ctx, fmt.Sprintf("k%d", i), "v", 0).Err())
			}
		}
		size := func(db int) int64 {
			ksOK(t, "SELECT", conn.Select(ctx, db).Err())
			n, err := conn.DBSize(ctx).Result()
			ksOK(t, "DBSIZE", err)
			return n
		}
		fill(0, 3)
		fill(1, 4)
		fill(2, 5)
		if a, b, c := size(0), size(1), size(2); a != 3 || b != 4 || c != 5 {
			t.Fatalf("DBSIZE = %d %d %d", a, b, c)
		}
		ksOK(t, "SELECT 1", conn.Select(ctx, 1).Err())
		ksOK(t, "FLUSHDB", conn.FlushDB(ctx).Err())
		if a, b, c := size(0), size(1), size(2); a != 3 || b != 0 || c != 5 {
			t.Errorf("after FLUSHDB of db 1: DBSIZE = %d %d %d", a, b, c)
		}
		ksOK(t, "SELECT 2", conn.Select(ctx, 2).Err())
		ksOK(t, "FLUSHDB ASYNC", conn.FlushDBAsync(ctx).Err())
		if n := size(2); n != 0 {
			t.Errorf("after FLUSHDB ASYNC: %d keys", n)
		}
		ksErr(t, "FLUSHDB foo", conn.Do(ctx, "flushdb", "foo").Err(), errSyntax)
		ksErr(t, "FLUSHALL foo", conn.Do(ctx, "flushall", "foo").Err(), errSyntax)
		ksErr(t, "FLUSHALL SYNC ASYNC", conn.Do(ctx, "flushall", "sync", "async").Err(), errSyntax)
		fill(1, 2)
		ksOK(t, "FLUSHALL SYNC", conn.Do(ctx, "flushall", "sync").Err())
		if a, b, c := size(0), size(1), size(2); a != 0 || b != 0 || c != 0 {
			t.Errorf("after FLUSHALL: DBSIZE = %d %d %d", a, b, c)
		}
		fill(0, 2)
		ksOK(t, "FLUSHALL ASYNC", conn.FlushAllAsync(ctx).Err())
		if n := size(0); n != 0 {
			t.Errorf("after FLUSHALL ASYNC: %d keys", n)
		}
	})
}

// TestKeyspace_FlushDBSurvivesRestart: FLUSHDB is a range deletion in
// Pebble; after a restart the flushed database stays empty and the others
// keep their keys.
func TestKeyspace_FlushDBSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	n := testNodeIn(t, dir)
	c := newClient(t, n.Addr(), 3)
	conn := c.Conn()
	for db := range 16 {
		ksOK(t, "SELECT", conn.Select(ctx, db).Err())
		for i := range 10 {
			ksOK(t, "SET", conn.Set(ctx, fmt.Sprintf("k%d", i), fmt.Sprint(db), 0).Err())
		}
	}
	ksOK(t, "SELECT 9", conn.Select(ctx, 9).Err())
	ksOK(t, "FLUSHDB", conn.FlushDB(ctx).Err())
	conn.Close()
	c.Close()
	ksOK(t, "close", n.Close())

	n = testNodeIn(t, dir)
	conn = newClient(t, n.Addr(), 2).Conn()
	defer conn.Close()
	for db := range 16 {
		ksOK(t, "SELECT", conn.Select(ctx, db).Err())
		size, err := conn.DBSize(ctx).Result()
		ksOK(t, "DBSIZE", err)
		want := int64(10)
		if db == 9 {
			want = 0
		}
		if size != want {
			t.Errorf("db %d: %d keys after restart, want %d", db, size, want)
		}
		if db != 9 {
			if v, _ := conn.Get(ctx, "k3").Result(); v != fmt.Sprint(db) {
				t.Errorf("db %d: k3 = %q", db, v)
			}
		}
	}
}

// TestKeyspace_RESP3Bytes checks replies whose encoding depends on the
// protocol: RANDOMKEY's null and TYPE's status.
func TestKeyspace_RESP3Bytes(t *testing.T) {
	n := testNode(t)
	r := dialRaw(t, n.Addr())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"RANDOMKEY"}, "$-1\r\n"},
		{[]string{"TYPE", "nosuch"}, "+none\r\n"},
		{[]string{"KEYS", "*"}, "*0\r\n"},
		{[]string{"SCAN", "0"}, "*2\r\n$1\r\n0\r\n*0\r\n"},
		{[]string{"TTL", "nosuch"}, ":-2\r\n"},
	} {
		if got := r.do(tc.args...); got != tc.want {
			t.Errorf("RESP2 %q = %q, want %q", tc.args, got, tc.want)
		}
	}
	r.do("HELLO", "3")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"RANDOMKEY"}, "_\r\n"},
		{[]string{"TYPE", "nosuch"}, "+none\r\n"},
		{[]string{"SCAN", "0"}, "*2\r\n$1\r\n0\r\n*0\r\n"},
	} {
		if got := r.do(tc.args...); got != tc.want {
			t.Errorf("RESP3 %q = %q, want %q", tc.args, got, tc.want)
		}
	}
	r.do("SET", "a", "1")
	if got, want := r.do("SCAN", "0"), "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"; got != want {
		t.Errorf("RESP3 SCAN 0 = %q, want %q", got, want)
	}
	if got, want := r.do("RANDOMKEY"), "$1\r\na\r\n"; got != want {
		t.Errorf("RESP3 RANDOMKEY = %q, want %q", got, want)
	}
}
