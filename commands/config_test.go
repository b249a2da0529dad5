package commands

import (
	"sort"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestConfig_Differential(t *testing.T) {
	forEachDiffer(t, func(t *testing.T, d *differ, _ *Node) {
		// The harness starts redis-server with loglevel warning.
		d.do("CONFIG", "SET", "loglevel", "notice")
		for _, args := range [][]string{
			{"CONFIG", "GET", "maxmemory-policy"},
			{"CONFIG", "GET", "MAXMEMORY"},
			{"CONFIG", "GET", "maxmemory", "MAXMEMORY"},
			{"CONFIG", "GET", "Timeout", "timeout"},
			{"CONFIG", "GET", "nosuch"},
			{"CONFIG", "GET", "nosuch*"},
			{"CONFIG", "GET", "slowlog-log-slower-than"},
			{"CONFIG", "GET", "proto-max-bulk-len"},
			{"CONFIG", "GET", "client-query-buffer-limit"},
			{"CONFIG", "GET", "loglevel"},
			{"CONFIG", "GET", "appendfsync"},
			{"CONFIG", "GET"},
			{"CONFIG", "SET", "maxclients"},
			{"CONFIG", "SET", "maxclients", "10", "timeout"},
			{"CONFIG", "SET", "maxclients", "abc"},
			{"CONFIG", "SET", "maxclients", "0"},
			{"CONFIG", "SET", "maxclients", "4294967296"},
			{"CONFIG", "SET", "maxclients", "+5"},
			{"CONFIG", "SET", "timeout", "-1"},
			{"CONFIG", "SET", "timeout", "1x"},
			{"CONFIG", "SET", "timeout", "2147483648"},
			{"CONFIG", "SET", "slowlog-max-len", "-1"},
			{"CONFIG", "SET", "slowlog-log-slower-than", "-2"},
			{"CONFIG", "SET", "loglevel", "foo"},
			{"CONFIG", "SET", "nosuch", "1"},
			{"CONFIG", "SET", "databases", "3"},
			{"CONFIG", "SET", "DATABASES", "3"},
			{"CONFIG", "SET", "MAXCLIENTS", "100", "maxclients", "200"},
			{"CONFIG", "SET", "maxclients", "abc", "nosuch", "1"},
			{"CONFIG", "SET", "databases", "3", "nosuch", "1"},
			{"CONFIG", "SET", "nosuch", "1", "databases", "3"},
			{"CONFIG", "SET", "maxclients", "100", "TIMEOUT", "abc"},
			{"CONFIG", "GET", "maxclients"},
			{"CONFIG", "SET", "maxclients", "9000", "timeout", "0"},
			{"CONFIG", "GET", "maxclients"},
			{"CONFIG", "SET", "LOGLEVEL", "WARNING"},
			{"CONFIG", "GET", "loglevel"},
			{"CONFIG", "SET", "slowlog-max-len", "5", "slowlog-log-slower-than", "-1"},
			{"CONFIG", "GET", "slowlog-max-len"},
			{"CONFIG", "RESETSTAT"},
			{"CONFIG", "RESETSTAT", "x"},
			{"CONFIG", "HELP", "x"},
			{"CONFIG", "nosuch"},
			{"CONFIG"},
		} {
			d.do(args...)
		}
		doSortedPairs(d, "CONFIG", "GET", "maxclients", "databases", "slowlog-max-len")
		doSortedPairs(d, "CONFIG", "GET", "slowlog-*")
		doSortedPairs(d, "CONFIG", "GET", "slowlog-max-len", "SLOWLOG*")
		doSortedPairs(d, "CONFIG", "GET", "maxclient?", "timeou[t]", "databases")
	})
}

// doSortedPairs is differ.do for a map reply (RESP3 map or RESP2 flat
// array of pairs) whose pair order Redis leaves to its hash table.
func doSortedPairs(d *differ, args ...string) {
	d.t.Helper()
	norm := func(raw string) string {
		n, err := rtParseBytes([]byte(raw))
		if err != nil || (n.kind != '*' && n.kind != '%') || len(n.elems)%2 != 0 {
			return raw
		}
		var pairs []string
		for i := 0; i < len(n.elems); i += 2 {
			pairs = append(pairs, n.elems[i].String()+"="+n.elems[i+1].String())
		}
		sort.Strings(pairs)
		return string(n.kind) + strings.Join(pairs, " ")
	}
	want, got := d.redis.do(args...), d.cairn.do(args...)
	if norm(want) != norm(got) {
		d.t.Errorf("%q (pairs sorted):\n redis: %q\n cairn: %q", args, want, got)
	}
}

func TestConfig_GoRedis(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		got, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
		must(t, err)
		if len(got) != 1 || got["maxmemory-policy"] != "noeviction" {
			t.Fatalf("CONFIG GET maxmemory-policy = %v", got)
		}
		got, err = c.ConfigGet(ctx, "*").Result()
		must(t, err)
		for _, k := range []string{"port", "dir", "appendfsync", "maxclients", "timeout", "loglevel", "slowlog-max-len"} {
			if _, ok := got[k]; !ok {
				t.Errorf("CONFIG GET * lacks %s", k)
			}
		}
		must(t, c.ConfigSet(ctx, "slowlog-max-len", "7").Err())
		if v := c.ConfigGet(ctx, "slowlog-max-len").Val()["slowlog-max-len"]; v != "7" {
			t.Fatalf("slowlog-max-len = %q after CONFIG SET", v)
		}
		err = c.ConfigSet(ctx, "port", "1").Err()
		if err == nil || err.Error() != "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config" {
			t.Fatalf("CONFIG SET port: %v", err)
		}
		must(t, c.ConfigResetStat(ctx).Err())
		help, err := c.Do(ctx, "CONFIG", "HELP").StringSlice()
		must(t, err)
		if len(help) < 5 || !strings.HasPrefix(help[0], "CONFIG <subcommand>") {
			t.Fatalf("CONFIG HELP = %q", help)
		}
	})
}

// CONFIG SET maxclients applies at once: a connection over the limit is
// refused with Redis's error.
func TestConfig_SetMaxClientsApplies(t *testing.T) {
	n := testNode(t)
	r := dialRaw(t, n.Addr())
	if got := r.do("CONFIG", "SET", "maxclients", "1"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET maxclients 1 = %q", got)
	}
	over := dialRaw(t, n.Addr())
	if got := over.reply(); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("connection over maxclients got %q", got)
	}
	if got := r.do("CONFIG", "SET", "maxclients", "10"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET maxclients 10 = %q", got)
	}
	if got := dialRaw(t, n.Addr()).do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after raising maxclients = %q", got)
	}
}
