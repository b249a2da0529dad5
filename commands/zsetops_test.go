package commands

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis tests of zsetops.go in RESP2 and RESP3: the pops, the
// non-blocking paths of the blocking pops and the set operations as a
// client library sees them. Exact bytes are in zsetops_diff_test.go, waits
// in blocking_test.go.

func zopsSeed(t *testing.T, c *redis.Client, key string, zs ...redis.Z) {
	t.Helper()
	n, err := c.ZAdd(ctx, key, zs...).Result()
	if err != nil || n != int64(len(zs)) {
		t.Fatalf("ZADD %s: %d, %v", key, n, err)
	}
}

func zopsWant[T any](t *testing.T, what string, got T, err error, want T) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s = %#v, want %#v", what, got, want)
	}
}

func TestZSetOps_PopMinMax(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zopsSeed(t, c, "z", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"},
			redis.Z{Score: 3, Member: "c"}, redis.Z{Score: 4.5, Member: "d"})
		t.Run("min-one", func(t *testing.T) {
			got, err := c.ZPopMin(ctx, "z").Result()
			zopsWant(t, "ZPOPMIN z", got, err, []redis.Z{{Score: 1, Member: "a"}})
		})
		t.Run("max-count", func(t *testing.T) {
			got, err := c.ZPopMax(ctx, "z", 2).Result()
			zopsWant(t, "ZPOPMAX z 2", got, err, []redis.Z{{Score: 4.5, Member: "d"}, {Score: 3, Member: "c"}})
		})
		t.Run("count-zero", func(t *testing.T) {
			got, err := c.ZPopMin(ctx, "z", 0).Result()
			zopsWant(t, "ZPOPMIN z 0", got, err, []redis.Z{})
		})
		t.Run("last-member-deletes-key", func(t *testing.T) {
			got, err := c.ZPopMin(ctx, "z", 10).Result()
			zopsWant(t, "ZPOPMIN z 10", got, err, []redis.Z{{Score: 2, Member: "b"}})
			n, err := c.Exists(ctx, "z").Result()
			zopsWant(t, "EXISTS z", n, err, int64(0))
		})
		t.Run("missing-key", func(t *testing.T) {
			got, err := c.ZPopMax(ctx, "z").Result()
			zopsWant(t, "ZPOPMAX missing", got, err, []redis.Z{})
		})
		t.Run("negative-count", func(t *testing.T) {
			err := c.ZPopMin(ctx, "z", -1).Err()
			if err == nil || err.Error() != "ERR value is out of range, must be positive" {
				t.Fatalf("ZPOPMIN z -1: %v", err)
			}
		})
		t.Run("wrong-type", func(t *testing.T) {
			must(t, c.Set(ctx, "s", "v", 0).Err())
			if err := c.ZPopMin(ctx, "s").Err(); err == nil || err.Error() != errWrongType {
				t.Fatalf("ZPOPMIN string: %v", err)
			}
		})
	})
}

func TestZSetOps_MPop(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zopsSeed(t, c, "z2", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"}, redis.Z{Score: 3, Member: "c"})
		t.Run("first-non-empty-key", func(t *testing.T) {
			key, got, err := c.ZMPop(ctx, "max", 2, "z1", "z2").Result()
			zopsWant(t, "ZMPOP key", key, err, "z2")
			zopsWant(t, "ZMPOP members", got, err, []redis.Z{{Score: 3, Member: "c"}, {Score: 2, Member: "b"}})
		})
		t.Run("min", func(t *testing.T) {
			key, got, err := c.ZMPop(ctx, "min", 5, "z2").Result()
			zopsWant(t, "ZMPOP key", key, err, "z2")
			zopsWant(t, "ZMPOP members", got, err, []redis.Z{{Score: 1, Member: "a"}})
		})
		t.Run("all-empty-is-nil", func(t *testing.T) {
			if err := c.ZMPop(ctx, "min", 1, "z1", "z2").Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("ZMPOP on empty keys: %v, want redis.Nil", err)
			}
		})
		t.Run("bad-count", func(t *testing.T) {
			err := c.ZMPop(ctx, "min", 0, "z1").Err()
			if err == nil || err.Error() != "ERR count should be greater than 0" {
				t.Fatalf("ZMPOP COUNT 0: %v", err)
			}
		})
	})
}

func TestZSetOps_BlockingPopWithData(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zopsSeed(t, c, "z", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"}, redis.Z{Score: 3, Member: "c"})
		t.Run("bzpopmin", func(t *testing.T) {
			got, err := c.BZPopMin(ctx, time.Second, "none", "z").Result()
			if err != nil {
				t.Fatal(err)
			}
			zopsWant(t, "BZPOPMIN", *got, nil, redis.ZWithKey{Key: "z", Z: redis.Z{Score: 1, Member: "a"}})
		})
		t.Run("bzpopmax", func(t *testing.T) {
			got, err := c.BZPopMax(ctx, 0, "z").Result()
			if err != nil {
				t.Fatal(err)
			}
			zopsWant(t, "BZPOPMAX", *got, nil, redis.ZWithKey{Key: "z", Z: redis.Z{Score: 3, Member: "c"}})
		})
		t.Run("bzmpop", func(t *testing.T) {
			key, got, err := c.BZMPop(ctx, time.Second, "min", 10, "none", "z").Result()
			zopsWant(t, "BZMPOP key", key, err, "z")
			zopsWant(t, "BZMPOP members", got, err, []redis.Z{{Score: 2, Member: "b"}})
		})
		t.Run("timeout-is-nil", func(t *testing.T) {
			// go-redis rounds timeouts up to 1s; Do sends 10ms.
			for _, args := range [][]any{{"bzpopmin", "z", "0.01"}, {"bzpopmax", "z", "y", "0.01"}, {"bzmpop", "0.01", 1, "z", "max"}} {
				if err := c.Do(ctx, args...).Err(); !errors.Is(err, redis.Nil) {
					t.Fatalf("%v: %v, want redis.Nil", args, err)
				}
			}
		})
	})
}

func TestZSetOps_UnionInterDiff(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zopsSeed(t, c, "a", redis.Z{Score: 1, Member: "x"}, redis.Z{Score: 2, Member: "y"}, redis.Z{Score: 3, Member: "z"})
		zopsSeed(t, c, "b", redis.Z{Score: 10, Member: "y"}, redis.Z{Score: 20, Member: "z"}, redis.Z{Score: 30, Member: "w"})
		t.Run("zunion", func(t *testing.T) {
			got, err := c.ZUnion(ctx, redis.ZStore{Keys: []string{"a", "b"}}).Result()
			zopsWant(t, "ZUNION", got, err, []string{"x", "y", "z", "w"})
		})
		t.Run("zunion-weights-withscores", func(t *testing.T) {
			got, err := c.ZUnionWithScores(ctx, redis.ZStore{Keys: []string{"a", "b"}, Weights: []float64{2, 0.5}}).Result()
			zopsWant(t, "ZUNION WEIGHTS", got, err, []redis.Z{{Score: 2, Member: "x"}, {Score: 9, Member: "y"}, {Score: 15, Member: "w"}, {Score: 16, Member: "z"}})
		})
		t.Run("zunion-aggregate-min", func(t *testing.T) {
			got, err := c.ZUnionWithScores(ctx, redis.ZStore{Keys: []string{"a", "b"}, Aggregate: "MIN"}).Result()
			zopsWant(t, "ZUNION MIN", got, err, []redis.Z{{Score: 1, Member: "x"}, {Score: 2, Member: "y"}, {Score: 3, Member: "z"}, {Score: 30, Member: "w"}})
		})
		t.Run("zinter", func(t *testing.T) {
			got, err := c.ZInterWithScores(ctx, &redis.ZStore{Keys: []string{"a", "b"}, Aggregate: "MAX"}).Result()
			zopsWant(t, "ZINTER MAX", got, err, []redis.Z{{Score: 10, Member: "y"}, {Score: 20, Member: "z"}})
			names, err := c.ZInter(ctx, &redis.ZStore{Keys: []string{"a", "b"}}).Result()
			zopsWant(t, "ZINTER", names, err, []string{"y", "z"})
			got, err = c.ZInterWithScores(ctx, &redis.ZStore{Keys: []string{"a", "b"}, Weights: []float64{10, -1}, Aggregate: "SUM"}).Result()
			zopsWant(t, "ZINTER WEIGHTS SUM", got, err, []redis.Z{{Score: 10, Member: "y"}, {Score: 10, Member: "z"}})
		})
		t.Run("zintercard", func(t *testing.T) {
			n, err := c.ZInterCard(ctx, 0, "a", "b").Result()
			zopsWant(t, "ZINTERCARD", n, err, int64(2))
			n, err = c.ZInterCard(ctx, 1, "a", "b").Result()
			zopsWant(t, "ZINTERCARD LIMIT 1", n, err, int64(1))
		})
		t.Run("zdiff", func(t *testing.T) {
			got, err := c.ZDiffWithScores(ctx, "a", "b").Result()
			zopsWant(t, "ZDIFF", got, err, []redis.Z{{Score: 1, Member: "x"}})
			names, err := c.ZDiff(ctx, "b", "a", "missing").Result()
			zopsWant(t, "ZDIFF", names, err, []string{"w"})
		})
		t.Run("infinite-weights", func(t *testing.T) {
			got, err := c.ZUnionWithScores(ctx, redis.ZStore{Keys: []string{"a"}, Weights: []float64{math.Inf(-1)}}).Result()
			inf := math.Inf(-1) // equal scores: ordered by member
			zopsWant(t, "ZUNION WEIGHTS -inf", got, err, []redis.Z{{Score: inf, Member: "x"}, {Score: inf, Member: "y"}, {Score: inf, Member: "z"}})
		})
	})
}

func TestZSetOps_Store(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		zopsSeed(t, c, "a", redis.Z{Score: 1, Member: "x"}, redis.Z{Score: 2, Member: "y"})
		zopsSeed(t, c, "b", redis.Z{Score: 10, Member: "y"}, redis.Z{Score: 30, Member: "w"})
		t.Run("zunionstore", func(t *testing.T) {
			n, err := c.ZUnionStore(ctx, "d", &redis.ZStore{Keys: []string{"a", "b"}, Weights: []float64{1, 2}}).Result()
			zopsWant(t, "ZUNIONSTORE", n, err, int64(3))
			got, err := c.ZRangeWithScores(ctx, "d", 0, -1).Result()
			zopsWant(t, "ZRANGE d", got, err, []redis.Z{{Score: 1, Member: "x"}, {Score: 22, Member: "y"}, {Score: 60, Member: "w"}})
		})
		t.Run("zunionstore-aggregate", func(t *testing.T) {
			n, err := c.ZUnionStore(ctx, "d", &redis.ZStore{Keys: []string{"a", "b"}, Weights: []float64{5, 1}, Aggregate: "MAX"}).Result()
			zopsWant(t, "ZUNIONSTORE MAX", n, err, int64(3))
			got, err := c.ZRangeWithScores(ctx, "d", 0, -1).Result()
			zopsWant(t, "ZRANGE d", got, err, []redis.Z{{Score: 5, Member: "x"}, {Score: 10, Member: "y"}, {Score: 30, Member: "w"}})
		})
		t.Run("zinterstore-weights-min", func(t *testing.T) {
			n, err := c.ZInterStore(ctx, "d", &redis.ZStore{Keys: []string{"a", "b"}, Weights: []float64{100, 1}, Aggregate: "MIN"}).Result()
			zopsWant(t, "ZINTERSTORE MIN", n, err, int64(1))
			got, err := c.ZRangeWithScores(ctx, "d", 0, -1).Result()
			zopsWant(t, "ZRANGE d", got, err, []redis.Z{{Score: 10, Member: "y"}})
		})
		t.Run("zinterstore-into-source", func(t *testing.T) {
			n, err := c.ZInterStore(ctx, "a", &redis.ZStore{Keys: []string{"a", "b"}}).Result()
			zopsWant(t, "ZINTERSTORE a", n, err, int64(1))
			s, err := c.ZScore(ctx, "a", "y").Result()
			zopsWant(t, "ZSCORE a y", s, err, float64(12))
		})
		t.Run("zdiffstore-replaces-ttl-and-type", func(t *testing.T) {
			must(t, c.Set(ctx, "d2", "str", time.Hour).Err())
			n, err := c.ZDiffStore(ctx, "d2", "b", "a").Result()
			zopsWant(t, "ZDIFFSTORE", n, err, int64(1))
			ttl, err := c.TTL(ctx, "d2").Result()
			zopsWant(t, "TTL d2", ttl, err, time.Duration(-1))
			typ, err := c.Type(ctx, "d2").Result()
			zopsWant(t, "TYPE d2", typ, err, "zset")
		})
		t.Run("empty-result-deletes-destination", func(t *testing.T) {
			n, err := c.ZInterStore(ctx, "d", &redis.ZStore{Keys: []string{"a", "missing"}}).Result()
			zopsWant(t, "ZINTERSTORE empty", n, err, int64(0))
			e, err := c.Exists(ctx, "d").Result()
			zopsWant(t, "EXISTS d", e, err, int64(0))
		})
		t.Run("wrong-type-source", func(t *testing.T) {
			must(t, c.Set(ctx, "s", "v", 0).Err())
			err := c.ZUnionStore(ctx, "d", &redis.ZStore{Keys: []string{"a", "s"}}).Err()
			if err == nil || err.Error() != errWrongType {
				t.Fatalf("ZUNIONSTORE with a string: %v", err)
			}
		})
	})
}

// The stored results survive a restart: their members are written to the
// store, not only to the index.
func TestZSetOps_StoreSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	n := testNodeIn(t, dir)
	c := newClient(t, n.Addr(), 2)
	zopsSeed(t, c, "a", redis.Z{Score: 1, Member: "x"}, redis.Z{Score: 2, Member: "y"}, redis.Z{Score: 3, Member: "z"})
	zopsSeed(t, c, "b", redis.Z{Score: 5, Member: "y"})
	must(t, c.ZUnionStore(ctx, "u", &redis.ZStore{Keys: []string{"a", "b"}}).Err())
	must(t, c.ZDiffStore(ctx, "a", "a", "b").Err()) // replaces a source in place
	if got, err := c.ZPopMin(ctx, "u").Result(); err != nil || len(got) != 1 || got[0].Member != "x" {
		t.Fatalf("ZPOPMIN u: %v %v", got, err)
	}
	n.Close()
	n2 := testNodeIn(t, dir)
	c2 := newClient(t, n2.Addr(), 3)
	got, err := c2.ZRangeWithScores(ctx, "u", 0, -1).Result()
	zopsWant(t, "ZRANGE u after restart", got, err, []redis.Z{{Score: 3, Member: "z"}, {Score: 7, Member: "y"}})
	got, err = c2.ZRangeWithScores(ctx, "a", 0, -1).Result()
	zopsWant(t, "ZRANGE a after restart", got, err, []redis.Z{{Score: 1, Member: "x"}, {Score: 3, Member: "z"}})
}
