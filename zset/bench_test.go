package zset

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// benchMember is the i-th benchmark member: 19 bytes, "member:000000000001".
func benchMember(i int) string { return fmt.Sprintf("member:%012d", i) }

// benchSet is a Set of n members with random scores, built once per size.
type benchSet struct {
	s       *Set
	members []string
	picks   []int32 // random member indices
}

var benchSets = map[int]*benchSet{}

func getBenchSet(n int) *benchSet {
	if bs := benchSets[n]; bs != nil {
		return bs
	}
	clear(benchSets) // keep one size in memory at a time
	runtime.GC()
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	bs := &benchSet{s: New(), members: make([]string, n), picks: make([]int32, 1<<16)}
	for i := range n {
		bs.members[i] = benchMember(i)
		bs.s.Add(bs.members[i], rng.Float64()*1e9)
	}
	for i := range bs.picks {
		bs.picks[i] = int32(rng.IntN(n))
	}
	benchSets[n] = bs
	return bs
}

func benchSizes() []int {
	sizes := []int{10_000, 1_000_000}
	if os.Getenv("ZSET_BENCH_10M") != "" {
		sizes = append(sizes, 10_000_000)
	}
	return sizes
}

func sizeName(n int) string {
	switch {
	case n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n%1000 == 0:
		return strconv.Itoa(n/1000) + "K"
	}
	return strconv.Itoa(n)
}

// BenchmarkSet measures the hot operations on sets of 10K and 1M members
// (and 10M with ZSET_BENCH_10M=1), each set generated once.
func BenchmarkSet(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run("n="+sizeName(n), func(b *testing.B) {
			bs := getBenchSet(n)
			s := bs.s
			rng := rand.New(rand.NewPCG(2, 3))
			// Add: insert a new member. Batches are removed untimed, so
			// the set stays within 10% of n.
			b.Run("Add", func(b *testing.B) {
				batch := min(n/10, 10_000)
				fresh := make([]string, batch)
				for i := range fresh {
					fresh[i] = "fresh:" + strconv.Itoa(i)
				}
				scores := make([]float64, 1<<16)
				for i := range scores {
					scores[i] = rng.Float64() * 1e9
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					j := i % batch
					s.Add(fresh[j], scores[i&(1<<16-1)])
					if j == batch-1 || i == b.N-1 {
						b.StopTimer()
						for _, m := range fresh[:j+1] {
							s.Remove(m)
						}
						b.StartTimer()
					}
				}
			})
			// Update: change an existing member's score (ZADD on an
			// existing member, ZINCRBY).
			b.Run("Update", func(b *testing.B) {
				i := 0
				for b.Loop() {
					s.Add(bs.members[bs.picks[i&(1<<16-1)]], rng.Float64()*1e9)
					i++
				}
			})
			b.Run("Rank", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if _, ok := s.Rank(bs.members[bs.picks[i&(1<<16-1)]]); !ok {
						b.Fatal("member missing")
					}
					i++
				}
			})
			b.Run("ByRank", func(b *testing.B) {
				i := 0
				for b.Loop() {
					s.ByRank(int(bs.picks[i&(1<<16-1)]))
					i++
				}
			})
			// RangeTop10: the 10 highest scores, highest first
			// (ZREVRANGE key 0 9 WITHSCORES).
			b.Run("RangeTop10", func(b *testing.B) {
				var sum float64
				for b.Loop() {
					s.Range(s.Len()-10, s.Len()-1, true, func(_ string, sc float64) bool {
						sum += sc
						return true
					})
				}
			})
			b.Run("CountInScoreRange", func(b *testing.B) {
				i := 0
				for b.Loop() {
					lo := float64(bs.picks[i&(1<<16-1)]) / float64(n) * 1e9
					s.CountInScoreRange(ScoreRange{Min: lo, Max: lo + 1e8})
					i++
				}
			})
		})
	}
}

// memoryPerMember builds a set of n members named like benchMember with the
// given scores and returns the live heap it adds per member, the member
// strings included (Redis's figure includes them too).
func memoryPerMember(n int, score func(i int) float64) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := New()
	for i := range n {
		s.Add(benchMember(i), score(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// TestMemoryPerMember checks the memory cost of 1M members with 19-byte
// names against Redis 7.0's ~126 bytes per member for the same set.
func TestMemoryPerMember(t *testing.T) {
	if testing.Short() || invariantsEnabled {
		t.Skip("builds a 1M-member set")
	}
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(4, 5))
	random := memoryPerMember(n, func(int) float64 { return rng.Float64() * 1e9 })
	sequential := memoryPerMember(n, func(i int) float64 { return float64(i) })
	// Reference points: the member strings alone, and strings plus map.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	names := make([]string, n)
	for i := range names {
		names[i] = benchMember(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	strs := float64(after.HeapAlloc-before.HeapAlloc)/n - 16 // minus the slice's string headers
	runtime.GC()
	runtime.ReadMemStats(&before)
	dict := make(map[string]float64)
	for i, m := range names {
		dict[m] = float64(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	mapOnly := float64(after.HeapAlloc-before.HeapAlloc) / n
	runtime.KeepAlive(names)
	runtime.KeepAlive(dict)
	t.Logf("bytes/member for %d members: random scores %.1f, ascending scores %.1f (member string %.1f, map %.1f, tree %.1f with random scores)",
		n, random, sequential, strs, mapOnly, random-strs-mapOnly)
	if random > 126 || sequential > 126 {
		t.Errorf("bytes/member random %.1f, sequential %.1f; want <= 126 (Redis 7.0)", random, sequential)
	}
}

// BenchmarkMemoryPerMember reports the bytes per member of a 1M-member set
// with random scores as the B/member metric.
func BenchmarkMemoryPerMember(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 5))
	var per float64
	for range b.N {
		per = memoryPerMember(1_000_000, func(int) float64 { return rng.Float64() * 1e9 })
	}
	b.ReportMetric(per, "B/member")
	b.ReportMetric(0, "ns/op")
}
