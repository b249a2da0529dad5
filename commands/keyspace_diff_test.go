package commands

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Differential tests of the keyspace and TTL commands against redis-server,
// in RESP2 and RESP3. Replies must be byte-identical, except where Redis
// leaves the order open (KEYS: compared sorted) and for SCAN, whose cursor
// values and page contents differ by design (Cairn's cursor is a position
// in an ordered index, Redis's a hash-table bucket): SCAN is compared by
// the SET of keys gathered over a full iteration, and byte for byte only
// for errors and for replies that cannot differ (an empty database).
// RANDOMKEY is compared only for empty and one-key databases, and TTL/PTTL
// values only for keys without a TTL or missing (times set with EXPIREAT/
// PEXPIREAT are absolute, so EXPIRETIME/PEXPIRETIME compare exactly).

// ksSortedStep marks a script step compared with doSorted.
const ksSortedStep = "\x00sorted"

// ksScript is a named sequence of commands run on one connection of each
// server, starting from empty databases with db 0 selected.
type ksScript struct {
	name  string
	steps [][]string
}

// ksDiffView is d reporting to t (a subtest), on the same connections.
func ksDiffView(t *testing.T, d *differ) *differ {
	return &differ{t: t,
		redis: &rawConn{t: t, nc: d.redis.nc, br: d.redis.br},
		cairn: &rawConn{t: t, nc: d.cairn.nc, br: d.cairn.br}}
}

// ksForEachDiffProto runs fn with one differ per protocol; with RESP3 both
// connections have sent HELLO 3 (its reply differs: server id, version).
func ksForEachDiffProto(t *testing.T, fn func(t *testing.T, d *differ)) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			d := newDiffer(t)
			if proto == 3 {
				for _, r := range []*rawConn{d.redis, d.cairn} {
					if got := r.do("HELLO", "3"); !strings.HasPrefix(got, "%") {
						t.Fatalf("HELLO 3: %q", got)
					}
				}
			}
			fn(t, d)
		})
	}
}

// ksRunScripts runs each script as a subtest after FLUSHALL and SELECT 0.
func ksRunScripts(t *testing.T, scripts []ksScript) {
	ksForEachDiffProto(t, func(t *testing.T, d *differ) {
		ran := 0
		for _, sc := range scripts {
			t.Run(sc.name, func(t *testing.T) {
				d := ksDiffView(t, d)
				d.do("SELECT", "0")
				d.do("FLUSHALL")
				for _, step := range sc.steps {
					if step[0] == ksSortedStep {
						d.doSorted(step[1:]...)
					} else {
						d.do(step...)
					}
				}
				ran++
			})
		}
		if ran != len(scripts) || ran == 0 {
			t.Fatalf("ran %d of %d scripts", ran, len(scripts))
		}
	})
}

// kc is one step: a command and its arguments.
func kc(args ...string) []string { return args }

// kcSorted is a step compared with doSorted.
func kcSorted(args ...string) []string { return append([]string{ksSortedStep}, args...) }

// A fixed absolute time far in the future, for EXPIREAT/PEXPIREAT.
const (
	farSec = "99999999999"
	farMs  = "99999999999000"
)

func TestKeyspace_Diff(t *testing.T) {
	ksRunScripts(t, []ksScript{
		{"del", [][]string{
			kc("SET", "a", "1"), kc("SET", "b", "2"), kc("DEL", "a", "b", "c", "a"), kc("EXISTS", "a", "b"),
			kc("DEL", "nosuch"), kc("DEL"), kc("SET", "", "empty"), kc("DEL", ""), kc("DBSIZE"),
		}},
		{"unlink", [][]string{
			kc("SET", "a", "1"), kc("SET", "b", "2"), kc("UNLINK", "a", "a", "nosuch"), kc("UNLINK", "b"),
			kc("DBSIZE"), kc("UNLINK"),
		}},
		{"exists counts duplicates", [][]string{
			kc("SET", "a", "1"), kc("EXISTS", "a", "a", "a", "nosuch"), kc("EXISTS", "nosuch"), kc("EXISTS"),
		}},
		{"type", [][]string{
			kc("SET", "a", "1"), kc("TYPE", "a"), kc("TYPE", "nosuch"), kc("TYPE"), kc("TYPE", "a", "b"),
		}},
		{"rename", [][]string{
			kc("RENAME", "nosuch", "x"), kc("RENAME", "nosuch", "nosuch"),
			kc("SET", "a", "1"), kc("RENAME", "a", "b"), kc("GET", "a"), kc("GET", "b"), kc("EXISTS", "a"),
			kc("SET", "c", "3"), kc("RENAME", "b", "c"), kc("GET", "c"), kc("DBSIZE"),
			kc("RENAME", "c", "c"), kc("GET", "c"),
			kc("SET", "", "e"), kc("RENAME", "", "x"), kc("GET", "x"), kc("EXISTS", ""),
			kc("RENAME", "x"), kc("RENAME", "x", "y", "z"),
		}},
		{"rename moves the ttl", [][]string{
			kc("SET", "a", "1"), kc("PEXPIREAT", "a", farMs), kc("RENAME", "a", "b"),
			kc("PEXPIRETIME", "b"), kc("PEXPIRETIME", "a"),
			kc("RENAME", "b", "b"), kc("PEXPIRETIME", "b"),
			kc("SET", "p", "persistent"), kc("RENAME", "p", "b"), kc("TTL", "b"), kc("GET", "b"),
		}},
		{"renamenx", [][]string{
			kc("RENAMENX", "nosuch", "x"), kc("RENAMENX", "nosuch", "nosuch"),
			kc("SET", "a", "1"), kc("RENAMENX", "a", "a"), kc("GET", "a"),
			kc("SET", "b", "2"), kc("RENAMENX", "a", "b"), kc("GET", "a"), kc("GET", "b"),
			kc("EXPIREAT", "a", farSec), kc("RENAMENX", "a", "c"), kc("GET", "c"), kc("EXPIRETIME", "c"),
			kc("EXISTS", "a"), kc("RENAMENX", "a"),
		}},
		{"copy", [][]string{
			kc("COPY", "nosuch", "b"), kc("COPY", "nosuch", "nosuch"),
			kc("SET", "a", "1"), kc("COPY", "a", "b"), kc("GET", "b"), kc("COPY", "a", "b"),
			kc("SET", "a", "2"), kc("COPY", "a", "b", "REPLACE"), kc("GET", "b"),
			kc("COPY", "a", "b", "replace", "Replace"), kc("COPY", "a", "a"), kc("COPY", "a", "a", "DB", "0"),
			kc("PEXPIREAT", "a", farMs), kc("COPY", "a", "c"), kc("PEXPIRETIME", "c"), kc("TTL", "b"),
			kc("COPY", "a"),
		}},
		{"copy to another db", [][]string{
			kc("SET", "a", "1"), kc("COPY", "a", "a", "DB", "1"), kc("COPY", "a", "a", "db", "1"),
			kc("COPY", "a", "z", "DB", "15"), kc("SELECT", "15"), kc("GET", "z"), kc("SELECT", "1"),
			kc("GET", "a"), kc("COPY", "a", "a", "DB", "1"), kc("SET", "b", "db1"),
			kc("SELECT", "0"), kc("COPY", "a", "b", "DB", "1"), kc("COPY", "a", "b", "DB", "1", "REPLACE"),
			kc("SELECT", "1"), kc("GET", "b"), kc("DBSIZE"), kc("SELECT", "0"), kc("DBSIZE"),
		}},
		{"copy errors", [][]string{
			kc("SET", "a", "1"),
			kc("COPY", "a", "b", "DB", "99", "foo"), kc("COPY", "a", "b", "foo", "DB", "99"),
			kc("COPY", "a", "b", "DB", "abc"), kc("COPY", "a", "b", "DB", "2147483648"),
			kc("COPY", "a", "b", "DB", "-2147483649"), kc("COPY", "a", "b", "DB", "-1"),
			kc("COPY", "a", "b", "DB", "16"), kc("COPY", "a", "b", "DB"), kc("COPY", "a", "b", "REPLACE", "DB"),
			kc("COPY", "a", "b", "DB", "1.5"), kc("COPY", "a", "b", "DB", " 1"), kc("COPY", "nosuch", "b", "DB", "16"),
			kc("COPY", "a", "a", "DB", "0", "REPLACE"), kc("EXISTS", "b"),
		}},
		{"randomkey", [][]string{
			kc("RANDOMKEY"), kc("SET", "only", "1"), kc("RANDOMKEY"), kc("RANDOMKEY"), kc("DEL", "only"),
			kc("RANDOMKEY"), kc("SET", "", "1"), kc("RANDOMKEY"), kc("RANDOMKEY", "x"),
		}},
		{"touch", [][]string{
			kc("SET", "a", "1"), kc("TOUCH", "a", "a", "nosuch"), kc("TOUCH", "nosuch"), kc("TOUCH"),
		}},
		{"dbsize", [][]string{
			kc("DBSIZE"), kc("SET", "a", "1"), kc("SET", "b", "1"), kc("DBSIZE"), kc("SELECT", "3"), kc("DBSIZE"),
			kc("SET", "a", "1"), kc("DBSIZE"), kc("SELECT", "0"), kc("DEL", "a"), kc("DBSIZE"), kc("DBSIZE", "x"),
		}},
		{"flushdb", [][]string{
			kc("SET", "a", "1"), kc("SELECT", "1"), kc("SET", "b", "1"), kc("SELECT", "0"),
			kc("FLUSHDB", "foo"), kc("FLUSHDB", "async", "sync"), kc("FLUSHDB", "sync", "x"), kc("DBSIZE"),
			kc("FLUSHDB"), kc("DBSIZE"), kc("SELECT", "1"), kc("DBSIZE"), kc("FLUSHDB", "ASYNC"), kc("DBSIZE"),
			kc("SET", "c", "1"), kc("FLUSHDB", "Sync"), kc("DBSIZE"), kc("FLUSHDB"),
		}},
		{"flushall", [][]string{
			kc("SET", "a", "1"), kc("SELECT", "5"), kc("SET", "b", "1"),
			kc("FLUSHALL", "foo"), kc("FLUSHALL", "async", "sync"), kc("DBSIZE"),
			kc("FLUSHALL"), kc("DBSIZE"), kc("SELECT", "0"), kc("DBSIZE"),
			kc("SET", "a", "1"), kc("FLUSHALL", "ASYNC"), kc("DBSIZE"), kc("SET", "a", "1"), kc("FLUSHALL", "sync"), kc("DBSIZE"),
		}},
		{"keyspace commands inside multi", [][]string{
			kc("SET", "a", "1"), kc("MULTI"), kc("RENAME", "a", "b"), kc("EXISTS", "a", "b"), kc("COPY", "b", "c"),
			kc("DEL", "b"), kc("EXPIREAT", "c", farSec), kc("TYPE", "c"), kc("DBSIZE"), kc("KEYS", "*"),
			kc("SCAN", "0"), kc("RANDOMKEY"), kc("SCAN", "abc"), kc("FLUSHDB", "x"), kc("EXEC"),
			kc("EXPIRETIME", "c"),
		}},
	})
}

// ksFixture is a keyspace with glob-relevant names.
var ksFixture = []string{
	"hello", "hallo", "hxllo", "hllo", "heeeello", "user:1", "user:10", "user:100", "user:2",
	"user:", "User:1", "*", "a*b", "", "x\\", "a\\", "a", "[", "]", "-", "key\nnl", "key with space",
}

func ksSetFixture() [][]string {
	var out [][]string
	for _, k := range ksFixture {
		out = append(out, kc("SET", k, "v"))
	}
	return out
}

func TestKeyspace_DiffKeys(t *testing.T) {
	steps := ksSetFixture()
	for _, pat := range []string{
		"*", "**", "a*", "user:1*", "user:*", "*1", "*1*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo",
		"h[a-b]llo", "h[b-a]llo", "\\*", "*\\*", "nomatch*", "", "[", "]", "[a", "a[", "a\\", "x\\\\",
		"?", "*:*", "USER:*", "[u]ser:1?", "key?nl", "key*space", "\\h*", "[\\]]", "[]", "*[", "-",
	} {
		steps = append(steps, kcSorted("KEYS", pat))
	}
	steps = append(steps, kc("KEYS"), kc("KEYS", "a", "b"))
	steps = append(steps, kc("SELECT", "1"), kcSorted("KEYS", "*"), kc("SELECT", "0"))
	ksRunScripts(t, []ksScript{{"keys", steps}})
}

func TestExpire_Diff(t *testing.T) {
	ksRunScripts(t, []ksScript{
		{"missing key", [][]string{
			kc("EXPIRE", "nosuch", "10"), kc("PEXPIRE", "nosuch", "10"), kc("EXPIREAT", "nosuch", farSec),
			kc("PEXPIREAT", "nosuch", farMs), kc("EXPIRE", "nosuch", "10", "NX"), kc("EXPIRE", "nosuch", "abc"),
			kc("EXPIRE", "nosuch", "10", "foo"), kc("EXPIRE", "nosuch", "-5"),
			kc("TTL", "nosuch"), kc("PTTL", "nosuch"), kc("EXPIRETIME", "nosuch"), kc("PEXPIRETIME", "nosuch"),
			kc("PERSIST", "nosuch"),
		}},
		{"persistent key", [][]string{
			kc("SET", "a", "1"), kc("TTL", "a"), kc("PTTL", "a"), kc("EXPIRETIME", "a"), kc("PEXPIRETIME", "a"),
			kc("PERSIST", "a"),
		}},
		{"absolute times", [][]string{
			kc("SET", "a", "1"), kc("EXPIREAT", "a", farSec), kc("EXPIRETIME", "a"), kc("PEXPIRETIME", "a"),
			kc("PEXPIREAT", "a", "99999999999499"), kc("EXPIRETIME", "a"), kc("PEXPIRETIME", "a"),
			kc("PEXPIREAT", "a", "99999999999500"), kc("EXPIRETIME", "a"),
			kc("PERSIST", "a"), kc("TTL", "a"), kc("PEXPIRETIME", "a"), kc("PERSIST", "a"),
			kc("PEXPIREAT", "a", "9223372036854775807"), kc("EXPIRETIME", "a"), kc("PEXPIRETIME", "a"),
			kc("EXPIREAT", "a", "9223372036854775"), kc("PEXPIRETIME", "a"), kc("GET", "a"),
		}},
		{"nx xx", [][]string{
			kc("SET", "a", "1"), kc("EXPIREAT", "a", farSec, "XX"), kc("EXPIREAT", "a", farSec, "NX"),
			kc("EXPIREAT", "a", "99999999990", "NX"), kc("EXPIRETIME", "a"), kc("EXPIREAT", "a", "99999999990", "xx"),
			kc("EXPIRETIME", "a"), kc("PEXPIREAT", "a", farMs, "nX"), kc("PEXPIREAT", "a", farMs, "Xx"),
			kc("PEXPIRETIME", "a"), kc("EXPIREAT", "a", farSec, "XX", "XX"), kc("EXPIREAT", "a", farSec, "NX", "NX"),
		}},
		{"gt lt", [][]string{
			kc("SET", "a", "1"), kc("EXPIREAT", "a", farSec, "GT"), kc("TTL", "a"),
			kc("EXPIREAT", "a", farSec, "LT"), kc("EXPIRETIME", "a"),
			kc("EXPIREAT", "a", farSec, "GT"), kc("EXPIREAT", "a", farSec, "LT"),
			kc("EXPIREAT", "a", "99999999998", "GT"), kc("EXPIREAT", "a", "99999999999999", "LT"),
			kc("EXPIREAT", "a", "99999999999999", "gt"), kc("EXPIRETIME", "a"),
			kc("EXPIREAT", "a", "99999999998", "lt"), kc("EXPIRETIME", "a"),
			kc("EXPIREAT", "a", "99999999999", "XX", "GT"), kc("EXPIREAT", "a", "99999999997", "XX", "LT"),
			kc("EXPIRETIME", "a"), kc("EXPIREAT", "a", "99999999999", "GT", "XX", "GT"), kc("EXPIRETIME", "a"),
			kc("SET", "b", "1"), kc("EXPIREAT", "b", farSec, "XX", "LT"), kc("TTL", "b"),
			kc("PEXPIREAT", "b", farMs, "LT"), kc("PEXPIRETIME", "b"),
		}},
		{"past times delete", [][]string{
			kc("SET", "a", "1"), kc("EXPIRE", "a", "-1"), kc("EXISTS", "a"),
			kc("SET", "a", "1"), kc("EXPIRE", "a", "0"), kc("EXISTS", "a"),
			kc("SET", "a", "1"), kc("PEXPIRE", "a", "-100"), kc("EXISTS", "a"),
			kc("SET", "a", "1"), kc("EXPIREAT", "a", "1"), kc("EXISTS", "a"),
			kc("SET", "a", "1"), kc("PEXPIREAT", "a", "0"), kc("EXISTS", "a"), kc("TTL", "a"),
			kc("SET", "a", "1"), kc("EXPIREAT", "a", "-9223372036854775"), kc("EXISTS", "a"),
			kc("SET", "a", "1"), kc("PEXPIREAT", "a", "-9223372036854775808"), kc("EXISTS", "a"),
			kc("SET", "a", "1"), kc("EXPIRE", "a", "-1", "NX"), kc("EXISTS", "a"),
			kc("SET", "a", "1"), kc("EXPIRE", "a", "-1", "GT"), kc("EXISTS", "a"), kc("EXPIRE", "a", "-1", "LT"),
			kc("EXISTS", "a"), kc("DBSIZE"),
			kc("SET", "a", "1"), kc("EXPIREAT", "a", farSec), kc("EXPIRE", "a", "-1", "GT"), kc("EXISTS", "a"),
			kc("EXPIRE", "a", "-1", "XX"), kc("EXISTS", "a"),
		}},
		{"option errors", [][]string{
			kc("SET", "a", "1"),
			kc("EXPIRE", "a", "10", "foo"), kc("EXPIRE", "a", "abc", "foo"), kc("EXPIRE", "a", "abc", "nx", "xx"),
			kc("EXPIRE", "a", "10", "nx", "gt"), kc("EXPIRE", "a", "10", "lt", "nx"), kc("EXPIRE", "a", "10", "gt", "lt"),
			kc("EXPIRE", "a", "10", "xx", "nx"), kc("EXPIRE", "a", "10", "gt", "gt", "lt"),
			kc("EXPIRE", "a", "10", "nx", "foo"), kc("EXPIRE", "a", "10", "foo", "nx", "xx"),
			kc("PEXPIRE", "a", "10", "x\r\ny"), kc("EXPIREAT", "a", "10", "bad\x00tail"), kc("PEXPIREAT", "a", "10", ""),
			kc("EXPIRE", "nosuch", "10", "nx", "xx"), kc("TTL", "a"),
		}},
		{"number errors", [][]string{
			kc("SET", "a", "1"),
			kc("EXPIRE", "a", "abc"), kc("EXPIRE", "a", "1.5"), kc("EXPIRE", "a", " 1"), kc("EXPIRE", "a", ""),
			kc("EXPIRE", "a", "+1"), kc("EXPIRE", "a", "01"), kc("EXPIRE", "a", "99999999999999999999"),
			kc("EXPIRE", "a", "9223372036854775"), kc("EXPIRE", "a", "9223372036854776"),
			kc("EXPIRE", "a", "-9223372036854776"), kc("EXPIRE", "a", "-9223372036854775808"),
			kc("PEXPIRE", "a", "9223372036854775807"), kc("PEXPIRE", "a", "9223372036854775000"),
			kc("EXPIREAT", "a", "9223372036854776"), kc("EXPIREAT", "a", "-9223372036854776"),
			kc("PEXPIREAT", "a", "9223372036854775808"), kc("TTL", "a"), kc("GET", "a"),
		}},
		{"arity", [][]string{
			kc("EXPIRE", "a"), kc("PEXPIRE"), kc("EXPIREAT", "a"), kc("PEXPIREAT", "a"), kc("TTL"), kc("TTL", "a", "b"),
			kc("PTTL"), kc("EXPIRETIME"), kc("PEXPIRETIME", "a", "b"), kc("PERSIST"), kc("PERSIST", "a", "b"),
		}},
		{"persist", [][]string{
			kc("SET", "a", "1"), kc("PERSIST", "a"), kc("EXPIREAT", "a", farSec), kc("PERSIST", "a"), kc("TTL", "a"),
			kc("PERSIST", "a"), kc("EXPIRETIME", "a"), kc("GET", "a"),
		}},
		{"set clears the ttl", [][]string{
			kc("SET", "a", "1"), kc("EXPIREAT", "a", farSec), kc("SET", "a", "2"), kc("TTL", "a"),
		}},
	})
}

// ksParseScan splits a raw SCAN reply into its cursor and keys.
func ksParseScan(raw string) (cursor string, keys []string, err error) {
	br := bufio.NewReader(strings.NewReader(raw))
	line := func() (string, error) {
		l, err := br.ReadString('\n')
		return strings.TrimSuffix(l, "\r\n"), err
	}
	bulk := func() (string, error) {
		h, err := line()
		if err != nil || !strings.HasPrefix(h, "$") {
			return "", fmt.Errorf("bad bulk header %q", h)
		}
		n, err := strconv.Atoi(h[1:])
		if err != nil {
			return "", err
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(br, b); err != nil {
			return "", err
		}
		return string(b[:n]), nil
	}
	if h, err := line(); err != nil || h != "*2" {
		return "", nil, fmt.Errorf("not a SCAN reply: %q", raw)
	}
	if cursor, err = bulk(); err != nil {
		return "", nil, err
	}
	h, err := line()
	if err != nil || !strings.HasPrefix(h, "*") {
		return "", nil, fmt.Errorf("bad key array in %q", raw)
	}
	n, err := strconv.Atoi(h[1:])
	if err != nil {
		return "", nil, err
	}
	for range n {
		k, err := bulk()
		if err != nil {
			return "", nil, err
		}
		keys = append(keys, k)
	}
	return cursor, keys, nil
}

// ksScanAll runs a full SCAN iteration with opts on r and returns the set of
// keys gathered and the number of calls.
func ksScanAll(t testing.TB, r *rawConn, opts ...string) (map[string]int, int) {
	t.Helper()
	seen := map[string]int{}
	cursor := "0"
	for calls := 1; ; calls++ {
		raw := r.do(append([]string{"SCAN", cursor}, opts...)...)
		next, keys, err := ksParseScan(raw)
		if err != nil {
			t.Fatalf("SCAN %s %v: %v", cursor, opts, err)
		}
		for _, k := range keys {
			seen[k]++
		}
		if next == "0" {
			return seen, calls
		}
		if calls > 100000 {
			t.Fatalf("SCAN %v did not end after %d calls", opts, calls)
		}
		cursor = next
	}
}

func TestScan_Diff(t *testing.T) {
	ksForEachDiffProto(t, func(t *testing.T, d *differ) {
		t.Run("empty database", func(t *testing.T) {
			d := ksDiffView(t, d)
			d.do("FLUSHALL")
			for _, c := range []string{"0", "", "+0", "-0", "00"} {
				d.do("SCAN", c)
				d.do("SCAN", c, "MATCH", "*", "COUNT", "100", "TYPE", "string")
			}
		})
		t.Run("errors", func(t *testing.T) {
			d := ksDiffView(t, d)
			d.do("SET", "a", "1")
			for _, args := range [][]string{
				{"SCAN"}, {"SCAN", "abc"}, {"SCAN", "1.5"}, {"SCAN", " 0"}, {"SCAN", "0 "}, {"SCAN", "\t0"},
				{"SCAN", "0x10"}, {"SCAN", "+"}, {"SCAN", "-"}, {"SCAN", "18446744073709551616"},
				{"SCAN", "-18446744073709551616"}, {"SCAN", "99999999999999999999999"},
				{"SCAN", "0", "COUNT", "0"}, {"SCAN", "0", "COUNT", "-1"}, {"SCAN", "0", "COUNT", "abc"},
				{"SCAN", "0", "COUNT", "1.0"}, {"SCAN", "0", "COUNT", "9223372036854775808"},
				{"SCAN", "0", "COUNT"}, {"SCAN", "0", "MATCH"}, {"SCAN", "0", "TYPE"}, {"SCAN", "0", "foo"},
				{"SCAN", "0", "foo", "bar"}, {"SCAN", "abc", "COUNT", "0"}, {"SCAN", "0", "COUNT", "5", "COUNT", "0"},
				{"SCAN", "0", "COUNT", "0", "foo"}, {"SCAN", "0", "foo", "COUNT", "0"}, {"SCAN", "0", "MATCH", "*", "TYPE"},
				{"SCAN", "0", "count", "x", "match"},
			} {
				d.do(args...)
			}
		})
		t.Run("gathered sets", func(t *testing.T) {
			d := ksDiffView(t, d)
			d.do("FLUSHALL")
			for _, k := range ksFixture {
				d.do("SET", k, "v")
			}
			for i := range 300 {
				d.do("SET", fmt.Sprintf("user:%d:name", i), "v")
				d.do("SET", fmt.Sprintf("item:%03d", i), "v")
			}
			d.do("EXPIREAT", "item:007", farSec)
			runs := 0
			for _, opts := range [][]string{
				nil, {"COUNT", "1"}, {"COUNT", "3"}, {"COUNT", "1000"}, {"COUNT", "9223372036854775807"},
				{"MATCH", "*"}, {"MATCH", "user:1*"}, {"MATCH", "user:1*", "COUNT", "2"}, {"MATCH", "*1*"},
				{"MATCH", "item:0?7"}, {"MATCH", "h[ae]llo"}, {"MATCH", "nomatch*"}, {"MATCH", ""},
				{"MATCH", "\\*"}, {"MATCH", "[a"}, {"MATCH", "a\\"}, {"match", "USER:*"},
				{"TYPE", "string"}, {"TYPE", "STRING"}, {"type", "zset"}, {"TYPE", "none"}, {"TYPE", "foo"},
				{"MATCH", "item:*", "TYPE", "string", "COUNT", "7"}, {"TYPE", "string", "MATCH", "*:*"},
				{"MATCH", "a*", "MATCH", "user:2*"}, {"COUNT", "1", "COUNT", "50"},
			} {
				want, _ := ksScanAll(t, d.redis, opts...)
				got, _ := ksScanAll(t, d.cairn, opts...)
				if !maps.Equal(keySet(got), keySet(want)) {
					t.Errorf("SCAN %q: cairn gathered %d keys, redis %d\n only cairn: %v\n only redis: %v",
						opts, len(got), len(want), keysMinus(got, want), keysMinus(want, got))
				}
				for k, n := range got {
					if n != 1 {
						t.Errorf("SCAN %q returned %q %d times", opts, k, n)
					}
				}
				runs++
			}
			if runs != 26 {
				t.Fatalf("ran %d option sets", runs)
			}
		})
	})
}

func keySet(m map[string]int) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func keysMinus(a, b map[string]int) []string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
