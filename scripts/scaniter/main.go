// Command scaniter times a full SCAN MATCH user:1* COUNT 100 iteration
// against each server given as host:port (docs/benchmarks.md).
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	ctx := context.Background()
	for _, addr := range os.Args[1:] {
		c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2})
		best := time.Hour
		var calls, keys int
		for round := 0; round < 3; round++ {
			start := time.Now()
			var cursor uint64
			calls, keys = 0, 0
			for {
				ks, next, err := c.Scan(ctx, cursor, "user:1*", 100).Result()
				if err != nil {
					panic(err)
				}
				calls++
				keys += len(ks)
				cursor = next
				if cursor == 0 {
					break
				}
			}
			if d := time.Since(start); d < best {
				best = d
			}
		}
		fmt.Printf("%s: %d keys in %d calls, best of 3: %v\n", addr, keys, calls, best)
		c.Close()
	}
}
