package commands

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"cairn/store"

	"github.com/redis/go-redis/v9"
)

// ksScanGo runs a full SCAN iteration through go-redis and returns every
// page.
func ksScanGo(t *testing.T, c *redis.Client, match string, count int64, typ string) [][]string {
	t.Helper()
	var pages [][]string
	var cursor uint64
	for {
		keys, next, err := c.ScanType(ctx, cursor, match, count, typ).Result()
		if err != nil {
			t.Fatalf("SCAN %d: %v", cursor, err)
		}
		pages = append(pages, keys)
		if next == 0 {
			return pages
		}
		if next >= 1<<53 {
			t.Errorf("cursor %d is not below 2^53", next)
		}
		if len(pages) > 100000 {
			t.Fatal("SCAN does not end")
		}
		cursor = next
	}
}

func ksFlat(pages [][]string) []string {
	var out []string
	for _, p := range pages {
		out = append(out, p...)
	}
	return out
}

func TestScan_FullIteration(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		var all []string
		for i := range 250 {
			all = append(all, fmt.Sprintf("key:%03d", i))
		}
		ksSet(t, c, all...)
		t.Run("default count", func(t *testing.T) {
			pages := ksScanGo(t, c, "", 0, "")
			if got := ksFlat(pages); !slices.Equal(got, all) {
				t.Errorf("SCAN returned %d keys, want all %d in key order, once each", len(got), len(all))
			}
			// 250 keys, 10 per page: 25 pages, the last one ending with cursor 0.
			if len(pages) != 25 {
				t.Errorf("%d pages, want 25", len(pages))
			}
			for i, p := range pages {
				if len(p) != 10 {
					t.Errorf("page %d has %d keys, want 10", i, len(p))
				}
			}
		})
		t.Run("count", func(t *testing.T) {
			for _, count := range []int64{1, 7, 249, 250, 251, 1 << 40} {
				pages := ksScanGo(t, c, "", count, "")
				if got := ksFlat(pages); !slices.Equal(got, all) {
					t.Errorf("COUNT %d: %d keys", count, len(got))
				}
				for i, p := range pages {
					if int64(len(p)) > count || (i < len(pages)-1 && int64(len(p)) != count) {
						t.Errorf("COUNT %d: page %d has %d keys", count, i, len(p))
					}
				}
			}
		})
		t.Run("match", func(t *testing.T) {
			got := ksFlat(ksScanGo(t, c, "key:1*", 5, ""))
			var want []string
			for _, k := range all {
				if strings.HasPrefix(k, "key:1") {
					want = append(want, k)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("MATCH key:1* = %d keys, want %d", len(got), len(want))
			}
			if got := ksFlat(ksScanGo(t, c, "*7", 100, "")); len(got) != 25 {
				t.Errorf("MATCH *7 = %d keys, want 25", len(got))
			}
			if got := ksFlat(ksScanGo(t, c, "nomatch*", 0, "")); len(got) != 0 {
				t.Errorf("MATCH nomatch* = %q", got)
			}
		})
		t.Run("type", func(t *testing.T) {
			if got := ksFlat(ksScanGo(t, c, "", 100, "string")); len(got) != len(all) {
				t.Errorf("TYPE string = %d keys", len(got))
			}
			if got := ksFlat(ksScanGo(t, c, "", 100, "STRING")); len(got) != len(all) {
				t.Errorf("TYPE STRING = %d keys", len(got))
			}
			for _, typ := range []string{"zset", "hash", "none", "nosuchtype"} {
				if got := ksFlat(ksScanGo(t, c, "", 100, typ)); len(got) != 0 {
					t.Errorf("TYPE %s = %q", typ, got)
				}
			}
		})
		t.Run("errors", func(t *testing.T) {
			for _, tc := range []struct {
				args []any
				err  string
			}{
				{[]any{"scan", "abc"}, errInvalidCursor},
				{[]any{"scan", "18446744073709551616"}, errInvalidCursor},
				{[]any{"scan", "12345"}, errInvalidCursor}, // never issued
				{[]any{"scan", "0", "count", "0"}, errSyntax},
				{[]any{"scan", "0", "count", "x"}, errNotInt},
				{[]any{"scan", "0", "match"}, errSyntax},
				{[]any{"scan", "0", "bogus", "x"}, errSyntax},
			} {
				ksErr(t, fmt.Sprint(tc.args...), c.Do(ctx, tc.args...).Err(), tc.err)
			}
		})
	})
}

// TestScan_CursorIsPerDatabase: a cursor resumes only in the database that
// issued it.
func TestScan_CursorIsPerDatabase(t *testing.T) {
	n := testNode(t)
	r := dialRaw(t, n.Addr())
	for i := range 5 {
		r.do("SET", fmt.Sprint("k", i), "v")
	}
	cursor, keys, err := ksParseScan(r.do("SCAN", "0", "COUNT", "2"))
	if err != nil || cursor == "0" || len(keys) != 2 {
		t.Fatalf("SCAN 0 COUNT 2 = %q %q %v", cursor, keys, err)
	}
	r.do("SELECT", "1")
	if got := r.do("SCAN", cursor); got != "-"+errInvalidCursor+"\r\n" {
		t.Errorf("db 0's cursor in db 1: %q", got)
	}
	r.do("SELECT", "0")
	next, keys, err := ksParseScan(r.do("SCAN", cursor, "COUNT", "2"))
	if err != nil || next == "0" || !slices.Equal(keys, []string{"k2", "k3"}) {
		t.Errorf("resume = %q %q %v", next, keys, err)
	}
	// A cursor can be used again, and by another connection.
	r2 := dialRaw(t, n.Addr())
	if _, again, _ := ksParseScan(r2.do("SCAN", cursor, "COUNT", "2")); !slices.Equal(again, keys) {
		t.Errorf("reusing a cursor on another connection: %q, want %q", again, keys)
	}
}

// TestScan_BoundedWork: with a pattern that matches rarely, one call
// examines at most 10*COUNT keys and hands back a cursor, so a call's cost
// is bounded; the iteration still finds every match.
func TestScan_BoundedWork(t *testing.T) {
	n := testNode(t)
	c := newClient(t, n.Addr(), 3)
	pipe := c.Pipeline()
	for i := range 1000 {
		pipe.Set(ctx, fmt.Sprintf("k%04d", i), "v", 0)
	}
	_, err := pipe.Exec(ctx)
	ksOK(t, "pipeline", err)
	pages := ksScanGo(t, c, "*99*", 5, "") // k0099, k0199 ... k0990-k0999: 19 keys
	got := ksFlat(pages)
	if len(got) != 19 {
		t.Errorf("MATCH *99* found %d keys, want 19: %q", len(got), got)
	}
	// 1000 keys at most 50 examined per call: at least 20 calls.
	if len(pages) < 20 {
		t.Errorf("%d calls: a call examined more than 10*COUNT keys", len(pages))
	}
	empty := 0
	for _, p := range pages {
		if len(p) == 0 {
			empty++
		}
	}
	if empty == 0 {
		t.Error("no call stopped at its work bound with an empty page")
	}
}

// TestScan_WalkSeeksPrefix checks the work done by a walk: a MATCH with a
// literal prefix (and KEYS) examines only the keys in the prefix's range.
func TestScan_WalkSeeksPrefix(t *testing.T) {
	n := testNode(t)
	_, err := n.Store.Update(0, func(tx *store.Tx) {
		for i := range 5000 {
			tx.SetString([]byte(fmt.Sprintf("user:%d", i)), []byte("v"), 0)
			tx.SetString([]byte(fmt.Sprintf("item:%d", i)), []byte("v"), 0)
		}
	})
	ksOK(t, "fill", err)
	ran := 0
	_, err = n.Store.Update(0, func(tx *store.Tx) {
		for _, tc := range []struct {
			pat         string
			matches     int
			maxExamined int64
		}{
			{"user:1*", 1111, 1111}, // 1, 10-19, 100-199, 1000-1999
			{"user:42?", 10, 111},   // the range is user:42, user:420-429, user:4200-4299
			{"user:4999", 1, 1},     // a literal: one key examined
			{"item:*", 5000, 5000},  // one prefix, not the other
			{"nosuch:*", 0, 0},      // an empty range
			{"*:4999", 2, 10000},    // no literal prefix: everything
			{"[ui]tem:1", 1, 10000}, // a class first: everything
			{"user\\:1", 1, 1},      // a literal (escaped): only the key itself
			{"user:1", 1, 1},
			{"user:\\*", 0, 0},
		} {
			pat := []byte(tc.pat)
			r := scanWalk(tx, scanQuery{pat: pat, usePattern: true, count: math.MaxInt64, budget: math.MaxInt64})
			if len(r.keys) != tc.matches || r.walked > tc.maxExamined || r.stopped {
				t.Errorf("walk %q: %d matches (want %d), %d examined (at most %d), stopped %v",
					tc.pat, len(r.keys), tc.matches, r.walked, tc.maxExamined, r.stopped)
			}
			ran++
		}
		// Paged: each page examines at most budget keys, resuming after the last.
		q := scanQuery{pat: []byte("user:1*"), usePattern: true, count: 100, budget: 1000}
		total := 0
		for {
			r := scanWalk(tx, q)
			total += len(r.keys)
			if len(r.keys) > 100 || r.walked > 1000 {
				t.Errorf("page: %d keys, %d examined", len(r.keys), r.walked)
			}
			if !r.stopped {
				break
			}
			q.after, q.resume = r.last, true
		}
		if total != 1111 {
			t.Errorf("paged walk found %d keys, want 1111", total)
		}
	})
	ksOK(t, "walk", err)
	if ran != 10 {
		t.Fatalf("ran %d cases", ran)
	}
}

// TestScan_ConcurrentChanges: keys present for the whole iteration are all
// returned, exactly once, while other clients add and delete keys both
// between the calls and concurrently with them.
func TestScan_ConcurrentChanges(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		stable := map[string]bool{}
		pipe := c.Pipeline()
		for i := range 600 {
			k := fmt.Sprintf("s:%04d", i)
			stable[k] = true
			pipe.Set(ctx, k, "v", 0)
			pipe.Set(ctx, fmt.Sprintf("s:%04d:tmp", i), "v", 0) // deleted during the scan
		}
		_, err := pipe.Exec(ctx)
		ksOK(t, "fill", err)

		// A background writer adds and deletes keys all around the stable ones.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var writes atomic.Int64
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("s:%04d:new%d", (i*7919)%600, i)
				if c.Set(ctx, k, "v", 0).Err() != nil {
					return
				}
				if i%2 == 0 {
					c.Del(ctx, k)
				}
				c.Del(ctx, fmt.Sprintf("s:%04d:tmp", (i*104729)%600))
				writes.Add(1)
			}
		}()
		seen := map[string]int{}
		var cursor uint64
		calls := 0
		for {
			keys, next, err := c.Scan(ctx, cursor, "", 13).Result()
			ksOK(t, "SCAN", err)
			calls++
			for _, k := range keys {
				seen[k]++
			}
			// Between calls: add keys behind and ahead of the cursor, delete some.
			c.Set(ctx, fmt.Sprintf("a:between%d", calls), "v", 0)
			c.Set(ctx, fmt.Sprintf("z:between%d", calls), "v", 0)
			c.Del(ctx, fmt.Sprintf("z:between%d", calls-1))
			if next == 0 {
				break
			}
			cursor = next
		}
		close(stop)
		wg.Wait()
		if writes.Load() == 0 {
			t.Fatal("the background writer made no change")
		}
		for k := range stable {
			if seen[k] != 1 {
				t.Errorf("stable key %s returned %d times", k, seen[k])
			}
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("%s returned %d times", k, n)
			}
		}
		t.Logf("%d calls, %d keys seen, %d background changes", calls, len(seen), writes.Load())
	})
}

func TestScan_ParseCursor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"", 0, true}, {"+0", 0, true}, {"-0", 0, true}, {"007", 7, true},
		{"18446744073709551615", math.MaxUint64, true}, {"-1", math.MaxUint64, true},
		{"-18446744073709551615", 1, true}, {"5\x00junk", 5, true}, {"\x00", 0, true},
		{"18446744073709551616", 0, false}, {"-18446744073709551616", 0, false},
		{" 1", 0, false}, {"\t1", 0, false}, {"1 ", 0, false}, {"+", 0, false}, {"-", 0, false},
		{"0x1", 0, false}, {"1.0", 0, false}, {"abc", 0, false}, {"+-1", 0, false},
	} {
		got, ok := parseScanCursor([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseScanCursor(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestScan_CursorTable(t *testing.T) {
	var ct cursorTable
	ct.init()
	ct.order = make([]uint64, 3) // a tiny ring
	ids := make([]uint64, 5)
	for i := range ids {
		ids[i] = ct.issue(cursorPos{db: i % 2, after: strconv.Itoa(i)})
		if ids[i] == 0 || ids[i] >= 1<<53 {
			t.Errorf("cursor %d out of range", ids[i])
		}
	}
	for i, id := range ids {
		p, ok := ct.lookup(id, i%2)
		if live := i >= 2; ok != live || (ok && p.after != strconv.Itoa(i)) {
			t.Errorf("cursor %d: %+v, %v; want live %v", i, p, ok, live)
		}
	}
	if _, ok := ct.lookup(ids[4], 1); ok {
		t.Error("a db 0 cursor resolved in db 1")
	}
	if len(ct.pos) != 3 {
		t.Errorf("the table holds %d cursors, want 3", len(ct.pos))
	}
}

func TestScan_GlobLiteral(t *testing.T) {
	for _, tc := range []struct {
		pat  string
		want bool
	}{
		{"", true}, {"abc", true}, {"a\\*b", true}, {"\\[x", true}, {"a\\\\", true},
		{"a*", false}, {"?", false}, {"[ab]", false}, {"a\\", false}, {"x\\**", false},
	} {
		if got := globLiteral([]byte(tc.pat)); got != tc.want {
			t.Errorf("globLiteral(%q) = %v, want %v", tc.pat, got, tc.want)
		}
		if tc.want && !globMatch([]byte(tc.pat), globPrefix([]byte(tc.pat)), false) {
			t.Errorf("literal %q does not match its prefix %q", tc.pat, globPrefix([]byte(tc.pat)))
		}
	}
}
