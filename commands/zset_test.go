package commands

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis tests of the sorted-set commands (zset.go, zset_range.go), each
// in RESP2 and RESP3, plus raw-byte checks where the protocol matters, a
// model check on a set large enough for a multi-level index, ZSCAN over a
// changing set, the keyspace commands on sorted sets, and a restart.

// zsetInvariantsOn reports whether the zset package checks its invariants
// after every mutation (-race or -tags invariants). It then walks the whole
// set each time, so building a set of n members costs O(n^2) and tests use
// smaller sets.
func zsetInvariantsOn() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return true // unknown: assume the slow build
	}
	for _, s := range bi.Settings {
		if (s.Key == "-race" && s.Value == "true") || (s.Key == "-tags" && strings.Contains(s.Value, "invariants")) {
			return true
		}
	}
	return false
}

// zmust(cmd.Result())(t) is the value of a go-redis call that must
// succeed.
func zmust[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func zeq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func zeqSlice[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// zerr checks that err is a server error with exactly the text want.
func zerr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Fatalf("%s: error %v, want %q", what, err, want)
	}
}

func zs(pairs ...any) []redis.Z {
	var out []redis.Z
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, redis.Z{Score: toFloat(pairs[i]), Member: pairs[i+1]})
	}
	return out
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	panic(fmt.Sprintf("bad score %v", v))
}

func zeqZ(t *testing.T, what string, got, want []redis.Z) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	for i := range got {
		if fmt.Sprint(got[i].Member) != fmt.Sprint(want[i].Member) || got[i].Score != want[i].Score {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
}

func TestZSet_Add(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		t.Run("add-update", func(t *testing.T) {
			zeq(t, "ZADD", zmust(c.ZAdd(ctx, "z", zs(1, "a", 2, "b")...).Result())(t), 2)
			zeq(t, "ZADD again", zmust(c.ZAdd(ctx, "z", zs(3, "a", 4, "c")...).Result())(t), 1)
			zeq(t, "ZSCORE a", zmust(c.ZScore(ctx, "z", "a").Result())(t), 3)
			zeq(t, "ZCARD", zmust(c.ZCard(ctx, "z").Result())(t), 3)
		})
		t.Run("ch", func(t *testing.T) {
			n := zmust(c.ZAddArgs(ctx, "z", redis.ZAddArgs{Ch: true, Members: zs(3, "a", 5, "b", 6, "new")}).Result())(t)
			zeq(t, "ZADD CH (1 same, 1 changed, 1 added)", n, 2)
		})
		t.Run("nx-xx", func(t *testing.T) {
			zeq(t, "ZADD NX", zmust(c.ZAddNX(ctx, "z", zs(100, "a", 7, "nx")...).Result())(t), 1)
			zeq(t, "a after NX", zmust(c.ZScore(ctx, "z", "a").Result())(t), 3)
			zeq(t, "ZADD XX", zmust(c.ZAddXX(ctx, "z", zs(10, "a", 8, "xx")...).Result())(t), 0)
			zeq(t, "a after XX", zmust(c.ZScore(ctx, "z", "a").Result())(t), 10)
			if err := c.ZScore(ctx, "z", "xx").Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("XX added a member: %v", err)
			}
			zeq(t, "ZADD XX on a missing key", zmust(c.ZAddXX(ctx, "nokey", zs(1, "a")...).Result())(t), 0)
			zeq(t, "EXISTS nokey", zmust(c.Exists(ctx, "nokey").Result())(t), 0)
		})
		t.Run("gt-lt", func(t *testing.T) {
			n := zmust(c.ZAddArgs(ctx, "g", redis.ZAddArgs{Members: zs(10, "m")}).Result())(t)
			zeq(t, "ZADD", n, 1)
			zeq(t, "GT lower", zmust(c.ZAddArgs(ctx, "g", redis.ZAddArgs{GT: true, Ch: true, Members: zs(5, "m")}).Result())(t), 0)
			zeq(t, "GT higher", zmust(c.ZAddArgs(ctx, "g", redis.ZAddArgs{GT: true, Ch: true, Members: zs(15, "m")}).Result())(t), 1)
			zeq(t, "LT higher", zmust(c.ZAddArgs(ctx, "g", redis.ZAddArgs{LT: true, Ch: true, Members: zs(20, "m")}).Result())(t), 0)
			zeq(t, "LT lower", zmust(c.ZAddArgs(ctx, "g", redis.ZAddArgs{LT: true, Ch: true, Members: zs(1, "m")}).Result())(t), 1)
			zeq(t, "GT adds new members", zmust(c.ZAddArgs(ctx, "g", redis.ZAddArgs{GT: true, Members: zs(-5, "new")}).Result())(t), 1)
			zeq(t, "XX GT", zmust(c.ZAddArgs(ctx, "g", redis.ZAddArgs{XX: true, GT: true, Ch: true, Members: zs(50, "m", 60, "nope")}).Result())(t), 1)
			zeqZ(t, "ZRANGE", zmust(c.ZRangeWithScores(ctx, "g", 0, -1).Result())(t), zs(-5, "new", 50, "m"))
		})
		t.Run("incr", func(t *testing.T) {
			zeq(t, "ZADD INCR new", zmust(c.ZAddArgsIncr(ctx, "i", redis.ZAddArgs{Members: zs(2.5, "m")}).Result())(t), 2.5)
			zeq(t, "ZADD INCR", zmust(c.ZAddArgsIncr(ctx, "i", redis.ZAddArgs{Members: zs(2, "m")}).Result())(t), 4.5)
			if err := c.ZAddArgsIncr(ctx, "i", redis.ZAddArgs{NX: true, Members: zs(1, "m")}).Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("ZADD NX INCR on an existing member: %v, want nil reply", err)
			}
			if err := c.ZAddArgsIncr(ctx, "i", redis.ZAddArgs{GT: true, Members: zs(-1, "m")}).Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("ZADD GT INCR lowering: %v, want nil reply", err)
			}
			if err := c.ZAddArgsIncr(ctx, "nokey", redis.ZAddArgs{XX: true, Members: zs(1, "m")}).Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("ZADD XX INCR on a missing key: %v, want nil reply", err)
			}
			zeq(t, "ZADD LT INCR lowering", zmust(c.ZAddArgsIncr(ctx, "i", redis.ZAddArgs{LT: true, Members: zs(-0.5, "m")}).Result())(t), 4)
		})
		t.Run("scores", func(t *testing.T) {
			zmust(c.Do(ctx, "ZADD", "s", "1e308", "huge", "5e-324", "tiny", "1.5e-7", "small", "123456789012345678", "big",
				"+inf", "pinf", "-inf", "ninf", "-0", "negzero", "0x10", "hex").Result())(t)
			for m, want := range map[string]float64{"huge": 1e308, "tiny": 5e-324, "small": 1.5e-7, "big": 123456789012345678,
				"pinf": math.Inf(1), "ninf": math.Inf(-1), "negzero": 0, "hex": 16} {
				zeq(t, "ZSCORE "+m, zmust(c.ZScore(ctx, "s", m).Result())(t), want)
			}
			zeqSlice(t, "ZRANGE", zmust(c.ZRange(ctx, "s", 0, -1).Result())(t),
				[]string{"ninf", "negzero", "tiny", "small", "hex", "big", "huge", "pinf"})
		})
		t.Run("errors", func(t *testing.T) {
			for _, tc := range []struct {
				args []any
				want string
			}{
				{[]any{"ZADD", "e", "NX", "XX", "1", "a"}, errZAddXXNX},
				{[]any{"ZADD", "e", "GT", "LT", "1", "a"}, errZAddGTLTNX},
				{[]any{"ZADD", "e", "NX", "GT", "1", "a"}, errZAddGTLTNX},
				{[]any{"ZADD", "e", "NX", "LT", "1", "a"}, errZAddGTLTNX},
				{[]any{"ZADD", "e", "INCR", "1", "a", "2", "b"}, errZAddIncrPair},
				{[]any{"ZADD", "e", "1", "a", "2"}, errSyntax},
				{[]any{"ZADD", "e", "NX", "1"}, errSyntax},
				{[]any{"ZADD", "e", "abc", "a"}, errNotFloat},
				{[]any{"ZADD", "e", "nan", "a"}, errNotFloat},
				{[]any{"ZADD", "e", "1e400", "a"}, errNotFloat},
				{[]any{"ZADD", "e"}, errArity("zadd")},
				{[]any{"ZADD", "e", "1"}, errArity("zadd")},
			} {
				zerr(t, fmt.Sprint(tc.args), c.Do(ctx, tc.args...).Err(), tc.want)
			}
			zeq(t, "EXISTS e", zmust(c.Exists(ctx, "e").Result())(t), 0)
			zmust(c.ZAdd(ctx, "nan", zs(math.Inf(-1), "m")...).Result())(t)
			zerr(t, "ZADD INCR +inf on -inf", c.ZAddArgsIncr(ctx, "nan", redis.ZAddArgs{Members: zs(math.Inf(1), "m")}).Err(), errZScoreNaN)
			zeq(t, "score after NaN", zmust(c.ZScore(ctx, "nan", "m").Result())(t), math.Inf(-1))
		})
	})
}

func TestZSet_IncrBy(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zeq(t, "ZINCRBY new", zmust(c.ZIncrBy(ctx, "z", 1.5, "m").Result())(t), 1.5)
		zeq(t, "ZINCRBY", zmust(c.ZIncrBy(ctx, "z", -4, "m").Result())(t), -2.5)
		zeq(t, "ZINCRBY 0.1", zmust(c.ZIncrBy(ctx, "z", 0.1, "t").Result())(t), 0.1)
		zeq(t, "ZINCRBY 0.1 again", zmust(c.ZIncrBy(ctx, "z", 0.1, "t").Result())(t), 0.2)
		zeqSlice(t, "ZRANGE", zmust(c.ZRange(ctx, "z", 0, -1).Result())(t), []string{"m", "t"})
		zerr(t, "ZINCRBY abc", c.Do(ctx, "ZINCRBY", "z", "abc", "m").Err(), errNotFloat)
		zmust(c.ZIncrBy(ctx, "z", math.Inf(1), "inf").Result())(t)
		zerr(t, "ZINCRBY -inf on +inf", c.ZIncrBy(ctx, "z", math.Inf(-1), "inf").Err(), errZScoreNaN)
		zerr(t, "ZINCRBY arity", c.Do(ctx, "ZINCRBY", "z", "1").Err(), errArity("zincrby"))
	})
	t.Run("raw", func(t *testing.T) {
		n := testNode(t)
		r := dialRaw(t, n.Addr())
		zeq(t, "ZINCRBY -0 new (RESP2)", r.do("ZINCRBY", "z", "-0", "m"), "$2\r\n-0\r\n")
		zeq(t, "ZSCORE after -0", r.do("ZSCORE", "z", "m"), "$1\r\n0\r\n")
		zeq(t, "ZINCRBY 0.1", r.do("ZINCRBY", "z", "0.1", "m"), "$19\r\n0.10000000000000001\r\n")
		r.do("HELLO", "3")
		zeq(t, "ZINCRBY (RESP3)", r.do("ZINCRBY", "z", "0.1", "m"), ",0.20000000000000001\r\n")
		zeq(t, "ZADD INCR NX existing (RESP3)", r.do("ZADD", "z", "NX", "INCR", "1", "m"), "_\r\n")
	})
}

func TestZSet_ScoreCardCount(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		if err := c.ZScore(ctx, "z", "a").Err(); !errors.Is(err, redis.Nil) {
			t.Fatalf("ZSCORE on a missing key: %v", err)
		}
		zeq(t, "ZCARD missing", zmust(c.ZCard(ctx, "z").Result())(t), 0)
		zeqSlice(t, "ZMSCORE missing key", zmust(c.ZMScore(ctx, "z", "a", "b").Result())(t), []float64{0, 0})
		zmust(c.ZAdd(ctx, "z", zs(1, "a", 2, "b", 3, "c", 4, "d", 5, "e")...).Result())(t)
		zmust(c.ZAdd(ctx, "l", zs(0, "a", 0, "aa", 0, "ab", 0, "b", 0, "c")...).Result())(t)
		zeq(t, "ZCARD", zmust(c.ZCard(ctx, "z").Result())(t), 5)
		zeqSlice(t, "ZMSCORE", zmust(c.ZMScore(ctx, "z", "e", "a").Result())(t), []float64{5, 1})
		raw := zmust(c.Do(ctx, "ZMSCORE", "z", "a", "nosuch", "c").Slice())(t)
		if len(raw) != 3 || raw[1] != nil {
			t.Fatalf("ZMSCORE with a missing member = %v, want a nil in the middle", raw)
		}
		for _, tc := range []struct {
			min, max string
			want     int64
		}{{"-inf", "+inf", 5}, {"2", "4", 3}, {"(2", "4", 2}, {"(2", "(4", 1}, {"4", "2", 0}, {"(1", "(2", 0}} {
			zeq(t, "ZCOUNT "+tc.min+" "+tc.max, zmust(c.ZCount(ctx, "z", tc.min, tc.max).Result())(t), tc.want)
		}
		for _, tc := range []struct {
			min, max string
			want     int64
		}{{"-", "+", 5}, {"[a", "[b", 4}, {"(a", "(b", 2}, {"[b", "[a", 0}, {"(aa", "[ab", 1}} {
			zeq(t, "ZLEXCOUNT "+tc.min+" "+tc.max, zmust(c.ZLexCount(ctx, "l", tc.min, tc.max).Result())(t), tc.want)
		}
		zerr(t, "ZCOUNT bad", c.ZCount(ctx, "z", "x", "1").Err(), errZScoreRange)
		zerr(t, "ZLEXCOUNT bad", c.ZLexCount(ctx, "l", "a", "+").Err(), errZLexRange)
	})
}

func TestZSet_Rank(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zmust(c.ZAdd(ctx, "z", zs(10, "a", 20, "b", 20, "c", 30, "d")...).Result())(t)
		for m, want := range map[string]int64{"a": 0, "b": 1, "c": 2, "d": 3} {
			zeq(t, "ZRANK "+m, zmust(c.ZRank(ctx, "z", m).Result())(t), want)
			zeq(t, "ZREVRANK "+m, zmust(c.ZRevRank(ctx, "z", m).Result())(t), 3-want)
		}
		if err := c.ZRank(ctx, "z", "nosuch").Err(); !errors.Is(err, redis.Nil) {
			t.Fatalf("ZRANK missing member: %v", err)
		}
		if err := c.ZRevRank(ctx, "nokey", "a").Err(); !errors.Is(err, redis.Nil) {
			t.Fatalf("ZREVRANK missing key: %v", err)
		}
		t.Run("withscore", func(t *testing.T) {
			zeq(t, "ZRANK WITHSCORE", zmust(c.ZRankWithScore(ctx, "z", "c").Result())(t), redis.RankScore{Rank: 2, Score: 20})
			zeq(t, "ZREVRANK WITHSCORE", zmust(c.ZRevRankWithScore(ctx, "z", "a").Result())(t), redis.RankScore{Rank: 3, Score: 10})
			if err := c.ZRankWithScore(ctx, "z", "nosuch").Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("ZRANK WITHSCORE missing member: %v", err)
			}
			if err := c.ZRevRankWithScore(ctx, "nokey", "a").Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("ZREVRANK WITHSCORE missing key: %v", err)
			}
			zerr(t, "ZRANK bad option", c.Do(ctx, "ZRANK", "z", "a", "WITHSCORES").Err(), errSyntax)
			zerr(t, "ZRANK too many", c.Do(ctx, "ZRANK", "z", "a", "WITHSCORE", "x").Err(), errArity("zrank"))
			zerr(t, "ZREVRANK too many", c.Do(ctx, "ZREVRANK", "z", "a", "WITHSCORE", "x").Err(), errArity("zrevrank"))
			zerr(t, "ZRANK few", c.Do(ctx, "ZRANK", "z").Err(), errArity("zrank"))
		})
	})
	// Redis 7.2's WITHSCORE reply bytes (no Redis 7.0 to compare with).
	t.Run("raw", func(t *testing.T) {
		n := testNode(t)
		r := dialRaw(t, n.Addr())
		r.do("ZADD", "z", "1", "a", "2.5", "b")
		r.do("SET", "s", "v")
		for _, tc := range []struct {
			args         []string
			resp2, resp3 string
		}{
			{[]string{"ZRANK", "z", "b", "WITHSCORE"}, "*2\r\n:1\r\n$3\r\n2.5\r\n", "*2\r\n:1\r\n,2.5\r\n"},
			{[]string{"ZREVRANK", "z", "b", "withscore"}, "*2\r\n:0\r\n$3\r\n2.5\r\n", "*2\r\n:0\r\n,2.5\r\n"},
			{[]string{"ZRANK", "z", "x", "WITHSCORE"}, "*-1\r\n", "_\r\n"},
			{[]string{"ZRANK", "nokey", "x", "WITHSCORE"}, "*-1\r\n", "_\r\n"},
			{[]string{"ZRANK", "z", "x"}, "$-1\r\n", "_\r\n"},
			{[]string{"ZRANK", "s", "x", "WITHSCORE"}, "-" + errWrongType + "\r\n", "-" + errWrongType + "\r\n"},
			{[]string{"ZRANK", "s", "x", "BAD"}, "-" + errSyntax + "\r\n", "-" + errSyntax + "\r\n"},
		} {
			zeq(t, fmt.Sprint(tc.args, " RESP2"), r.do(tc.args...), tc.resp2)
		}
		r.do("HELLO", "3")
		for _, tc := range []struct {
			args  []string
			resp3 string
		}{
			{[]string{"ZRANK", "z", "b", "WITHSCORE"}, "*2\r\n:1\r\n,2.5\r\n"},
			{[]string{"ZREVRANK", "z", "b", "withscore"}, "*2\r\n:0\r\n,2.5\r\n"},
			{[]string{"ZRANK", "z", "x", "WITHSCORE"}, "_\r\n"},
			{[]string{"ZRANK", "z", "x"}, "_\r\n"},
		} {
			zeq(t, fmt.Sprint(tc.args, " RESP3"), r.do(tc.args...), tc.resp3)
		}
	})
}

func TestZSet_Range(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zmust(c.ZAdd(ctx, "z", zs(1, "a", 2, "b", 3, "c", 4, "d", 5, "e")...).Result())(t)
		zmust(c.ZAdd(ctx, "l", zs(0, "a", 0, "aa", 0, "ab", 0, "b", 0, "c")...).Result())(t)
		t.Run("rank", func(t *testing.T) {
			zeqSlice(t, "ZRANGE 0 -1", zmust(c.ZRange(ctx, "z", 0, -1).Result())(t), []string{"a", "b", "c", "d", "e"})
			zeqSlice(t, "ZRANGE -2 -1", zmust(c.ZRange(ctx, "z", -2, -1).Result())(t), []string{"d", "e"})
			zeqSlice(t, "ZRANGE 3 1", zmust(c.ZRange(ctx, "z", 3, 1).Result())(t), []string{})
			zeqSlice(t, "ZRANGE -100 1", zmust(c.ZRange(ctx, "z", -100, 1).Result())(t), []string{"a", "b"})
			zeqZ(t, "ZRANGE WITHSCORES", zmust(c.ZRangeWithScores(ctx, "z", 1, 2).Result())(t), zs(2, "b", 3, "c"))
			zeqSlice(t, "ZREVRANGE", zmust(c.ZRevRange(ctx, "z", 0, 1).Result())(t), []string{"e", "d"})
			zeqZ(t, "ZREVRANGE WITHSCORES", zmust(c.ZRevRangeWithScores(ctx, "z", 0, 9).Result())(t), zs(5, "e", 4, "d", 3, "c", 2, "b", 1, "a"))
			zeqSlice(t, "ZRANGE REV", zmust(c.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "z", Start: 0, Stop: 1, Rev: true}).Result())(t), []string{"e", "d"})
			zeqSlice(t, "ZRANGE missing", zmust(c.ZRange(ctx, "nokey", 0, -1).Result())(t), []string{})
		})
		t.Run("score", func(t *testing.T) {
			zeqSlice(t, "ZRANGEBYSCORE", zmust(c.ZRangeByScore(ctx, "z", &redis.ZRangeBy{Min: "(1", Max: "4"}).Result())(t), []string{"b", "c", "d"})
			zeqSlice(t, "ZRANGEBYSCORE LIMIT", zmust(c.ZRangeByScore(ctx, "z", &redis.ZRangeBy{Min: "-inf", Max: "+inf", Offset: 1, Count: 2}).Result())(t), []string{"b", "c"})
			zeqZ(t, "ZRANGEBYSCORE WITHSCORES", zmust(c.ZRangeByScoreWithScores(ctx, "z", &redis.ZRangeBy{Min: "4", Max: "+inf"}).Result())(t), zs(4, "d", 5, "e"))
			zeqSlice(t, "ZREVRANGEBYSCORE", zmust(c.ZRevRangeByScore(ctx, "z", &redis.ZRangeBy{Min: "2", Max: "(5"}).Result())(t), []string{"d", "c", "b"})
			zeqSlice(t, "ZREVRANGEBYSCORE LIMIT", zmust(c.ZRevRangeByScore(ctx, "z", &redis.ZRangeBy{Min: "-inf", Max: "+inf", Offset: 1, Count: 2}).Result())(t), []string{"d", "c"})
			zeqZ(t, "ZREVRANGEBYSCORE WITHSCORES", zmust(c.ZRevRangeByScoreWithScores(ctx, "z", &redis.ZRangeBy{Min: "-inf", Max: "2"}).Result())(t), zs(2, "b", 1, "a"))
			zeqSlice(t, "ZRANGE BYSCORE", zmust(c.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "z", Start: "(3", Stop: 8, ByScore: true}).Result())(t), []string{"d", "e"})
			zeqSlice(t, "ZRANGE BYSCORE REV LIMIT", zmust(c.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "z", Start: 8, Stop: "(1", ByScore: true, Rev: true, Offset: 1, Count: 2}).Result())(t), []string{"d", "c"})
			zeqZ(t, "ZRANGE BYSCORE WITHSCORES", zmust(c.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: "z", Start: 2, Stop: 3, ByScore: true}).Result())(t), zs(2, "b", 3, "c"))
		})
		t.Run("lex", func(t *testing.T) {
			zeqSlice(t, "ZRANGEBYLEX", zmust(c.ZRangeByLex(ctx, "l", &redis.ZRangeBy{Min: "[a", Max: "(b"}).Result())(t), []string{"a", "aa", "ab"})
			zeqSlice(t, "ZRANGEBYLEX LIMIT", zmust(c.ZRangeByLex(ctx, "l", &redis.ZRangeBy{Min: "-", Max: "+", Offset: 2, Count: 2}).Result())(t), []string{"ab", "b"})
			zeqSlice(t, "ZREVRANGEBYLEX", zmust(c.ZRevRangeByLex(ctx, "l", &redis.ZRangeBy{Min: "(aa", Max: "+"}).Result())(t), []string{"c", "b", "ab"})
			zeqSlice(t, "ZRANGE BYLEX REV", zmust(c.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "l", Start: "[b", Stop: "-", ByLex: true, Rev: true}).Result())(t), []string{"b", "ab", "aa", "a"})
		})
		t.Run("errors", func(t *testing.T) {
			for _, tc := range []struct {
				args []any
				want string
			}{
				{[]any{"ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"}, errZRangeLimit},
				{[]any{"ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"}, errZRangeLexScores},
				{[]any{"ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"}, errZRangeLexScores},
				{[]any{"ZRANGE", "z", "0", "-1", "REV", "REV"}, errSyntax},
				{[]any{"ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"}, errSyntax},
				{[]any{"ZREVRANGE", "z", "0", "-1", "REV"}, errSyntax},
				{[]any{"ZRANGE", "z", "0", "-1", "LIMIT", "0"}, errSyntax},
				{[]any{"ZRANGE", "z", "0", "-1", "BYSCORE", "LIMIT", "x", "1"}, errNotInt},
				{[]any{"ZRANGE", "z", "a", "-1"}, errNotInt},
				{[]any{"ZRANGE", "z", "a", "1", "BYSCORE"}, errZScoreRange},
				{[]any{"ZRANGE", "z", "a", "+", "BYLEX"}, errZLexRange},
				{[]any{"ZRANGE", "z", "0"}, errArity("zrange")},
			} {
				zerr(t, fmt.Sprint(tc.args), c.Do(ctx, tc.args...).Err(), tc.want)
			}
		})
	})
}

// The RESP3 WITHSCORES shape is an array of [member, double] pairs; RESP2
// is flat with bulk scores.
func TestZSet_RangeRawShapes(t *testing.T) {
	n := testNode(t)
	r := dialRaw(t, n.Addr())
	r.do("ZADD", "z", "1", "a", "0.5", "b")
	zeq(t, "RESP2", r.do("ZRANGE", "z", "0", "-1", "WITHSCORES"), "*4\r\n$1\r\nb\r\n$3\r\n0.5\r\n$1\r\na\r\n$1\r\n1\r\n")
	r.do("HELLO", "3")
	zeq(t, "RESP3", r.do("ZRANGE", "z", "0", "-1", "WITHSCORES"), "*2\r\n*2\r\n$1\r\nb\r\n,0.5\r\n*2\r\n$1\r\na\r\n,1\r\n")
	zeq(t, "RESP3 ZMSCORE", r.do("ZMSCORE", "z", "a", "x"), "*2\r\n,1\r\n_\r\n")
	zeq(t, "RESP3 ZSCORE", r.do("ZSCORE", "z", "b"), ",0.5\r\n")
}

func TestZSet_RangeStore(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zmust(c.ZAdd(ctx, "src", zs(1, "a", 2, "b", 3, "c", 4, "d")...).Result())(t)
		zeq(t, "ZRANGESTORE", zmust(c.ZRangeStore(ctx, "dst", redis.ZRangeArgs{Key: "src", Start: 1, Stop: 2}).Result())(t), 2)
		zeqZ(t, "dst", zmust(c.ZRangeWithScores(ctx, "dst", 0, -1).Result())(t), zs(2, "b", 3, "c"))
		zeq(t, "ZRANGESTORE BYSCORE REV LIMIT", zmust(c.ZRangeStore(ctx, "dst", redis.ZRangeArgs{Key: "src", Start: "+inf", Stop: "-inf", ByScore: true, Rev: true, Count: 3}).Result())(t), 3)
		zeqZ(t, "dst", zmust(c.ZRangeWithScores(ctx, "dst", 0, -1).Result())(t), zs(2, "b", 3, "c", 4, "d"))
		must(t, c.Set(ctx, "strdst", "x", time.Hour).Err())
		zeq(t, "ZRANGESTORE over a string", zmust(c.ZRangeStore(ctx, "strdst", redis.ZRangeArgs{Key: "src", Start: 0, Stop: 0}).Result())(t), 1)
		zeq(t, "TYPE", zmust(c.Type(ctx, "strdst").Result())(t), "zset")
		zeq(t, "TTL cleared", zmust(c.TTL(ctx, "strdst").Result())(t), time.Duration(-1))
		zeq(t, "empty ZRANGESTORE", zmust(c.ZRangeStore(ctx, "dst", redis.ZRangeArgs{Key: "src", Start: 10, Stop: 20}).Result())(t), 0)
		zeq(t, "dst deleted", zmust(c.Exists(ctx, "dst").Result())(t), 0)
		zeq(t, "ZRANGESTORE missing src", zmust(c.ZRangeStore(ctx, "strdst", redis.ZRangeArgs{Key: "nokey", Start: 0, Stop: -1}).Result())(t), 0)
		zeq(t, "dst deleted", zmust(c.Exists(ctx, "strdst").Result())(t), 0)
		must(t, c.Set(ctx, "s", "v", 0).Err())
		zerr(t, "ZRANGESTORE from a string", c.ZRangeStore(ctx, "dst", redis.ZRangeArgs{Key: "s", Start: 0, Stop: -1}).Err(), errWrongType)
		zerr(t, "ZRANGESTORE WITHSCORES", c.Do(ctx, "ZRANGESTORE", "dst", "src", "0", "-1", "WITHSCORES").Err(), errSyntax)
	})
}

func TestZSet_Rem(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zmust(c.ZAdd(ctx, "z", zs(1, "a", 2, "b", 3, "c")...).Result())(t)
		zeq(t, "ZREM", zmust(c.ZRem(ctx, "z", "a", "nosuch", "a").Result())(t), 1)
		zeq(t, "ZREM missing key", zmust(c.ZRem(ctx, "nokey", "a").Result())(t), 0)
		zeq(t, "ZREM rest", zmust(c.ZRem(ctx, "z", "b", "c").Result())(t), 2)
		zeq(t, "empty set deleted", zmust(c.Exists(ctx, "z").Result())(t), 0)
		zerr(t, "ZREM arity", c.Do(ctx, "ZREM", "z").Err(), errArity("zrem"))
	})
}

func TestZSet_RemRange(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		add := func() {
			zmust(c.ZAdd(ctx, "z", zs(1, "a", 2, "b", 3, "c", 4, "d", 5, "e")...).Result())(t)
		}
		add()
		zeq(t, "ZREMRANGEBYRANK 1 2", zmust(c.ZRemRangeByRank(ctx, "z", 1, 2).Result())(t), 2)
		zeqSlice(t, "rest", zmust(c.ZRange(ctx, "z", 0, -1).Result())(t), []string{"a", "d", "e"})
		zeq(t, "ZREMRANGEBYRANK -1 -1", zmust(c.ZRemRangeByRank(ctx, "z", -1, -1).Result())(t), 1)
		zeq(t, "ZREMRANGEBYRANK 5 9", zmust(c.ZRemRangeByRank(ctx, "z", 5, 9).Result())(t), 0)
		zeq(t, "ZREMRANGEBYRANK all", zmust(c.ZRemRangeByRank(ctx, "z", 0, -1).Result())(t), 2)
		zeq(t, "deleted", zmust(c.Exists(ctx, "z").Result())(t), 0)
		add()
		zeq(t, "ZREMRANGEBYSCORE", zmust(c.ZRemRangeByScore(ctx, "z", "(1", "3").Result())(t), 2)
		zeqSlice(t, "rest", zmust(c.ZRange(ctx, "z", 0, -1).Result())(t), []string{"a", "d", "e"})
		zeq(t, "ZREMRANGEBYSCORE all", zmust(c.ZRemRangeByScore(ctx, "z", "-inf", "+inf").Result())(t), 3)
		zeq(t, "deleted", zmust(c.Exists(ctx, "z").Result())(t), 0)
		zmust(c.ZAdd(ctx, "l", zs(0, "a", 0, "aa", 0, "b", 0, "c")...).Result())(t)
		zeq(t, "ZREMRANGEBYLEX", zmust(c.ZRemRangeByLex(ctx, "l", "[a", "(b").Result())(t), 2)
		zeqSlice(t, "rest", zmust(c.ZRange(ctx, "l", 0, -1).Result())(t), []string{"b", "c"})
		zerr(t, "ZREMRANGEBYRANK bad", c.Do(ctx, "ZREMRANGEBYRANK", "l", "x", "1").Err(), errNotInt)
		zerr(t, "ZREMRANGEBYSCORE bad", c.Do(ctx, "ZREMRANGEBYSCORE", "l", "x", "1").Err(), errZScoreRange)
		zerr(t, "ZREMRANGEBYLEX bad", c.Do(ctx, "ZREMRANGEBYLEX", "l", "x", "+").Err(), errZLexRange)
	})
}

func TestZSet_RandMember(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		scores := map[string]float64{}
		var members []redis.Z
		for i := range 10 {
			m := fmt.Sprintf("m%d", i)
			scores[m] = float64(i) / 2
			members = append(members, redis.Z{Score: scores[m], Member: m})
		}
		zmust(c.ZAdd(ctx, "z", members...).Result())(t)
		one := zmust(c.Do(ctx, "ZRANDMEMBER", "z").Text())(t)
		if _, ok := scores[one]; !ok {
			t.Fatalf("ZRANDMEMBER = %q, not a member", one)
		}
		if err := c.Do(ctx, "ZRANDMEMBER", "nokey").Err(); !errors.Is(err, redis.Nil) {
			t.Fatalf("ZRANDMEMBER missing key: %v", err)
		}
		zeqSlice(t, "ZRANDMEMBER missing key 3", zmust(c.ZRandMember(ctx, "nokey", 3).Result())(t), []string{})
		zeqSlice(t, "ZRANDMEMBER 0", zmust(c.ZRandMember(ctx, "z", 0).Result())(t), []string{})
		for _, count := range []int{1, 3, 7, 9, 10, 25, -1, -4, -30} {
			got := zmust(c.ZRandMemberWithScores(ctx, "z", count).Result())(t)
			want := count
			if count > 10 {
				want = 10
			}
			if count < 0 {
				want = -count
			}
			zeq(t, fmt.Sprintf("ZRANDMEMBER %d WITHSCORES length", count), len(got), want)
			seen := map[string]bool{}
			for _, z := range got {
				m := z.Member.(string)
				s, ok := scores[m]
				if !ok || s != z.Score {
					t.Fatalf("ZRANDMEMBER %d: %v not in the set", count, z)
				}
				if count > 0 && seen[m] {
					t.Fatalf("ZRANDMEMBER %d: %q twice", count, m)
				}
				seen[m] = true
			}
			plain := zmust(c.ZRandMember(ctx, "z", count).Result())(t)
			zeq(t, fmt.Sprintf("ZRANDMEMBER %d length", count), len(plain), want)
		}
		// Every member can be picked (20 draws of 9 out of 10 miss a given
		// member with probability 0.1^20).
		seen := map[string]bool{}
		for range 20 {
			for _, m := range zmust(c.ZRandMember(ctx, "z", 9).Result())(t) {
				seen[m] = true
			}
		}
		zeq(t, "members ever picked", len(seen), 10)
		zerr(t, "ZRANDMEMBER huge negative", c.Do(ctx, "ZRANDMEMBER", "z", "-100000000").Err(), errZRandScores)
	})
}

func TestZSet_ScanSmall(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zmust(c.ZAdd(ctx, "z", zs(1, "a", 2.5, "b", 3, "c", 4, "x1", 5, "x2")...).Result())(t)
		keys, cursor := zmust2(t, c.ZScan(ctx, "z", 0, "", 2).Result)
		zeq(t, "cursor", cursor, 0)
		zeqSlice(t, "ZSCAN", keys, []string{"a", "1", "b", "2.5", "c", "3", "x1", "4", "x2", "5"})
		keys, cursor = zmust2(t, c.ZScan(ctx, "z", 0, "x*", 0).Result)
		zeq(t, "cursor", cursor, 0)
		zeqSlice(t, "ZSCAN MATCH", keys, []string{"x1", "4", "x2", "5"})
		keys, _ = zmust2(t, c.ZScan(ctx, "nokey", 0, "", 0).Result)
		zeqSlice(t, "ZSCAN missing", keys, []string{})
		zerr(t, "ZSCAN COUNT 0", c.Do(ctx, "ZSCAN", "z", "0", "COUNT", "0").Err(), errSyntax)
		zerr(t, "ZSCAN bad cursor", c.Do(ctx, "ZSCAN", "z", "x").Err(), errInvalidCursor)
	})
}

func zmust2[A, B any](t *testing.T, f func() (A, B, error)) (A, B) {
	t.Helper()
	a, b, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// ZSCAN over a set larger than zscanWholeSet walks it COUNT members at a
// time; members present for the whole iteration are returned exactly once
// while others are added and removed, some of them already returned.
func TestZSet_ScanLarge(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		const n = 600
		var members []redis.Z
		for i := range n {
			members = append(members, redis.Z{Score: float64(i % 50), Member: fmt.Sprintf("m%04d", i)})
		}
		zmust(c.ZAdd(ctx, "z", members...).Result())(t)
		zmust(c.ZAdd(ctx, "other", members...).Result())(t)
		removed := map[string]bool{}
		seen := map[string]int{}
		var cursor uint64
		calls := 0
		for {
			keys, next := zmust2(t, c.ZScan(ctx, "z", cursor, "", 37).Result)
			calls++
			if len(keys)%2 != 0 || len(keys) > 2*37 {
				t.Fatalf("ZSCAN returned %d elements", len(keys))
			}
			for i := 0; i < len(keys); i += 2 {
				seen[keys[i]]++
				if strings.HasPrefix(keys[i], "new") {
					continue
				}
				if want := strconv.Itoa(int(mustAtoi(t, keys[i][1:]) % 50)); keys[i+1] != want {
					t.Fatalf("ZSCAN score of %s = %s, want %s", keys[i], keys[i+1], want)
				}
			}
			// Churn: remove a member already returned and one not yet
			// returned, add a new one.
			if len(keys) > 0 {
				m := keys[len(keys)/4*2] // a middle one: neither end of the page
				zmust(c.ZRem(ctx, "z", m).Result())(t)
				removed[m] = true
			}
			if calls%3 == 0 && len(keys) > 0 {
				// The cursor's own member: the next page must start after
				// where it was.
				m := keys[len(keys)-2]
				zmust(c.ZRem(ctx, "z", m).Result())(t)
				removed[m] = true
			}
			late := fmt.Sprintf("m%04d", (calls*97)%n)
			if seen[late] == 0 {
				zmust(c.ZRem(ctx, "z", late).Result())(t)
				removed[late] = true
			}
			zmust(c.ZAdd(ctx, "z", redis.Z{Score: float64(calls % 50), Member: fmt.Sprintf("new%d", calls)}).Result())(t)
			if next == 0 {
				break
			}
			if calls > 100 {
				t.Fatal("ZSCAN did not finish")
			}
			cursor = next
		}
		if calls < n/37 {
			t.Fatalf("ZSCAN finished in %d calls with COUNT 37 over %d members", calls, n)
		}
		for i := range n {
			m := fmt.Sprintf("m%04d", i)
			if removed[m] {
				continue
			}
			if seen[m] != 1 {
				t.Fatalf("member %s present all along was returned %d times", m, seen[m])
			}
		}
		// Cursors are per key, per database and not SCAN's.
		_, cur := zmust2(t, c.ZScan(ctx, "other", 0, "", 10).Result)
		if cur == 0 {
			t.Fatal("ZSCAN over 600 members with COUNT 10 ended at once")
		}
		zerr(t, "cursor of another key", c.ZScan(ctx, "z", cur, "", 10).Err(), errInvalidCursor)
		zerr(t, "ZSCAN cursor in SCAN", c.Scan(ctx, cur, "", 10).Err(), errInvalidCursor)
		zerr(t, "unknown cursor", c.ZScan(ctx, "z", 12345, "", 10).Err(), errInvalidCursor)
		// The first 10 of "other" are the score-0 members m0000, m0050, ...,
		// m0450; of m000*, m0001..m0009 (scores 1..9) come after them.
		keys, next := zmust2(t, c.ZScan(ctx, "other", cur, "m000*", 1000).Result)
		zeq(t, "cursor after the last page", next, 0)
		var want []string
		for i := 1; i <= 9; i++ {
			want = append(want, fmt.Sprintf("m000%d", i), strconv.Itoa(i))
		}
		zeqSlice(t, "ZSCAN MATCH from a cursor", keys, want)
	})
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Keyspace commands work on sorted sets, and type checks go both ways.
func TestZSet_Keyspace(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zmust(c.ZAdd(ctx, "z", zs(1, "a", 2, "b")...).Result())(t)
		must(t, c.Set(ctx, "s", "v", 0).Err())
		zeq(t, "TYPE", zmust(c.Type(ctx, "z").Result())(t), "zset")
		t.Run("scan-type", func(t *testing.T) {
			for i := range 5 {
				zmust(c.ZAdd(ctx, fmt.Sprintf("zz%d", i), zs(1, "m")...).Result())(t)
				must(t, c.Set(ctx, fmt.Sprintf("ss%d", i), "v", 0).Err())
			}
			var got []string
			var cursor uint64
			for {
				keys, next := zmust2(t, c.ScanType(ctx, cursor, "", 3, "zset").Result)
				got = append(got, keys...)
				if next == 0 {
					break
				}
				cursor = next
			}
			sort.Strings(got)
			zeqSlice(t, "SCAN TYPE zset", got, []string{"z", "zz0", "zz1", "zz2", "zz3", "zz4"})
		})
		t.Run("wrongtype", func(t *testing.T) {
			zerr(t, "GET on a zset", c.Get(ctx, "z").Err(), errWrongType)
			zerr(t, "INCR on a zset", c.Incr(ctx, "z").Err(), errWrongType)
			zerr(t, "ZADD on a string", c.ZAdd(ctx, "s", zs(1, "a")...).Err(), errWrongType)
			zerr(t, "ZSCORE on a string", c.ZScore(ctx, "s", "a").Err(), errWrongType)
			zerr(t, "ZRANGE on a string", c.ZRange(ctx, "s", 0, -1).Err(), errWrongType)
			zeq(t, "string intact", zmust(c.Get(ctx, "s").Result())(t), "v")
		})
		t.Run("rename-copy", func(t *testing.T) {
			must(t, c.Rename(ctx, "z", "z2").Err())
			zeq(t, "old gone", zmust(c.Exists(ctx, "z").Result())(t), 0)
			zeqZ(t, "renamed", zmust(c.ZRangeWithScores(ctx, "z2", 0, -1).Result())(t), zs(1, "a", 2, "b"))
			zeq(t, "COPY", zmust(c.Copy(ctx, "z2", "z3", 0, false).Result())(t), 1)
			zmust(c.ZAdd(ctx, "z3", zs(3, "c")...).Result())(t)
			zeq(t, "copy is independent", zmust(c.ZCard(ctx, "z2").Result())(t), 2)
			zeq(t, "copy grew", zmust(c.ZCard(ctx, "z3").Result())(t), 3)
			zeq(t, "COPY to db 1", zmust(c.Copy(ctx, "z3", "z3", 1, false).Result())(t), 1)
			must(t, c.Rename(ctx, "z3", "s").Err())
			zeq(t, "RENAME over a string", zmust(c.Type(ctx, "s").Result())(t), "zset")
		})
		t.Run("del-expire", func(t *testing.T) {
			zmust(c.ZAdd(ctx, "d", zs(1, "a")...).Result())(t)
			zeq(t, "DEL", zmust(c.Del(ctx, "d", "nokey").Result())(t), 1)
			zeq(t, "after DEL", zmust(c.ZCard(ctx, "d").Result())(t), 0)
			zmust(c.ZAdd(ctx, "e", zs(1, "a", 2, "b")...).Result())(t)
			zeq(t, "PEXPIRE", zmust(c.PExpire(ctx, "e", 30*time.Millisecond).Result())(t), true)
			waitFor(t, 5*time.Second, "the sorted set to expire", func() bool {
				return c.Exists(ctx, "e").Val() == 0
			})
			zeq(t, "ZCARD after expiry", zmust(c.ZCard(ctx, "e").Result())(t), 0)
			zeq(t, "ZADD after expiry starts afresh", zmust(c.ZAdd(ctx, "e", zs(5, "c")...).Result())(t), 1)
			zeqSlice(t, "new set", zmust(c.ZRange(ctx, "e", 0, -1).Result())(t), []string{"c"})
			zeq(t, "EXPIRE", zmust(c.Expire(ctx, "e", time.Hour).Result())(t), true)
			zmust(c.ZAdd(ctx, "e", zs(6, "d")...).Result())(t)
			if ttl := zmust(c.TTL(ctx, "e").Result())(t); ttl < 59*time.Minute {
				t.Fatalf("ZADD dropped the TTL: %v", ttl)
			}
		})
		t.Run("multi", func(t *testing.T) {
			cmds := zmust(c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.ZAdd(ctx, "m", zs(1, "a", 2, "b")...)
				p.ZIncrBy(ctx, "m", 5, "a")
				p.ZRevRange(ctx, "m", 0, -1)
				return nil
			}))(t)
			zeqSlice(t, "ZREVRANGE in MULTI", cmds[2].(*redis.StringSliceCmd).Val(), []string{"a", "b"})
		})
	})
}

// zmodel is a naive sorted set: a slice sorted by (score, member).
type zmodel []redis.Z

func (m zmodel) sorted() zmodel {
	out := slices.Clone(m)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score < out[j].Score
		}
		return out[i].Member.(string) < out[j].Member.(string)
	})
	return out
}

// A set large enough for a multi-level index, checked against the model:
// ranks, rank ranges, score ranges with LIMIT, counts, removals.
func TestZSet_ModelLarge(t *testing.T) {
	n := 5000
	if zsetInvariantsOn() {
		n = 700
	}
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		r := rand.New(rand.NewPCG(1, uint64(n)))
		byMember := map[string]float64{}
		for len(byMember) < n {
			byMember[fmt.Sprintf("m%d", r.IntN(4*n))] = float64(r.IntN(n / 4)) // many ties
		}
		var model zmodel
		for m, s := range byMember {
			model = append(model, redis.Z{Score: s, Member: m})
		}
		model = model.sorted()
		for i := 0; i < len(model); i += 1000 {
			zmust(c.ZAdd(ctx, "z", model[i:min(i+1000, len(model))]...).Result())(t)
		}
		zeq(t, "ZCARD", zmust(c.ZCard(ctx, "z").Result())(t), int64(n))
		for range 50 {
			i := r.IntN(n)
			m := model[i].Member.(string)
			zeq(t, "ZRANK "+m, zmust(c.ZRank(ctx, "z", m).Result())(t), int64(i))
			zeq(t, "ZREVRANK "+m, zmust(c.ZRevRank(ctx, "z", m).Result())(t), int64(n-1-i))
			start, stop := r.IntN(n), r.IntN(n)
			if start > stop {
				start, stop = stop, start
			}
			stop = min(stop, start+40)
			zeqZ(t, "ZRANGE", zmust(c.ZRangeWithScores(ctx, "z", int64(start), int64(stop)).Result())(t), model[start:stop+1])
			lo, hi := float64(r.IntN(n/4)), float64(r.IntN(n/4))
			var in zmodel
			for _, z := range model {
				if z.Score > lo && z.Score <= hi {
					in = append(in, z)
				}
			}
			zeq(t, "ZCOUNT", zmust(c.ZCount(ctx, "z", fmt.Sprintf("(%g", lo), fmt.Sprint(hi)).Result())(t), int64(len(in)))
			off, cnt := r.IntN(len(in)+2), r.IntN(20)
			want := in[min(off, len(in)):min(off+cnt, len(in))]
			got := zmust(c.ZRangeByScoreWithScores(ctx, "z", &redis.ZRangeBy{Min: fmt.Sprintf("(%g", lo), Max: fmt.Sprint(hi), Offset: int64(off), Count: int64(cnt)}).Result())(t)
			zeqZ(t, "ZRANGEBYSCORE LIMIT", got, want)
			rev := slices.Clone(in)
			slices.Reverse(rev)
			want = rev[min(off, len(rev)):min(off+cnt, len(rev))]
			got = zmust(c.ZRevRangeByScoreWithScores(ctx, "z", &redis.ZRangeBy{Min: fmt.Sprintf("(%g", lo), Max: fmt.Sprint(hi), Offset: int64(off), Count: int64(cnt)}).Result())(t)
			zeqZ(t, "ZREVRANGEBYSCORE LIMIT", got, want)
		}
		// Remove a rank range, then a score range, and compare everything.
		zeq(t, "ZREMRANGEBYRANK", zmust(c.ZRemRangeByRank(ctx, "z", 100, 299).Result())(t), 200)
		model = append(model[:100:100], model[300:]...)
		zeq(t, "ZREMRANGEBYSCORE", zmust(c.ZRemRangeByScore(ctx, "z", "10", "(20").Result())(t), int64(countIn(model, 10, 20)))
		model = slices.DeleteFunc(model, func(z redis.Z) bool { return z.Score >= 10 && z.Score < 20 })
		zeqZ(t, "whole set", zmust(c.ZRangeWithScores(ctx, "z", 0, -1).Result())(t), model)
	})
}

func countIn(m zmodel, lo, hi float64) int {
	n := 0
	for _, z := range m {
		if z.Score >= lo && z.Score < hi {
			n++
		}
	}
	return n
}

// A sorted set of a million members (pipelined ZADDs of 1000 members)
// survives a restart: ZRANGE 0 -1 WITHSCORES hashes the same. With the zset
// invariant checks on (-race), building is O(n^2), so the set is smaller.
func TestZSet_RestartLarge(t *testing.T) {
	n := 1_000_000
	if zsetInvariantsOn() {
		n = 3000
	} else if testing.Short() {
		n = 100_000
	}
	dir := t.TempDir()
	node := testNodeIn(t, dir)
	c := newClient(t, node.Addr(), 3)
	r := rand.New(rand.NewPCG(7, 7))
	const batch = 1000
	for i := 0; i < n; {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for k := 0; k < 50 && i < n; k++ {
				members := make([]redis.Z, 0, batch)
				for j := 0; j < batch && i < n; j, i = j+1, i+1 {
					score := float64(r.IntN(n/10)) + float64(r.IntN(4))/4 // ties and fractions
					members = append(members, redis.Z{Score: score, Member: "member:" + strconv.Itoa(i)})
				}
				p.ZAdd(ctx, "board", members...)
			}
			return nil
		})
		must(t, err)
	}
	zmust(c.ZAdd(ctx, "board", zs(math.Inf(1), "top", math.Inf(-1), "bottom", 1e308, "huge", 5e-324, "tiny")...).Result())(t)
	want := zsetHash(t, c, "board")
	zeq(t, "ZCARD", zmust(c.ZCard(ctx, "board").Result())(t), int64(n+4))
	c.Close()
	must(t, node.Close())

	node2 := testNodeIn(t, dir)
	c2 := newClient(t, node2.Addr(), 2)
	zeq(t, "ZCARD after restart", zmust(c2.ZCard(ctx, "board").Result())(t), int64(n+4))
	zeq(t, "ZRANGE hash after restart", zsetHash(t, c2, "board"), want)
	zeq(t, "ZREVRANK top", zmust(c2.ZRevRank(ctx, "board", "top").Result())(t), 0)
}

// zsetHash hashes ZRANGE key 0 -1 WITHSCORES.
func zsetHash(t *testing.T, c *redis.Client, key string) string {
	t.Helper()
	h := sha256.New()
	for _, z := range zmust(c.ZRangeWithScores(ctx, key, 0, -1).Result())(t) {
		fmt.Fprintf(h, "%s\x00%s\x00", z.Member, strconv.FormatFloat(z.Score, 'g', -1, 64))
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
