package commands

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"cairn/resp"
)

// Benchmarks of the sorted-set hot paths through the handler layer: each
// operation is Server.ServeRESP on a connection without a socket (lookup,
// arity, store.Update with its Pebble batch, the handler, the reply bytes),
// on a set of 10K and of 1M members. Run with
//
//	go test ./commands -run '^$' -bench 'BenchmarkZSet' -benchmem
//
// (not under -race: the zset invariant checks walk the whole set after
// every mutation).

// zbench is a node, a socketless connection and a prebuilt set "board".
type zbench struct {
	srv     *Server
	conn    *resp.Conn
	members [][]byte
	scores  [][]byte // random score arguments
}

func newZBench(b *testing.B, size int) *zbench {
	b.Helper()
	// The slow log would ask the socketless connection for its address.
	n := testNode(b, "slowlog-log-slower-than", "-1")
	z := &zbench{srv: n.Cmd, conn: &resp.Conn{W: resp.NewWriter()}}
	r := rand.New(rand.NewPCG(1, uint64(size)))
	for i := range 4093 { // odd: coprime with run's 1<<16 members
		z.scores = append(z.scores, []byte(strconv.Itoa(r.IntN(1_000_000))+"."+strconv.Itoa(i%100)))
	}
	for i := range size {
		z.members = append(z.members, []byte("player:"+strconv.Itoa(i)))
	}
	for i := 0; i < size; i += 1000 {
		args := [][]byte{[]byte("ZADD"), []byte("board")}
		for j := i; j < min(i+1000, size); j++ {
			args = append(args, []byte(strconv.Itoa(r.IntN(10_000_000))), z.members[j]) // few ties
		}
		z.do(b, args...)
	}
	if got := z.do(b, []byte("ZCARD"), []byte("board")); got != fmt.Sprintf(":%d\r\n", size) {
		b.Fatalf("ZCARD = %q", got)
	}
	return z
}

// do runs one command and returns its reply.
func (z *zbench) do(b *testing.B, args ...[]byte) string {
	z.conn.W.Reset()
	z.srv.ServeRESP(z.conn, args)
	out := string(z.conn.W.Buffered())
	if len(out) > 0 && out[0] == '-' {
		b.Fatalf("%q: %s", args, out)
	}
	return out
}

// run times the command tmpl, in which "%m" stands for a member drawn at
// random in advance and "%s" for a score; the pool of scores is coprime
// with the sequence of members, so an update rarely repeats a score.
func (z *zbench) run(b *testing.B, tmpl ...string) {
	args := make([][]byte, len(tmpl))
	mPos, sPos := -1, -1
	for i, a := range tmpl {
		switch a {
		case "%m":
			mPos = i
		case "%s":
			sPos = i
		default:
			args[i] = []byte(a)
		}
	}
	r := rand.New(rand.NewPCG(2, 2))
	idx := make([]int, 1<<16)
	for i := range idx {
		idx[i] = r.IntN(len(z.members))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if mPos >= 0 {
			args[mPos] = z.members[idx[i&(len(idx)-1)]]
		}
		if sPos >= 0 {
			args[sPos] = z.scores[i%len(z.scores)]
		}
		z.conn.W.Reset()
		z.srv.ServeRESP(z.conn, args)
	}
	b.StopTimer()
	if out := z.conn.W.Buffered(); len(out) == 0 || out[0] == '-' {
		b.Fatalf("last reply %q", out)
	}
}

var zbenchSizes = []struct {
	name string
	size int
}{{"10K", 10_000}, {"1M", 1_000_000}}

// zbenchEach runs fn for each set size, building each set once.
func zbenchEach(b *testing.B, fn func(b *testing.B, z *zbench)) {
	for _, s := range zbenchSizes {
		b.Run(s.name, func(b *testing.B) {
			fn(b, newZBench(b, s.size))
		})
	}
}

func BenchmarkZSet_ZRevRank(b *testing.B) {
	zbenchEach(b, func(b *testing.B, z *zbench) {
		z.run(b, "ZREVRANK", "board", "%m")
	})
}

// ZADD of an existing member with a new score (the leaderboard update).
func BenchmarkZSet_ZAdd(b *testing.B) {
	zbenchEach(b, func(b *testing.B, z *zbench) {
		z.run(b, "ZADD", "board", "%s", "%m")
	})
}

func BenchmarkZSet_ZIncrBy(b *testing.B) {
	zbenchEach(b, func(b *testing.B, z *zbench) {
		z.run(b, "ZINCRBY", "board", "1", "%m")
	})
}

func BenchmarkZSet_ZScore(b *testing.B) {
	zbenchEach(b, func(b *testing.B, z *zbench) {
		z.run(b, "ZSCORE", "board", "%m")
	})
}

// The top ten of the leaderboard.
func BenchmarkZSet_ZRevRangeTop10(b *testing.B) {
	zbenchEach(b, func(b *testing.B, z *zbench) {
		z.run(b, "ZREVRANGE", "board", "0", "9", "WITHSCORES")
	})
}
