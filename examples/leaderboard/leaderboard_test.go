package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"cairn/commands"

	"github.com/redis/go-redis/v9"
)

// startNode starts an in-process Cairn node on a free port, closed (and
// checked for recovered handler panics) at the end of the test.
func startNode(t *testing.T) *commands.Node {
	t.Helper()
	cfg := commands.NewConfig()
	for _, kv := range [][2]string{{"port", "0"}, {"dir", t.TempDir()}} {
		if err := cfg.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	n, err := commands.StartNode(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
		if p := n.Cmd.Panics(); p != 0 {
			t.Errorf("%d handler panic(s) recovered", p)
		}
	})
	return n
}

// eachProto runs fn against a fresh node with a go-redis client speaking
// RESP2 and RESP3 (scores and ranks are parsed differently in each).
func eachProto(t *testing.T, fn func(t *testing.T, ctx context.Context, rdb *redis.Client)) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			n := startNode(t)
			rdb := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: proto,
				DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
			t.Cleanup(func() { rdb.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			t.Cleanup(cancel)
			fn(t, ctx, rdb)
		})
	}
}

func check(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantEntries(t *testing.T, what string, got []Entry, want ...Entry) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func TestBoard_SubmitBest(t *testing.T) {
	eachProto(t, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		b := NewBoard(rdb, "best")
		for _, s := range []struct {
			player string
			score  float64
			better bool
		}{
			{"alice", 100, true},  // first score
			{"alice", 80, false},  // lower: ignored
			{"alice", 100, false}, // equal: ignored
			{"alice", 120.5, true},
			{"bob", -3, true},
			{"bob", -4, false},
		} {
			got, err := b.SubmitBest(ctx, s.player, s.score)
			check(t, "SubmitBest", err)
			if got != s.better {
				t.Errorf("SubmitBest(%s, %g) = %v, want %v", s.player, s.score, got, s.better)
			}
		}
		top, err := b.Top(ctx, 10)
		check(t, "Top", err)
		wantEntries(t, "Top", top, Entry{1, "alice", 120.5}, Entry{2, "bob", -3})
	})
}

func TestBoard_Submit(t *testing.T) {
	eachProto(t, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		b := NewBoard(rdb, "points")
		for i, want := range []float64{1.5, 3.75, 2.75} {
			got, err := b.Submit(ctx, "alice", []float64{1.5, 2.25, -1}[i])
			check(t, "Submit", err)
			if got != want {
				t.Errorf("Submit #%d total = %g, want %g", i, got, want)
			}
		}
		me, err := b.Rank(ctx, "alice")
		check(t, "Rank", err)
		if me != (Entry{1, "alice", 2.75}) {
			t.Errorf("Rank = %v", me)
		}
	})
}

// tiedBoard is d 20, then c, b and a tied at 10, then e 5. Equal scores are
// ordered by member bytes, reversed for the descending board.
func tiedBoard(t *testing.T, ctx context.Context, rdb redis.Cmdable) *Board {
	b := NewBoard(rdb, "tied")
	for _, m := range []string{"a", "b", "c"} {
		_, err := b.SubmitBest(ctx, m, 10)
		check(t, "SubmitBest", err)
	}
	_, err := b.Submit(ctx, "d", 20)
	check(t, "Submit", err)
	_, err = b.Submit(ctx, "e", 5)
	check(t, "Submit", err)
	return b
}

func TestBoard_TopRankAround(t *testing.T) {
	eachProto(t, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		b := tiedBoard(t, ctx, rdb)
		all := []Entry{{1, "d", 20}, {2, "c", 10}, {3, "b", 10}, {4, "a", 10}, {5, "e", 5}}

		for _, n := range []int64{0, -1, 1, 3, 5, 100} {
			top, err := b.Top(ctx, n)
			check(t, "Top", err)
			wantEntries(t, fmt.Sprintf("Top(%d)", n), top, all[:min(max(n, 0), 5)]...)
		}
		for _, e := range all {
			got, err := b.Rank(ctx, e.Member)
			check(t, "Rank", err)
			if got != e {
				t.Errorf("Rank(%s) = %v, want %v", e.Member, got, e)
			}
		}
		if _, err := b.Rank(ctx, "zed"); !errors.Is(err, ErrNotRanked) {
			t.Errorf("Rank(zed) error = %v, want ErrNotRanked", err)
		}

		for _, c := range []struct {
			player   string
			k        int64
			from, to int // all[from:to]
		}{
			{"b", 1, 1, 4},
			{"b", 0, 2, 3},
			{"d", 2, 0, 3}, // clipped at the top
			{"e", 1, 3, 5}, // and at the bottom
			{"c", 10, 0, 5},
		} {
			got, err := b.Around(ctx, c.player, c.k)
			check(t, "Around", err)
			wantEntries(t, fmt.Sprintf("Around(%s, %d)", c.player, c.k), got, all[c.from:c.to]...)
		}
		if _, err := b.Around(ctx, "zed", 1); !errors.Is(err, ErrNotRanked) {
			t.Errorf("Around(zed) error = %v, want ErrNotRanked", err)
		}

		empty := NewBoard(rdb, "nobody")
		top, err := empty.Top(ctx, 10)
		check(t, "Top of empty board", err)
		wantEntries(t, "Top of empty board", top)
	})
}

func TestBoard_Season(t *testing.T) {
	eachProto(t, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		b := tiedBoard(t, ctx, rdb)
		ttl, err := b.TTL(ctx)
		check(t, "TTL", err)
		if ttl != -1 {
			t.Errorf("TTL without expiry = %v, want -1ns (Redis's -1)", ttl)
		}

		check(t, "ExpireAt", b.ExpireAt(ctx, time.Now().Add(time.Hour)))
		ttl, err = b.TTL(ctx)
		check(t, "TTL", err)
		if ttl < time.Hour-5*time.Second || ttl > time.Hour {
			t.Errorf("TTL after ExpireAt(now+1h) = %v", ttl)
		}
		if err := NewBoard(rdb, "nobody").ExpireAt(ctx, time.Now().Add(time.Hour)); err == nil {
			t.Error("ExpireAt on a missing board: no error")
		}

		// A season that ends in 300ms (PEXPIREAT keeps the milliseconds).
		check(t, "ExpireAt", b.ExpireAt(ctx, time.Now().Add(300*time.Millisecond)))
		pttl, err := rdb.PTTL(ctx, b.Key).Result()
		check(t, "PTTL", err)
		if pttl == -1 || pttl > 300*time.Millisecond { // -2: already gone, on a slow machine
			t.Errorf("PTTL after ExpireAt(now+300ms) = %v, want at most 300ms", pttl)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, err := rdb.Exists(ctx, b.Key).Result()
			check(t, "EXISTS", err)
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("season board still exists 5s after a 300ms expiry")
			}
			time.Sleep(20 * time.Millisecond)
		}
		top, err := b.Top(ctx, 10)
		check(t, "Top", err)
		wantEntries(t, "Top after expiry", top)
		if _, err := b.Rank(ctx, "a"); !errors.Is(err, ErrNotRanked) {
			t.Errorf("Rank after expiry error = %v, want ErrNotRanked", err)
		}
		if ttl, err = b.TTL(ctx); err != nil || ttl != -2 {
			t.Errorf("TTL after expiry = %v, %v; want -2ns (Redis's -2)", ttl, err)
		}
		if err := b.ExpireAt(ctx, time.Now().Add(time.Hour)); err == nil {
			t.Error("ExpireAt on an expired board: no error")
		}
	})
}

var friday = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func TestSales_RecordTop(t *testing.T) {
	eachProto(t, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		s := NewSales(rdb, "sales")
		if got := s.Day("books", friday.Add(23*time.Hour)).Key; got != "sales:{books}:2026-11-27" {
			t.Errorf("day key = %q", got)
		}
		if got := s.Week("books", friday).Key; got != "sales:{books}:week:2026-11-27" {
			t.Errorf("week key = %q", got)
		}

		// 40 products: p00 sells 0+1 units ... p39 sells 39+1, and t1, t2
		// sell as many as p11 (12 units), which puts a tie across the cut.
		for i := range 40 {
			// Two purchases each, at different times of the day.
			n, err := s.Record(ctx, "books", fmt.Sprintf("p%02d", i), int64(i), friday.Add(9*time.Hour))
			check(t, "Record", err)
			if n != float64(i) {
				t.Fatalf("Record first purchase of p%02d = %g, want %d", i, n, i)
			}
			n, err = s.Record(ctx, "books", fmt.Sprintf("p%02d", i), 1, friday.Add(18*time.Hour))
			check(t, "Record", err)
			if n != float64(i+1) {
				t.Fatalf("Record second purchase of p%02d = %g, want %d", i, n, i+1)
			}
		}
		for _, p := range []string{"t1", "t2"} {
			_, err := s.Record(ctx, "books", p, 12, friday)
			check(t, "Record", err)
		}
		// Other days and categories do not count.
		_, err := s.Record(ctx, "books", "p00", 1000, friday.AddDate(0, 0, -1))
		check(t, "Record", err)
		_, err = s.Record(ctx, "games", "p01", 1000, friday)
		check(t, "Record", err)

		var want []Entry
		for i := 39; len(want) < TopSellers; i-- {
			if i == 11 { // 12 units: "t2", "t1", "p11" in reverse byte order
				want = append(want, Entry{0, "t2", 12}, Entry{0, "t1", 12})
			}
			want = append(want, Entry{0, fmt.Sprintf("p%02d", i), float64(i + 1)})
		}
		want = want[:TopSellers]
		for i := range want {
			want[i].Rank = int64(i + 1)
		}
		top, err := s.Top(ctx, "books", friday)
		check(t, "Top", err)
		if len(top) != TopSellers {
			t.Fatalf("Top returned %d entries, want %d", len(top), TopSellers)
		}
		wantEntries(t, "Top", top, want...)
		if top[28].Member != "t2" || top[29].Member != "t1" {
			t.Errorf("tied cut: got %v, %v; want t2, t1 (p11 cut)", top[28], top[29])
		}

		games, err := s.Top(ctx, "games", friday)
		check(t, "Top games", err)
		wantEntries(t, "Top games", games, Entry{1, "p01", 1000})

		ttl, err := s.Day("books", friday).TTL(ctx)
		check(t, "TTL", err)
		if ttl < DayRetention-5*time.Second || ttl > DayRetention {
			t.Errorf("daily board TTL = %v, want about %v", ttl, DayRetention)
		}
	})
}

func TestSales_MergeWeek(t *testing.T) {
	eachProto(t, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		s := NewSales(rdb, "sales")
		record := func(daysBefore int, category, product string, qty int64) {
			t.Helper()
			_, err := s.Record(ctx, category, product, qty, friday.AddDate(0, 0, -daysBefore).Add(12*time.Hour))
			check(t, "Record", err)
		}
		record(0, "books", "dune", 1)
		record(0, "books", "emma", 3)
		record(1, "books", "dune", 4)
		record(3, "books", "ulysses", 8)
		record(6, "books", "emma", 16) // the week's first day
		record(6, "books", "dune", 1)
		record(7, "books", "dune", 100)  // the week before
		record(-1, "books", "emma", 100) // the day after
		record(0, "games", "chess", 100) // another category

		week, err := s.MergeWeek(ctx, "books", friday, nil)
		check(t, "MergeWeek", err)
		if week.Key != "sales:{books}:week:2026-11-27" {
			t.Errorf("weekly key = %q", week.Key)
		}
		top, err := week.Top(ctx, TopSellers)
		check(t, "Top", err)
		wantEntries(t, "weekly totals", top, Entry{1, "emma", 19}, Entry{2, "ulysses", 8}, Entry{3, "dune", 6})
		ttl, err := week.TTL(ctx)
		check(t, "TTL", err)
		if ttl < WeekRetention-5*time.Second || ttl > WeekRetention {
			t.Errorf("weekly board TTL = %v, want about %v", ttl, WeekRetention)
		}

		// Weights that are exact in binary, so the sums are exact whatever
		// order the server adds them in.
		week, err = s.MergeWeek(ctx, "books", friday, []float64{1, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125})
		check(t, "MergeWeek weighted", err)
		top, err = week.Top(ctx, TopSellers)
		check(t, "Top", err)
		// emma 3 + 16/8, ulysses 8/4, dune 1 + 4/2 + 1/8.
		wantEntries(t, "weighted weekly", top, Entry{1, "emma", 5}, Entry{2, "dune", 3.125}, Entry{3, "ulysses", 2})
		if ttl, err = week.TTL(ctx); err != nil || ttl < WeekRetention-5*time.Second {
			t.Errorf("weekly board TTL after a second merge = %v, %v", ttl, err)
		}

		// A week without sales leaves no weekly board.
		empty, err := s.MergeWeek(ctx, "books", friday.AddDate(0, 0, 30), nil)
		check(t, "MergeWeek of an empty week", err)
		if n, err := rdb.Exists(ctx, empty.Key).Result(); err != nil || n != 0 {
			t.Errorf("EXISTS empty week = %d, %v", n, err)
		}

		if _, err := s.MergeWeek(ctx, "books", friday, []float64{1, 0.9, 0.8}); err == nil {
			t.Error("MergeWeek with 3 weights: no error")
		}
	})
}

func TestRun(t *testing.T) {
	n := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var first string
	for i := range 2 { // the demo resets its keys, so a second run prints the same
		var out bytes.Buffer
		if err := run(ctx, n.Addr(), &out); err != nil {
			t.Fatalf("run #%d: %v\n%s", i+1, err, out.String())
		}
		if i == 0 {
			first = out.String()
			t.Logf("demo output:\n%s", first)
			continue
		}
		if got := out.String(); withoutTTL(got) != withoutTTL(first) {
			t.Errorf("second run differs:\n%s", got)
		}
	}
	want := []string{
		"alice scores 4200: new best",
		"alice scores 3000: ignored, below best",
		"alice scores 4600: new best",
		"  #1 carol    5000",
		"  #2 alice    4600",
		"  #3 grace    3900",
		"  #4 dave     3100",
		"  #5 bob      3100",
		"dave is #4 with 3100; around dave:",
		"  #1 bob      7",
		"  #2 alice    4",
		"  #3 carol    3",
		"demo:sales:{books}:2026-11-27:",
		"  #1 ulysses  5",
		"  #2 emma     3",
		"  #3 dune     1",
		"demo:sales:{books}:week:2026-11-27 (ZUNIONSTORE of 7 days, expires in 336h0m0s):",
		"  #1 dune     11",
		"  #2 emma     8",
		"  #3 ulysses  7",
		"with decay (WEIGHTS 1 0.9 ... 0.4):",
		"  #1 ulysses  6.8",
		"  #2 emma     6.6",
		"  #3 dune     5.7",
	}
	lines := strings.Split(first, "\n")
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("demo output lacks line %q", w)
		}
	}
	if c := strings.Count(first, "\n  #"); c != 5+3+3+3+3+3 {
		t.Errorf("demo printed %d board rows, want 20", c)
	}
	if !strings.Contains(first, "demo:game:season:") || !strings.Contains(first, " ends ") {
		t.Error("demo output lacks the season's end")
	}

	// An unreachable server is an error, not a hang.
	ctx2, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	defer cancel2()
	if err := run(ctx2, "127.0.0.1:1", io.Discard); err == nil {
		t.Error("run against a closed port: no error")
	}
}

// withoutTTL drops the season line, whose time left changes between runs.
func withoutTTL(out string) string {
	lines := strings.Split(out, "\n")
	return strings.Join(slices.DeleteFunc(lines, func(l string) bool { return strings.Contains(l, " ends ") }), "\n")
}
