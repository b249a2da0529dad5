// Command leaderboard shows how an application keeps leaderboards and
// top-sellers boards in Cairn (or any Redis 7) through go-redis v9. Every
// board is one sorted set: the members are players or products, the scores
// are points or units sold.
//
//   - Scores: Board.SubmitBest keeps only a player's best score
//     (ZADD key GT CH score player raises a score, never lowers it);
//     Board.Submit accumulates points (ZINCRBY key points player).
//   - Top N: Board.Top is ZREVRANGE key 0 N-1 WITHSCORES. Equal scores are
//     ordered by member bytes, reversed: "bob" comes before "alice".
//   - Standing: Board.Rank reads ZREVRANK (0-based, shown 1-based) and ZSCORE
//     in one MULTI; Board.Around shows the players around someone: ZREVRANK,
//     then ZREVRANGE rank-k rank+k WITHSCORES.
//   - Seasons: a season's board is a key of its own given an expiry with
//     EXPIREAT at the season's end (Board.ExpireAt uses PEXPIREAT, its
//     millisecond form), so that it deletes itself; Board.TTL shows the time
//     left.
//   - Top sellers: Sales.Record runs ZINCRBY on a category's daily board,
//     sales:{books}:2026-11-27, on every purchase. The braces are a hash tag:
//     Redis Cluster hashes only "books", so all of a category's boards share a
//     slot and one command can merge them. Sales.Top reads a day's top 30;
//     Sales.MergeWeek merges seven daily boards into a weekly board with
//     ZUNIONSTORE, optionally with WEIGHTS (1, 0.9, 0.8, ...) so that older
//     days count less, and gives the weekly board an expiry.
//
// Run it against a local server (make run):
//
//	go run ./examples/leaderboard -addr 127.0.0.1:6379
package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotRanked is returned for a player who is not on the board.
var ErrNotRanked = errors.New("not on the board")

// Entry is one row of a board. Rank is 1-based, for display.
type Entry struct {
	Rank   int64
	Member string
	Score  float64
}

// Board is one leaderboard: the sorted set at Key, highest score first.
type Board struct {
	rdb redis.Cmdable
	Key string
}

// NewBoard returns the board stored at key.
func NewBoard(rdb redis.Cmdable, key string) *Board { return &Board{rdb: rdb, Key: key} }

// SubmitBest records score if it beats the player's best (or is the
// player's first), with ZADD GT CH, and reports whether it did.
func (b *Board) SubmitBest(ctx context.Context, player string, score float64) (bool, error) {
	n, err := b.rdb.ZAddArgs(ctx, b.Key, redis.ZAddArgs{
		GT: true, Ch: true, Members: []redis.Z{{Score: score, Member: player}},
	}).Result()
	return n > 0, err
}

// Submit adds points to the player's total (ZINCRBY) and returns the total.
func (b *Board) Submit(ctx context.Context, player string, points float64) (float64, error) {
	return b.rdb.ZIncrBy(ctx, b.Key, points, player).Result()
}

// Top returns the n best players (ZREVRANGE key 0 n-1 WITHSCORES).
func (b *Board) Top(ctx context.Context, n int64) ([]Entry, error) {
	if n <= 0 {
		return nil, nil
	}
	return b.revRange(ctx, 0, n-1)
}

// Rank returns the player's rank and score, read together in one MULTI.
func (b *Board) Rank(ctx context.Context, player string) (Entry, error) {
	var rank *redis.IntCmd
	var score *redis.FloatCmd
	_, err := b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		rank = p.ZRevRank(ctx, b.Key, player)
		score = p.ZScore(ctx, b.Key, player)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return Entry{}, fmt.Errorf("%s: %w", player, ErrNotRanked)
	}
	if err != nil {
		return Entry{}, err
	}
	return Entry{Rank: rank.Val() + 1, Member: player, Score: score.Val()}, nil
}

// Around returns the player and up to k neighbours on either side: ZREVRANK,
// then ZREVRANGE rank-k rank+k WITHSCORES. The two reads are not atomic: a
// score landing in between shifts the window by a place, which a display
// can live with.
func (b *Board) Around(ctx context.Context, player string, k int64) ([]Entry, error) {
	r, err := b.rdb.ZRevRank(ctx, b.Key, player).Result()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%s: %w", player, ErrNotRanked)
	}
	if err != nil {
		return nil, err
	}
	return b.revRange(ctx, max(r-k, 0), r+k)
}

func (b *Board) revRange(ctx context.Context, start, stop int64) ([]Entry, error) {
	zs, err := b.rdb.ZRevRangeWithScores(ctx, b.Key, start, stop).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(zs))
	for i, z := range zs {
		out[i] = Entry{Rank: start + int64(i) + 1, Member: fmt.Sprint(z.Member), Score: z.Score}
	}
	return out, nil
}

// ExpireAt makes the board delete itself at end, the season's end
// (PEXPIREAT: EXPIREAT to the millisecond). The board must exist.
func (b *Board) ExpireAt(ctx context.Context, end time.Time) error {
	ok, err := b.rdb.PExpireAt(ctx, b.Key, end).Result()
	if err == nil && !ok {
		err = fmt.Errorf("%s: no such board", b.Key)
	}
	return err
}

// TTL is the board's time left (TTL, in seconds). As in Redis it is negative
// when the board has no expiry (-1) or does not exist (-2).
func (b *Board) TTL(ctx context.Context) (time.Duration, error) {
	return b.rdb.TTL(ctx, b.Key).Result()
}

const (
	// TopSellers is the length of a category's top-sellers board.
	TopSellers = 30
	// DayRetention keeps a daily board long enough to be merged into the
	// weekly board of each of the seven weeks it belongs to.
	DayRetention = 8 * 24 * time.Hour
	// WeekRetention is the weekly board's expiry, set at each merge.
	WeekRetention = 14 * 24 * time.Hour
)

// Sales keeps top-sellers boards, one per category and day, under Prefix.
type Sales struct {
	rdb    redis.Cmdable
	Prefix string
}

// NewSales returns the boards under prefix ("sales").
func NewSales(rdb redis.Cmdable, prefix string) *Sales { return &Sales{rdb: rdb, Prefix: prefix} }

// Day is a category's board for one day: sales:{books}:2026-11-27. The day
// is the date in day's location (use UTC times for UTC days).
func (s *Sales) Day(category string, day time.Time) *Board {
	return NewBoard(s.rdb, fmt.Sprintf("%s:{%s}:%s", s.Prefix, category, day.Format(time.DateOnly)))
}

// Week is a category's board for the seven days ending on lastDay:
// sales:{books}:week:2026-11-27. It shares the daily boards' hash tag.
func (s *Sales) Week(category string, lastDay time.Time) *Board {
	return NewBoard(s.rdb, fmt.Sprintf("%s:{%s}:week:%s", s.Prefix, category, lastDay.Format(time.DateOnly)))
}

// Record counts qty units of product sold at time at: ZINCRBY on the day's
// board, and EXPIRE so that old daily boards go away by themselves, in one
// MULTI. It returns the product's units sold that day.
func (s *Sales) Record(ctx context.Context, category, product string, qty int64, at time.Time) (float64, error) {
	day := s.Day(category, at)
	var incr *redis.FloatCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.ZIncrBy(ctx, day.Key, float64(qty), product)
		p.Expire(ctx, day.Key, DayRetention)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return incr.Val(), nil
}

// Top returns a category's TopSellers best sellers of the day.
func (s *Sales) Top(ctx context.Context, category string, day time.Time) ([]Entry, error) {
	return s.Day(category, day).Top(ctx, TopSellers)
}

// MergeWeek merges the seven daily boards ending on lastDay into the weekly
// board: ZUNIONSTORE week 7 day0 day1 ... [WEIGHTS w0 w1 ...], where day0 is
// lastDay and dayN is N days earlier. Without weights it sums units sold;
// weights (one per day, e.g. 1, 0.9, 0.8, ...) make older sales count less.
// Days without sales are missing keys, which ZUNIONSTORE takes as empty.
// ZUNIONSTORE replaces the weekly board and its expiry, so the expiry is set
// again in the same MULTI.
func (s *Sales) MergeWeek(ctx context.Context, category string, lastDay time.Time, weights []float64) (*Board, error) {
	if len(weights) != 0 && len(weights) != 7 {
		return nil, fmt.Errorf("merge week: %d weights, want 7", len(weights))
	}
	week := s.Week(category, lastDay)
	z := &redis.ZStore{Weights: weights}
	for i := range 7 {
		z.Keys = append(z.Keys, s.Day(category, lastDay.AddDate(0, 0, -i)).Key)
	}
	var union *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		union = p.ZUnionStore(ctx, week.Key, z)
		p.Expire(ctx, week.Key, WeekRetention)
		return nil
	})
	if err != nil {
		if union != nil && union.Err() != nil {
			err = union.Err() // the cause, rather than EXECABORT
		}
		return nil, fmt.Errorf("merge week %s: %w", week.Key, err)
	}
	return week, nil
}
