// Command clusterbench measures a Cairn cluster (or a single node) with
// go-redis clients: throughput and latency percentiles of one operation at
// one consistency level, spread over the given nodes (docs/benchmarks.md).
//
//	clusterbench -addrs 127.0.0.1:7001,127.0.0.1:7002 -op get -level QUORUM
//
// Operations: set, get, incr, zincrby, zrevrank (one leaderboard key), and
// rw (SET then GET of the same key on one connection: read-your-writes
// pairs; reports how many reads saw an older value). -direct sends each
// key to its slot primary (as a cluster-aware client would); otherwise
// each client uses one node for every key, so most requests are forwarded.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	addrs := flag.String("addrs", "127.0.0.1:6379", "comma-separated node addresses")
	op := flag.String("op", "get", "set, get, incr, zincrby, zrevrank or rw")
	level := flag.String("level", "", "CONSISTENCY level for every connection (empty: server default)")
	clients := flag.Int("clients", 50, "concurrent clients")
	dur := flag.Duration("duration", 5*time.Second, "measuring time")
	keys := flag.Int("keys", 10000, "distinct keys (members for zset operations)")
	direct := flag.Bool("direct", false, "send each key to its slot primary (ClusterClient)")
	flag.Parse()
	nodes := strings.Split(*addrs, ",")
	ctx := context.Background()

	mk := func(addr string) redis.UniversalClient {
		o := &redis.Options{Addr: addr, PoolSize: 4, MaxRetries: -1}
		if *level != "" {
			o.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
				return cn.Do(ctx, "CONSISTENCY", *level).Err()
			}
		}
		return redis.NewClient(o)
	}
	var pick func(i int) redis.UniversalClient
	if *direct {
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: nodes, MaxRetries: -1,
			OnConnect: func(ctx context.Context, cn *redis.Conn) error {
				if *level == "" {
					return nil
				}
				return cn.Do(ctx, "CONSISTENCY", *level).Err()
			}})
		pick = func(int) redis.UniversalClient { return cc }
	} else {
		cs := make([]redis.UniversalClient, len(nodes))
		for i, a := range nodes {
			cs[i] = mk(a)
		}
		pick = func(i int) redis.UniversalClient { return cs[i%len(cs)] }
	}

	// Preload so reads find values.
	pre := pick(0)
	for i := range *keys {
		k := "bench:" + strconv.Itoa(i)
		must(pre.Set(ctx, k, i, 0).Err())
		if *op == "zrevrank" {
			must(pre.ZAdd(ctx, "bench:board", redis.Z{Score: float64(i), Member: "m" + strconv.Itoa(i)}).Err())
		}
	}

	var ops, errs, stale atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, *clients)
	var wg sync.WaitGroup
	stop := time.Now().Add(*dur)
	for w := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := pick(w)
			var own *redis.Conn // rw: one connection, as read-your-writes is per connection
			if *op == "rw" {
				cl, ok := c.(*redis.Client)
				if !ok {
					fmt.Fprintln(os.Stderr, "-op rw needs plain clients (no -direct)")
					os.Exit(2)
				}
				own = cl.Conn()
				defer own.Close()
				if *level != "" {
					must(own.Do(ctx, "CONSISTENCY", *level).Err())
				}
			}
			r := rand.New(rand.NewPCG(uint64(w), 7))
			seq := 0
			for time.Now().Before(stop) {
				i := r.IntN(*keys)
				k := "bench:" + strconv.Itoa(i)
				t0 := time.Now()
				var err error
				switch *op {
				case "set":
					err = c.Set(ctx, k, i, 0).Err()
				case "get":
					err = c.Get(ctx, k).Err()
				case "incr":
					err = c.Incr(ctx, "bench:ctr:"+strconv.Itoa(i)).Err()
				case "zincrby":
					err = c.ZIncrBy(ctx, "bench:board", 1, "m"+strconv.Itoa(i)).Err()
				case "zrevrank":
					err = c.ZRevRank(ctx, "bench:board", "m"+strconv.Itoa(i)).Err()
				case "rw":
					seq++
					v := strconv.Itoa(w) + ":" + strconv.Itoa(seq)
					k = "bench:rw:" + strconv.Itoa(w) + ":" + strconv.Itoa(i%64)
					if err = own.Set(ctx, k, v, 0).Err(); err == nil {
						t0 = time.Now() // time the read only
						var got string
						got, err = own.Get(ctx, k).Result()
						if err == nil && got != v {
							stale.Add(1)
						}
					}
				default:
					fmt.Fprintln(os.Stderr, "unknown -op", *op)
					os.Exit(2)
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	q := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	fmt.Printf("op=%s level=%s direct=%v clients=%d ops/s=%.0f p50=%v p99=%v errors=%d",
		*op, *level, *direct, *clients, float64(ops.Load())/dur.Seconds(), q(0.50), q(0.99), errs.Load())
	if *op == "rw" {
		fmt.Printf(" stale_reads=%d", stale.Load())
	}
	if e := firstErr.Load(); e != nil {
		fmt.Printf(" first_error=%q", e)
	}
	fmt.Println()
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "clusterbench:", err)
		os.Exit(1)
	}
}
