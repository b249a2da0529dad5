package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "address of the Cairn (or Redis) server")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "leaderboard:", err)
		os.Exit(1)
	}
}

// run is the demo: a game's boards, then a shop's top sellers. It works on
// keys under "demo:", which it deletes first, so it can be run again.
func run(ctx context.Context, addr string, w io.Writer) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	if err := game(ctx, rdb, w); err != nil {
		return err
	}
	return shop(ctx, rdb, w)
}

func game(ctx context.Context, rdb redis.Cmdable, w io.Writer) error {
	now := time.Now().UTC()
	best := NewBoard(rdb, "demo:game:best")
	season := NewBoard(rdb, "demo:game:season:"+now.Format("2006-01"))
	if err := rdb.Del(ctx, best.Key, season.Key).Err(); err != nil {
		return err
	}

	fmt.Fprintln(w, "== best scores (ZADD GT) ==")
	for _, s := range []Entry{{0, "alice", 4200}, {0, "bob", 3100}, {0, "carol", 5000}, {0, "dave", 3100},
		{0, "erin", 2500}, {0, "frank", 1200}, {0, "grace", 3900}, {0, "alice", 3000}, {0, "alice", 4600}} {
		better, err := best.SubmitBest(ctx, s.Member, s.Score)
		if err != nil {
			return err
		}
		if s.Member == "alice" && better {
			fmt.Fprintf(w, "alice scores %g: new best\n", s.Score)
		} else if s.Member == "alice" {
			fmt.Fprintf(w, "alice scores %g: ignored, below best\n", s.Score)
		}
	}
	if err := printTop(ctx, w, "top 5:", best, 5); err != nil {
		return err
	}
	me, err := best.Rank(ctx, "dave")
	if err != nil {
		return err
	}
	around, err := best.Around(ctx, "dave", 1)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "dave is #%d with %g; around dave:\n", me.Rank, me.Score)
	printEntries(w, around)

	fmt.Fprintln(w, "== season board (ZINCRBY, EXPIREAT) ==")
	for _, m := range []Entry{{0, "bob", 3}, {0, "alice", 1}, {0, "bob", 3}, {0, "carol", 3}, {0, "alice", 3}, {0, "bob", 1}} {
		if _, err := season.Submit(ctx, m.Member, m.Score); err != nil {
			return err
		}
	}
	end := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC) // the 1st of next month
	if err := season.ExpireAt(ctx, end); err != nil {
		return err
	}
	ttl, err := season.TTL(ctx)
	if err != nil {
		return err
	}
	return printTop(ctx, w, fmt.Sprintf("%s ends %s, in %s", season.Key, end.Format(time.DateOnly), ttl.Round(time.Minute)), season, 3)
}

func shop(ctx context.Context, rdb redis.Cmdable, w io.Writer) error {
	sales := NewSales(rdb, "demo:sales")
	friday := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	keys := []string{sales.Week("books", friday).Key}
	for i := range 7 {
		keys = append(keys, sales.Day("books", friday.AddDate(0, 0, -i)).Key)
	}
	if err := rdb.Del(ctx, keys...).Err(); err != nil { // one slot: one DEL works on a cluster too
		return err
	}

	// A week of book sales.
	for _, p := range []struct {
		daysBefore int
		product    string
		units      int64
	}{{6, "dune", 5}, {5, "dune", 4}, {4, "emma", 2}, {3, "dune", 1}, {2, "emma", 3},
		{1, "ulysses", 2}, {0, "ulysses", 4}, {0, "emma", 3}, {0, "dune", 1}, {0, "ulysses", 1}} {
		at := friday.AddDate(0, 0, -p.daysBefore).Add(10 * time.Hour)
		if _, err := sales.Record(ctx, "books", p.product, p.units, at); err != nil {
			return err
		}
	}
	top, err := sales.Top(ctx, "books", friday)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "== top sellers (ZINCRBY per purchase) ==\n%s:\n", sales.Day("books", friday).Key)
	printEntries(w, top)

	week, err := sales.MergeWeek(ctx, "books", friday, nil)
	if err != nil {
		return err
	}
	ttl, err := week.TTL(ctx)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("%s (ZUNIONSTORE of 7 days, expires in %s):", week.Key, ttl.Round(time.Minute))
	if err := printTop(ctx, w, title, week, TopSellers); err != nil {
		return err
	}
	if week, err = sales.MergeWeek(ctx, "books", friday, []float64{1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4}); err != nil {
		return err
	}
	return printTop(ctx, w, "with decay (WEIGHTS 1 0.9 ... 0.4):", week, TopSellers)
}

func printTop(ctx context.Context, w io.Writer, title string, b *Board, n int64) error {
	top, err := b.Top(ctx, n)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, title)
	printEntries(w, top)
	return nil
}

func printEntries(w io.Writer, es []Entry) {
	for _, e := range es {
		fmt.Fprintf(w, "  #%d %-8s %.4g\n", e.Rank, e.Member, e.Score)
	}
}
