package commands

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Differential tests of zsetops.go: every reply of the pops, the
// non-blocking paths of the blocking pops and the set operations must be
// byte-identical to redis-server 7.0's, in RESP2 and RESP3, including every
// error path. Blocking behaviour is tested in blocking_test.go.

// zopsForEachProto runs fn once per protocol against a fresh redis-server
// and Cairn pair (HELLO 3 on both connections for RESP3).
func zopsForEachProto(t *testing.T, fn func(t *testing.T, d *differ)) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			d := newDiffer(t)
			if proto == 3 {
				for _, c := range []*rawConn{d.redis, d.cairn} {
					if got := c.do("HELLO", "3"); !strings.HasPrefix(got, "%") {
						t.Fatalf("HELLO 3: %q", got)
					}
				}
			}
			fn(t, d)
		})
	}
}

// zc splits a command written with single spaces between arguments.
func zopsArgs(s string) []string { return strings.Split(s, " ") }

// zopsDiffCases are named groups of commands, each run from an empty
// keyspace; every reply is compared.
var zopsDiffCases = []struct {
	name string
	cmds [][]string
}{
	{"zpopmin-basic", [][]string{
		zopsArgs("ZADD z 1 a 2 b 3 c 4 d 5 e 1.5 f"),
		zopsArgs("ZPOPMIN z"),
		zopsArgs("ZPOPMIN z 1"),
		zopsArgs("ZPOPMIN z 2"),
		zopsArgs("ZPOPMIN z 0"),
		zopsArgs("zpopmin z 100"),
		zopsArgs("EXISTS z"),
		zopsArgs("ZPOPMIN z"),
		zopsArgs("ZPOPMIN z 3"),
		zopsArgs("ZPOPMIN z 0"),
		zopsArgs("ZPOPMIN nokey"),
		zopsArgs("ZPOPMIN nokey 2"),
	}},
	{"zpopmax-basic", [][]string{
		zopsArgs("ZADD z 1 a 2 b 3 c 4 d 5 e 5 ee"),
		zopsArgs("ZPOPMAX z"),
		zopsArgs("ZPOPMAX z 1"),
		zopsArgs("ZPOPMAX z 2"),
		zopsArgs("ZPOPMAX z 9223372036854775807"),
		zopsArgs("EXISTS z"),
		zopsArgs("ZPOPMAX nokey"),
	}},
	{"zpop-ties-and-special-scores", [][]string{
		zopsArgs("ZADD z 0 c 0 a 0 b -inf lo +inf hi 0.1 x 1e20 big -2.5 neg"),
		zopsArgs("ZPOPMIN z 2"),
		zopsArgs("ZPOPMAX z 2"),
		zopsArgs("ZPOPMIN z 3"),
		zopsArgs("ZPOPMAX z"),
		zopsArgs("ZRANGE z 0 -1 WITHSCORES"),
	}},
	{"zpop-errors", [][]string{
		zopsArgs("ZADD z 1 a"),
		zopsArgs("SET s v"),
		zopsArgs("ZPOPMIN z -1"),
		zopsArgs("ZPOPMIN z x"),
		zopsArgs("ZPOPMIN z 1.5"),
		zopsArgs("ZPOPMIN z 1 extra"),
		zopsArgs("ZPOPMIN nokey -1"),
		zopsArgs("ZPOPMIN s -1"),
		zopsArgs("ZPOPMIN s 0"),
		zopsArgs("ZPOPMIN s"),
		zopsArgs("ZPOPMAX s 2"),
		zopsArgs("ZPOPMAX z 99999999999999999999"),
		zopsArgs("ZPOPMIN"),
		zopsArgs("ZPOPMAX"),
		zopsArgs("GET s"),
	}},
	{"zpop-large-set", [][]string{
		zaddMany("big", 200),
		zopsArgs("ZPOPMIN big 3"),
		zopsArgs("ZPOPMAX big 3"),
		zopsArgs("ZPOPMIN big 150"),
		zopsArgs("ZCARD big"),
		zopsArgs("ZPOPMAX big 100"),
		zopsArgs("EXISTS big"),
	}},
	{"zmpop", [][]string{
		zopsArgs("ZADD z1 1 a 2 b 3 c"),
		zopsArgs("ZADD z2 10 x 20 y"),
		zopsArgs("ZMPOP 1 z1 MIN"),
		zopsArgs("ZMPOP 1 z1 max"),
		zopsArgs("ZMPOP 2 nokey z2 MiN COUNT 1"),
		zopsArgs("ZMPOP 3 nokey z1 z2 MAX count 10"),
		zopsArgs("EXISTS z1"),
		zopsArgs("ZMPOP 2 z1 z2 MIN COUNT 5"),
		zopsArgs("ZMPOP 2 z1 z2 MIN"),
		zopsArgs("ZMPOP 1 nokey MAX COUNT 2"),
	}},
	{"zmpop-errors", [][]string{
		zopsArgs("ZADD z 1 a 2 b"),
		zopsArgs("SET s v"),
		zopsArgs("ZMPOP 0 z MIN"),
		zopsArgs("ZMPOP -1 z MIN"),
		zopsArgs("ZMPOP x z MIN"),
		zopsArgs("ZMPOP 1.0 z MIN"),
		zopsArgs("ZMPOP 2 z MIN"),
		zopsArgs("ZMPOP 9223372036854775807 z MIN"),
		zopsArgs("ZMPOP 1 z foo"),
		zopsArgs("ZMPOP 1 z MIN COUNT"),
		zopsArgs("ZMPOP 1 z MIN COUNT 0"),
		zopsArgs("ZMPOP 1 z MIN COUNT -1"),
		zopsArgs("ZMPOP 1 z MIN COUNT x"),
		zopsArgs("ZMPOP 1 z MIN COUNT 1 COUNT 1"),
		zopsArgs("ZMPOP 1 z MIN foo"),
		zopsArgs("ZMPOP 1 z MIN COUNT 1 foo"),
		zopsArgs("ZMPOP 0 z foo COUNT 0"),
		zopsArgs("ZMPOP 1 z foo COUNT 0"),
		zopsArgs("ZMPOP 2 nokey s MIN"),
		zopsArgs("ZMPOP 2 s z MIN"),
		zopsArgs("ZMPOP 2 z s MIN"),
		zopsArgs("ZMPOP 1 z"),
		zopsArgs("ZMPOP 1"),
	}},
	{"bzpop-nonblocking", [][]string{
		zopsArgs("ZADD z1 1 a 2 b 3 c"),
		zopsArgs("ZADD z2 5 x"),
		zopsArgs("BZPOPMIN z1 0"),
		zopsArgs("BZPOPMAX z1 0"),
		zopsArgs("BZPOPMIN nokey z2 z1 0"),
		zopsArgs("BZPOPMAX nokey z1 z2 1"),
		zopsArgs("EXISTS z1 z2"),
		zopsArgs("BZPOPMIN z2 0.01"),
		zopsArgs("BZPOPMAX z1 z2 0.01"),
		zopsArgs("ZADD z3 1.5 m -inf n"),
		zopsArgs("BZPOPMIN z3 0x10"),
		zopsArgs("BZPOPMAX z3 1e-400"),
	}},
	{"bzpop-timeouts", [][]string{
		zopsArgs("BZPOPMIN nokey 0.01"),
		zopsArgs("BZPOPMAX nokey1 nokey2 0.01"),
		zopsArgs("BZPOPMIN nokey 0.0000001"),
		zopsArgs("BZPOPMIN nokey 1e-400"),
		zopsArgs("BZPOPMIN nokey 0x1p-20"),
		zopsArgs("BZPOPMAX nokey 0.0009"),
		zopsArgs("BZPOPMIN nokey 1E-3"),
	}},
	{"bzpop-errors", [][]string{
		zopsArgs("ZADD z 1 a"),
		zopsArgs("SET s v"),
		zopsArgs("BZPOPMIN z -1"),
		zopsArgs("BZPOPMIN z -0.0011"),
		zopsArgs("BZPOPMIN z abc"),
		zopsArgs("BZPOPMIN z nan"),
		zopsArgs("BZPOPMIN z inf"),
		zopsArgs("BZPOPMIN z -inf"),
		zopsArgs("BZPOPMIN z 1e300"),
		zopsArgs("BZPOPMIN z 1e400"),
		zopsArgs("BZPOPMIN z 9.3e15"),
		zopsArgs("BZPOPMIN z 1e16"),
		{"BZPOPMIN", "z", ""},
		{"BZPOPMIN", "z", " 1"},
		{"BZPOPMIN", "z", "1 "},
		zopsArgs("BZPOPMIN s 0"),
		zopsArgs("BZPOPMIN nokey s z 0"),
		zopsArgs("BZPOPMIN z s 0"),
		zopsArgs("BZPOPMAX s -1"),
		zopsArgs("BZPOPMIN z"),
		zopsArgs("BZPOPMAX z"),
	}},
	{"bzmpop", [][]string{
		zopsArgs("ZADD z1 1 a 2 b 3 c"),
		zopsArgs("ZADD z2 10 x 20 y"),
		zopsArgs("BZMPOP 0 1 z1 MIN"),
		zopsArgs("BZMPOP 0.01 2 nokey z1 MAX COUNT 5"),
		zopsArgs("BZMPOP 1 2 z1 z2 min count 1"),
		zopsArgs("BZMPOP 0 1 z2 MAX COUNT 9"),
		zopsArgs("BZMPOP 0.01 2 z1 z2 MIN"),
		zopsArgs("BZMPOP 0.01 1 nokey MAX COUNT 3"),
	}},
	{"bzmpop-errors", [][]string{
		zopsArgs("ZADD z 1 a"),
		zopsArgs("SET s v"),
		zopsArgs("BZMPOP 0 0 z MIN"),
		zopsArgs("BZMPOP x 0 z MIN"),
		zopsArgs("BZMPOP -1 0 z MIN"),
		zopsArgs("BZMPOP -1 1 z foo"),
		zopsArgs("BZMPOP -1 1 z MIN COUNT 0"),
		zopsArgs("BZMPOP -1 1 z MIN"),
		zopsArgs("BZMPOP x 1 z MIN"),
		zopsArgs("BZMPOP inf 1 z MIN"),
		zopsArgs("BZMPOP 0 2 z MIN"),
		zopsArgs("BZMPOP 0 1 z MIN COUNT 1 COUNT 2"),
		zopsArgs("BZMPOP 0 x z MIN"),
		zopsArgs("BZMPOP 0 2 nokey s MIN"),
		zopsArgs("BZMPOP 0 1 s MIN"),
		zopsArgs("BZMPOP 0 1 z"),
	}},
	{"blocking-in-multi", [][]string{
		zopsArgs("MULTI"),
		zopsArgs("BZPOPMIN nokey 0"),
		zopsArgs("BZPOPMAX nokey 0"),
		zopsArgs("BZMPOP 0 1 nokey MIN"),
		zopsArgs("ZADD z 1 a 2 b 3 c"),
		zopsArgs("BZPOPMIN nokey z 0"),
		zopsArgs("BZMPOP 0 1 z MAX COUNT 5"),
		zopsArgs("BZPOPMIN z 0"),
		zopsArgs("BZPOPMIN z -1"),
		zopsArgs("EXEC"),
		zopsArgs("MULTI"),
		zopsArgs("BZPOPMIN z"),
		zopsArgs("EXEC"),
	}},
	{"zunion-zinter-basic", [][]string{
		zopsArgs("ZADD a 1 x 2 y 3 z"),
		zopsArgs("ZADD b 10 y 20 z 30 w"),
		zopsArgs("ZUNION 2 a b"),
		zopsArgs("ZUNION 2 a b WITHSCORES"),
		zopsArgs("ZINTER 2 a b"),
		zopsArgs("ZINTER 2 a b withscores"),
		zopsArgs("ZUNION 1 a WITHSCORES"),
		zopsArgs("ZUNION 3 a nokey b WITHSCORES"),
		zopsArgs("ZINTER 3 a nokey b WITHSCORES"),
		zopsArgs("ZINTER 1 nokey"),
		zopsArgs("ZUNION 1 nokey WITHSCORES"),
		zopsArgs("ZUNION 2 a a WITHSCORES"),
		zopsArgs("ZINTER 2 a a WITHSCORES"),
		zopsArgs("ZUNION 2 a b WEIGHTS 2 3 WITHSCORES"),
		zopsArgs("ZINTER 2 a b WEIGHTS 2 -1 WITHSCORES"),
		zopsArgs("ZUNION 2 a b AGGREGATE MIN WITHSCORES"),
		zopsArgs("ZUNION 2 a b AGGREGATE max WITHSCORES"),
		zopsArgs("ZUNION 2 a b aggregate sum WITHSCORES"),
		zopsArgs("ZINTER 2 a b AGGREGATE MIN WITHSCORES"),
		zopsArgs("ZINTER 2 a b AGGREGATE MAX WEIGHTS 1 0.5 WITHSCORES"),
		zopsArgs("ZUNION 2 a b WEIGHTS 1 2 WEIGHTS 3 4 AGGREGATE MIN AGGREGATE MAX WITHSCORES WITHSCORES"),
		zopsArgs("ZUNION 2 a b WITHSCORES AGGREGATE MIN"),
		zopsArgs("ZUNION 2 a b WEIGHTS 0x10 1e2 WITHSCORES"),
	}},
	{"zdiff-basic", [][]string{
		zopsArgs("ZADD a 1 x 2 y 3 z 4 v"),
		zopsArgs("ZADD b 10 y 30 w"),
		zopsArgs("ZADD c 5 v"),
		zopsArgs("ZDIFF 1 a"),
		zopsArgs("ZDIFF 2 a b"),
		zopsArgs("ZDIFF 2 a b WITHSCORES"),
		zopsArgs("ZDIFF 3 a b c WITHSCORES"),
		zopsArgs("ZDIFF 3 a nokey c WITHSCORES"),
		zopsArgs("ZDIFF 2 nokey a"),
		zopsArgs("ZDIFF 2 a a"),
		zopsArgs("ZDIFF 3 a b a WITHSCORES"),
		zopsArgs("ZDIFF 2 b a WITHSCORES"),
		zopsArgs("ZDIFF 1 a withscores withscores"),
	}},
	{"zintercard", [][]string{
		zopsArgs("ZADD a 1 x 2 y 3 z 4 v"),
		zopsArgs("ZADD b 10 y 30 z 40 v 50 w"),
		zopsArgs("ZINTERCARD 2 a b"),
		zopsArgs("ZINTERCARD 2 a b LIMIT 0"),
		zopsArgs("ZINTERCARD 2 a b LIMIT 1"),
		zopsArgs("ZINTERCARD 2 a b limit 2"),
		zopsArgs("ZINTERCARD 2 a b LIMIT 100"),
		zopsArgs("ZINTERCARD 2 a b LIMIT 1 LIMIT 3"),
		zopsArgs("ZINTERCARD 1 a"),
		zopsArgs("ZINTERCARD 2 a nokey"),
		zopsArgs("ZINTERCARD 2 a a"),
	}},
	{"store", [][]string{
		zopsArgs("ZADD a 1 x 2 y 3 z"),
		zopsArgs("ZADD b 10 y 20 z 30 w"),
		zopsArgs("ZUNIONSTORE d 2 a b"),
		zopsArgs("ZRANGE d 0 -1 WITHSCORES"),
		zopsArgs("ZINTERSTORE d 2 a b WEIGHTS 2 1 AGGREGATE MAX"),
		zopsArgs("ZRANGE d 0 -1 WITHSCORES"),
		zopsArgs("ZDIFFSTORE d 2 b a"),
		zopsArgs("ZRANGE d 0 -1 WITHSCORES"),
		zopsArgs("ZUNIONSTORE a 2 a b"),
		zopsArgs("ZRANGE a 0 -1 WITHSCORES"),
		zopsArgs("ZINTERSTORE b 2 a b"),
		zopsArgs("ZRANGE b 0 -1 WITHSCORES"),
		zopsArgs("ZDIFFSTORE a 2 a a"),
		zopsArgs("EXISTS a"),
		zopsArgs("SET s v"),
		zopsArgs("ZINTERSTORE s 2 b nokey"),
		zopsArgs("EXISTS s"),
		zopsArgs("ZUNIONSTORE s 1 nokey"),
		zopsArgs("SET s v"),
		zopsArgs("ZUNIONSTORE s 1 b"),
		zopsArgs("TYPE s"),
		zopsArgs("ZRANGE s 0 -1 WITHSCORES"),
		zopsArgs("PEXPIRE s 100000"),
		zopsArgs("ZDIFFSTORE s 1 b"),
		zopsArgs("TTL s"),
		zopsArgs("ZDIFFSTORE nothere 1 nokey"),
		zopsArgs("EXISTS nothere"),
		zopsArgs("ZUNIONSTORE d 1 b WEIGHTS 3"),
		zopsArgs("ZRANGE d 0 -1 WITHSCORES"),
	}},
	{"special-scores", [][]string{
		zopsArgs("ZADD z 0 a 1 b -1 c"),
		zopsArgs("ZADD inf inf a -inf b"),
		zopsArgs("ZUNION 1 z WEIGHTS -1 WITHSCORES"),
		zopsArgs("ZINTER 1 z WEIGHTS -1 WITHSCORES"),
		zopsArgs("ZUNIONSTORE d 1 z WEIGHTS -1"),
		zopsArgs("ZRANGE d 0 -1 WITHSCORES"),
		zopsArgs("ZUNION 2 inf inf WITHSCORES"),
		zopsArgs("ZUNION 2 inf inf WEIGHTS 1 -1 WITHSCORES"),
		zopsArgs("ZUNION 1 inf WEIGHTS 0 WITHSCORES"),
		zopsArgs("ZINTER 2 inf inf WEIGHTS 1 -1 WITHSCORES"),
		zopsArgs("ZINTER 2 inf inf WEIGHTS 1 0 WITHSCORES"),
		zopsArgs("ZINTER 2 inf inf WEIGHTS 1 0 AGGREGATE MIN WITHSCORES"),
		zopsArgs("ZINTER 2 inf inf WEIGHTS 1 0 AGGREGATE MAX WITHSCORES"),
		zopsArgs("ZINTER 2 inf inf WEIGHTS 0 1 AGGREGATE MIN WITHSCORES"),
		zopsArgs("ZUNION 2 inf inf WEIGHTS 1 -1 AGGREGATE MIN WITHSCORES"),
		zopsArgs("ZUNION 2 inf inf WEIGHTS 1 -1 AGGREGATE MAX WITHSCORES"),
		zopsArgs("ZUNION 1 z WEIGHTS inf WITHSCORES"),
		zopsArgs("ZUNION 1 z WEIGHTS -inf WITHSCORES"),
		zopsArgs("ZADD f 0.1 a 0.2 b 1e16 c"),
		zopsArgs("ZADD g 0.2 a 0.1 b 1 c"),
		zopsArgs("ZADD h 0.3 a 0.3 b 1 c 7 d"),
		zopsArgs("ZUNION 3 h g f WITHSCORES"),
		zopsArgs("ZUNION 3 f g h WITHSCORES"),
		zopsArgs("ZINTER 3 h g f WITHSCORES"),
		zopsArgs("ZUNION 3 f g h WEIGHTS 0.1 3 1e-3 WITHSCORES"),
		zopsArgs("ZINTERSTORE d 3 f g h"),
		zopsArgs("ZRANGE d 0 -1 WITHSCORES"),
	}},
	{"set-op-errors", [][]string{
		zopsArgs("ZADD z 1 a"),
		zopsArgs("SET s v"),
		zopsArgs("ZUNION 0 z"),
		zopsArgs("ZINTER -1 z"),
		zopsArgs("ZDIFF 0 z"),
		zopsArgs("ZINTERCARD 0 z"),
		zopsArgs("ZUNIONSTORE d 0 z"),
		zopsArgs("ZINTERSTORE d -5 z"),
		zopsArgs("ZDIFFSTORE d 0 z"),
		zopsArgs("ZUNION x z"),
		zopsArgs("ZUNIONSTORE d 1.5 z"),
		zopsArgs("ZUNION 2 z"),
		zopsArgs("ZINTERSTORE d 3 z z"),
		zopsArgs("ZUNION 9223372036854775807 z"),
		zopsArgs("ZUNION 2 z s"),
		zopsArgs("ZUNION 2 s z WEIGHTS x"),
		zopsArgs("ZINTER 2 z s WEIGHTS 1 1"),
		zopsArgs("ZDIFF 2 z s"),
		zopsArgs("ZINTERCARD 2 s z"),
		zopsArgs("ZUNIONSTORE d 2 z s"),
		zopsArgs("ZUNION 2 z z WEIGHTS 1"),
		zopsArgs("ZUNION 2 z z WEIGHTS 1 x"),
		zopsArgs("ZUNION 2 z z WEIGHTS 1 nan"),
		zopsArgs("ZUNION 2 z z WEIGHTS 1 1e400"),
		zopsArgs("ZUNION 2 z z WEIGHTS 1 1e-400"),
		{"ZUNION", "2", "z", "z", "WEIGHTS", "1", " 1"},
		{"ZUNION", "2", "z", "z", "WEIGHTS", "1", ""},
		zopsArgs("ZUNION 2 z z WEIGHTS 1 1 1"),
		zopsArgs("ZUNION 1 z AGGREGATE"),
		zopsArgs("ZUNION 1 z AGGREGATE avg"),
		zopsArgs("ZUNION 1 z FOO"),
		zopsArgs("ZUNIONSTORE d 1 z WITHSCORES"),
		zopsArgs("ZINTERSTORE d 1 z WITHSCORES"),
		zopsArgs("ZDIFFSTORE d 1 z WITHSCORES"),
		zopsArgs("ZDIFF 1 z WEIGHTS 1"),
		zopsArgs("ZDIFF 1 z AGGREGATE SUM"),
		zopsArgs("ZDIFFSTORE d 1 z AGGREGATE MIN"),
		zopsArgs("ZINTERCARD 1 z WITHSCORES"),
		zopsArgs("ZINTERCARD 1 z WEIGHTS 1"),
		zopsArgs("ZINTERCARD 1 z AGGREGATE SUM"),
		zopsArgs("ZINTERCARD 1 z LIMIT"),
		zopsArgs("ZINTERCARD 1 z LIMIT -1"),
		zopsArgs("ZINTERCARD 1 z LIMIT x"),
		zopsArgs("ZUNION 1 z LIMIT 1"),
		zopsArgs("ZUNION 1"),
		zopsArgs("ZUNIONSTORE d 1"),
		zopsArgs("ZINTERCARD 1"),
		zopsArgs("EXISTS d"),
	}},
	{"large-sets", [][]string{
		zaddMany("l1", 300),
		zaddMany("l2", 200),
		zopsArgs("ZUNION 2 l1 l2 WITHSCORES"),
		zopsArgs("ZINTER 2 l1 l2 WEIGHTS 1 -1 WITHSCORES"),
		zopsArgs("ZDIFF 2 l1 l2"),
		zopsArgs("ZINTERCARD 2 l1 l2 LIMIT 50"),
		zopsArgs("ZUNIONSTORE d 2 l1 l2 AGGREGATE MAX"),
		zopsArgs("ZRANGE d 0 -1 WITHSCORES"),
		zopsArgs("ZDIFFSTORE d 2 l1 l2"),
		zopsArgs("ZCARD d"),
	}},
	{"getkeys", [][]string{
		zopsArgs("COMMAND GETKEYS ZUNIONSTORE d 2 a b"),
		zopsArgs("COMMAND GETKEYS ZUNIONSTORE d 2abc a b"),
		zopsArgs("COMMAND GETKEYS ZUNIONSTORE d +2 a b"),
		zopsArgs("COMMAND GETKEYS ZUNIONSTORE d 0 a b"),
		zopsArgs("COMMAND GETKEYS ZUNIONSTORE d 3 a b"),
		zopsArgs("COMMAND GETKEYS ZINTERSTORE d 1 a WEIGHTS 2"),
		zopsArgs("COMMAND GETKEYS ZDIFFSTORE d 2 a b"),
		zopsArgs("COMMAND GETKEYS ZUNION 2 a b WITHSCORES"),
		zopsArgs("COMMAND GETKEYS ZINTER 1 a"),
		zopsArgs("COMMAND GETKEYS ZDIFF 5 a b"),
		zopsArgs("COMMAND GETKEYS ZINTERCARD 2 a b LIMIT 1"),
		zopsArgs("COMMAND GETKEYS ZUNION +2 a b"),
		zopsArgs("COMMAND GETKEYS ZUNION 4294967298 a b"),
		zopsArgs("COMMAND GETKEYS ZMPOP 2 a b MIN"),
		zopsArgs("COMMAND GETKEYS ZMPOP 0 a b MIN"),
		zopsArgs("COMMAND GETKEYS BZMPOP 0 2 a b MIN"),
		zopsArgs("COMMAND GETKEYS BZPOPMIN a b c 0"),
		zopsArgs("COMMAND GETKEYS ZPOPMIN a 2"),
		zopsArgs("COMMAND GETKEYSANDFLAGS ZUNIONSTORE d 2 a b"),
		zopsArgs("COMMAND GETKEYSANDFLAGS ZMPOP 1 a MIN"),
		zopsArgs("COMMAND GETKEYSANDFLAGS BZPOPMAX a b 0"),
		zopsArgs("COMMAND GETKEYSANDFLAGS ZINTER 2 a b"),
	}},
}

// zaddMany is ZADD key with n members whose scores repeat and mix
// integers and fractions, so ties and ordering by member are exercised.
func zaddMany(key string, n int) []string {
	args := []string{"ZADD", key}
	for i := range n {
		args = append(args, strconv.FormatFloat(float64(i%37)/4, 'g', -1, 64), "m"+strconv.Itoa(i*7%n))
	}
	return args
}

func TestZSetOpsDiff_Commands(t *testing.T) {
	zopsForEachProto(t, func(t *testing.T, d *differ) {
		ran := 0
		for _, tc := range zopsDiffCases {
			t.Run(tc.name, func(t *testing.T) {
				sd := &differ{t: t, redis: d.redis, cairn: d.cairn}
				sd.do("FLUSHALL")
				for _, args := range tc.cmds {
					sd.do(args...)
					ran++
				}
			})
		}
		if ran < 300 {
			t.Fatalf("only %d commands compared", ran)
		}
	})
}

// TestZSetOpsDiff_RandomSetOps compares random set operations on random
// sorted sets (shared members, repeated and special scores, several sizes)
// with random weights and aggregates: the order in which Redis adds the
// weighted scores shows in the last bits of each sum.
func TestZSetOpsDiff_RandomSetOps(t *testing.T) {
	seed := rand.Uint64()
	if s := os.Getenv("CAIRN_TEST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set CAIRN_TEST_SEED to replay)", seed)
	zopsForEachProto(t, func(t *testing.T, d *differ) {
		r := rand.New(rand.NewPCG(seed, 1))
		keys := []string{"k0", "k1", "k2", "k3", "k4", "nokey"}
		scores := []string{"0", "1", "-1", "0.1", "0.2", "0.3", "1e16", "-1e16", "2.5", "inf", "-inf", "3", "1e-5"}
		weights := []string{"1", "0", "-1", "0.5", "3", "0.1", "inf", "1e16"}
		for _, k := range keys[:5] {
			args := []string{"ZADD", k}
			for range 1 + r.IntN(12) {
				args = append(args, scores[r.IntN(len(scores))], "m"+strconv.Itoa(r.IntN(15)))
			}
			d.do(args...)
		}
		for range 150 {
			n := 1 + r.IntN(4)
			src := make([]string, n)
			for i := range src {
				src[i] = keys[r.IntN(len(keys))]
			}
			var args []string
			op := []string{"ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZINTERCARD"}[r.IntN(7)]
			store := strings.HasSuffix(op, "STORE")
			if store {
				args = append(args, op, "dst", strconv.Itoa(n))
			} else {
				args = append(args, op, strconv.Itoa(n))
			}
			args = append(args, src...)
			if op != "ZDIFF" && op != "ZDIFFSTORE" && op != "ZINTERCARD" {
				if r.IntN(2) == 0 {
					args = append(args, "WEIGHTS")
					for range n {
						args = append(args, weights[r.IntN(len(weights))])
					}
				}
				if r.IntN(2) == 0 {
					args = append(args, "AGGREGATE", []string{"SUM", "MIN", "MAX"}[r.IntN(3)])
				}
			}
			if op == "ZINTERCARD" && r.IntN(2) == 0 {
				args = append(args, "LIMIT", strconv.Itoa(r.IntN(4)))
			}
			if !store && op != "ZINTERCARD" && r.IntN(3) > 0 {
				args = append(args, "WITHSCORES")
			}
			d.do(args...)
			if store {
				d.do("ZRANGE", "dst", "0", "-1", "WITHSCORES")
			}
			if t.Failed() {
				return
			}
		}
	})
}
