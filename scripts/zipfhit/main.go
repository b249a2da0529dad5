// Command zipfhit measures the hit ratio of a cache workload under
// maxmemory eviction on several servers in the same run: keys drawn from a
// Zipf distribution, GET each and SET it on a miss (a read-through cache).
//
// The limits are made comparable by capacity, not bytes (Cairn's
// used_memory and Redis's are computed differently): on each server it
// first writes -capacity keys without a limit and measures used_memory per
// key, then sets maxmemory = used_memory before + capacity × that cost, so
// each server holds about the same number of keys.
//
//	go run ./scripts/zipfhit -addrs 127.0.0.1:6379,127.0.0.1:6380 -policy allkeys-lru
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

func main() {
	addrs := flag.String("addrs", "127.0.0.1:6379", "comma-separated servers (FLUSHALL'd!)")
	policies := flag.String("policy", "allkeys-lru,allkeys-lfu", "comma-separated maxmemory-policy values")
	keys := flag.Int("keys", 1_000_000, "key space")
	capacity := flag.Int("capacity", 50_000, "keys the limit should hold")
	ops := flag.Int("ops", 2_000_000, "GETs per run (the first 20% warm up)")
	s := flag.Float64("s", 1.01, "Zipf exponent (> 1)")
	size := flag.Int("value", 100, "value size in bytes")
	clients := flag.Int("clients", 8, "parallel clients")
	flag.Parse()
	val := strings.Repeat("v", *size)
	fmt.Printf("keys %d, capacity %d keys, ops %d, zipf s=%.2f, value %d B, %d clients\n\n", *keys, *capacity, *ops, *s, *size, *clients)
	fmt.Printf("| policy | server | maxmemory | hit ratio | evicted_keys |\n|---|---|---|---|---|\n")
	for _, policy := range strings.Split(*policies, ",") {
		for _, addr := range strings.Split(*addrs, ",") {
			c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: *clients})
			limit := calibrate(c, *capacity, val)
			must(c.ConfigSet(context.Background(), "maxmemory-policy", policy).Err())
			must(c.ConfigSet(context.Background(), "maxmemory", strconv.FormatInt(limit, 10)).Err())
			hits, gets := run(c, *keys, *ops, *s, *clients, val)
			fmt.Printf("| %s | %s %s | %d | %.4f | %d |\n", policy, server(c), addr, limit, float64(hits)/float64(gets), info(c, "stats", "evicted_keys"))
			must(c.ConfigSet(context.Background(), "maxmemory", "0").Err())
			c.Close()
		}
	}
}

// calibrate returns the maxmemory that holds capacity keys of val.
func calibrate(c *redis.Client, capacity int, val string) int64 {
	ctx := context.Background()
	must(c.ConfigSet(ctx, "maxmemory", "0").Err())
	must(c.FlushAll(ctx).Err())
	before := info(c, "memory", "used_memory")
	p := c.Pipeline()
	for i := range capacity {
		p.Set(ctx, key(i), val, 0)
		if i%1000 == 999 {
			_, err := p.Exec(ctx)
			must(err)
		}
	}
	_, err := p.Exec(ctx)
	must(err)
	per := float64(info(c, "memory", "used_memory")-before) / float64(capacity)
	must(c.FlushAll(ctx).Err())
	must(c.ConfigResetStat(ctx).Err())
	return info(c, "memory", "used_memory") + int64(per*float64(capacity))
}

// run plays the workload and returns the hits and GETs after warm-up.
func run(c *redis.Client, keys, ops int, s float64, clients int, val string) (hits, gets int64) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			z := rand.NewZipf(rand.New(rand.NewPCG(uint64(w), 7)), s, 1, uint64(keys-1))
			var h, g int64
			n := ops / clients
			for i := range n {
				k := key(int(z.Uint64()))
				_, err := c.Get(ctx, k).Result()
				if err == redis.Nil {
					must(c.Set(ctx, k, val, 0).Err())
				} else {
					must(err)
				}
				if i >= n/5 {
					g++
					if err == nil {
						h++
					}
				}
			}
			mu.Lock()
			hits, gets = hits+h, gets+g
			mu.Unlock()
		}()
	}
	wg.Wait()
	return hits, gets
}

func key(i int) string { return "zipf:" + strconv.Itoa(i) }

func info(c *redis.Client, section, field string) int64 {
	for _, l := range strings.Split(c.Info(context.Background(), section).Val(), "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			must(err)
			return n
		}
	}
	log.Fatalf("INFO %s: no %s", section, field)
	return 0
}

func server(c *redis.Client) string {
	if info := c.Info(context.Background(), "server").Val(); strings.Contains(info, "cairn_version") {
		return "Cairn"
	}
	return "Redis"
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
