package commands

import (
	"fmt"
	"strings"
	"testing"
)

// notifySequence writes keys with every command that emits a keyspace
// event, plus some that emit none (conditions that fail, unchanged scores).
var notifySequence = [][]string{
	{"SET", "a", "1"}, {"SET", "a", "2", "EX", "100"}, {"SET", "a", "3", "KEEPTTL"},
	{"SETNX", "a", "x"}, {"SETNX", "b", "1"}, {"SET", "a", "4", "NX"},
	{"MSET", "c", "1", "d", "2"}, {"MSETNX", "c", "1", "e", "2"}, {"GETSET", "b", "2"},
	{"SET", "s", "v", "PX", "100000", "GET"}, {"SETEX", "s", "100", "v"}, {"PSETEX", "s", "100000", "v"},
	{"APPEND", "b", "x"}, {"APPEND", "fresh", "y"}, {"SETRANGE", "b", "0", ""}, {"SETRANGE", "b", "1", "zz"},
	{"INCR", "n"}, {"INCRBY", "n", "5"}, {"DECR", "n"}, {"DECRBY", "n", "2"}, {"INCRBYFLOAT", "f", "1.5"},
	{"GETEX", "a", "PERSIST"}, {"GETEX", "a", "PERSIST"}, {"GETEX", "a", "EX", "100"}, {"GETEX", "a", "PXAT", "1"},
	{"GETDEL", "b"}, {"GETDEL", "b"},
	{"EXPIRE", "c", "100"}, {"EXPIRE", "c", "100", "NX"}, {"PERSIST", "c"}, {"PERSIST", "c"}, {"PEXPIRE", "c", "0"},
	{"RENAME", "d", "d2"}, {"RENAMENX", "d2", "e"}, {"RENAMENX", "d2", "d3"}, {"COPY", "d3", "d4"}, {"COPY", "d3", "d4"},
	{"COPY", "d3", "d4", "DB", "1"}, {"DEL", "d3", "d4", "missing"}, {"UNLINK", "e"},
	{"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f", "7", "g"},
	{"ZADD", "z", "1", "a"}, {"ZADD", "z", "CH", "9", "a"}, {"ZADD", "z", "XX", "1", "new"},
	{"ZINCRBY", "z", "1", "b"}, {"ZADD", "z", "INCR", "1", "c"}, {"ZADD", "z", "INCR", "0", "c"},
	{"ZREM", "z", "a", "nope"}, {"ZREM", "z", "nope"}, {"ZREMRANGEBYSCORE", "z", "0", "3"},
	{"ZREMRANGEBYSCORE", "z", "100", "200"}, {"ZREMRANGEBYRANK", "z", "0", "0"}, {"ZPOPMIN", "z"},
	{"ZPOPMAX", "z", "10"}, {"ZPOPMIN", "z"},
	{"ZADD", "lex", "0", "a", "0", "b", "0", "c"}, {"ZREMRANGEBYLEX", "lex", "[a", "[b"}, {"ZREMRANGEBYLEX", "lex", "-", "+"},
	{"ZADD", "y", "1", "a", "2", "b"}, {"ZUNIONSTORE", "u", "1", "y"}, {"ZINTERSTORE", "u", "2", "y", "missing"},
	{"ZINTERSTORE", "u", "2", "y", "missing"}, {"ZDIFFSTORE", "u", "1", "y"}, {"ZRANGESTORE", "r", "y", "0", "-1"},
	{"ZRANGESTORE", "r", "missing", "0", "-1"}, {"ZMPOP", "1", "y", "MAX", "COUNT", "5"},
	{"SET", "last", "1"},
}

// TestNotify_Diff runs notifySequence on redis-server and Cairn with a
// PSUBSCRIBE __key*@0__:* client and compares every message.
func TestNotify_Diff(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			d := newPubsubDiffer(t, proto)
			s, p := d.sub, d.pub
			p.do("CONFIG", "SET", "notify-keyspace-events", "KEA")
			s.do("PSUBSCRIBE", "__key*@0__:*")
			for _, cmd := range notifySequence {
				p.do(cmd...)
			}
			// Redis publishes the keyspace message before the keyevent one:
			// the sequence ends at the keyevent message of SET last.
			var want []string
			for {
				f := s.redis.reply()
				want = append(want, f)
				if strings.Contains(f, "__keyevent@0__:set") && strings.HasSuffix(f, "$4\r\nlast\r\n") {
					break
				}
			}
			if len(want) < 100 {
				t.Fatalf("redis-server sent only %d messages: the sequence no longer exercises the events", len(want))
			}
			for i, w := range want {
				if got := s.cairn.reply(); got != w {
					t.Fatalf("message %d:\n redis: %q\n cairn: %q", i, w, got)
				}
			}
			// Nothing else is pending: the next message is a fresh PUBLISH.
			p.do("PUBLISH", "__keyspace@0__:probe", "end")
			d.frames(1)
		})
	}
}

// TestNotify_ConfigDiff compares CONFIG SET and GET of
// notify-keyspace-events: letters in any order come back in Redis's
// canonical order, A folds the classes it covers, bad letters are refused.
func TestNotify_ConfigDiff(t *testing.T) {
	d := newDiffer(t)
	for _, v := range []string{"", "KEA", "AKE", "EA", "Elg", "gx$Kn", "m", "Km", "g$lshzxetdn", "g$lshzxetdKEmn", "AnmKE", "K", "E", "x"} {
		d.do("CONFIG", "SET", "notify-keyspace-events", v)
		d.do("CONFIG", "GET", "notify-keyspace-events")
	}
	d.doErr("Invalid event class", "CONFIG", "SET", "notify-keyspace-events", "KEQ")
	d.do("CONFIG", "GET", "notify-keyspace-events")
}

// TestNotify_Disabled checks that no message is published without K or
// E, or for a class not enabled.
func TestNotify_Disabled(t *testing.T) {
	n := testNode(t)
	sub, pub := dialRaw(t, n.Addr()), dialRaw(t, n.Addr())
	sub.do("PSUBSCRIBE", "__key*")
	for _, flags := range []string{"", "A", "KEz"} {
		pub.do("CONFIG", "SET", "notify-keyspace-events", flags)
		pub.do("SET", "k", "v")
		pub.do("DEL", "k")
	}
	pub.do("PUBLISH", "__keyspace@0__:probe", "end")
	want := "*4\r\n$8\r\npmessage\r\n$6\r\n__key*\r\n$20\r\n__keyspace@0__:probe\r\n$3\r\nend\r\n"
	if got := sub.reply(); got != want {
		t.Fatalf("first message: %q, want only the probe %q", got, want)
	}
}

// TestNotify_Expired checks the expired event of a key removed by the
// active expiry cycle, with nobody touching the key.
func TestNotify_Expired(t *testing.T) {
	n := testNode(t)
	sub, pub := dialRaw(t, n.Addr()), dialRaw(t, n.Addr())
	pub.do("CONFIG", "SET", "notify-keyspace-events", "Ex")
	sub.do("SUBSCRIBE", "__keyevent@0__:expired")
	pub.do("SET", "short", "v", "PX", "50")
	// reply waits (bounded) until the expiry cycle removes the key.
	want := "*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n$5\r\nshort\r\n"
	if got := sub.reply(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := pub.do("EXISTS", "short"); got != ":0\r\n" {
		t.Fatalf("EXISTS after the expired event: %q", got)
	}
}

// TestNotify_Evicted checks the evicted event of a key maxmemory removes.
func TestNotify_Evicted(t *testing.T) {
	n := testNode(t)
	sub, pub := dialRaw(t, n.Addr()), dialRaw(t, n.Addr())
	pub.do("CONFIG", "SET", "notify-keyspace-events", "Ee")
	sub.do("SUBSCRIBE", "__keyevent@0__:evicted")
	pub.do("SET", "victim", strings.Repeat("v", 1000))
	pub.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
	pub.do("CONFIG", "SET", "maxmemory", "1")
	pub.do("SET", "other", "v") // evictions run before the command, then OOM or not
	want := "*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:evicted\r\n$6\r\nvictim\r\n"
	if got := sub.reply(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
