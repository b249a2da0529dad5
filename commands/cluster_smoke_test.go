package commands

import (
	"context"
	"fmt"
	"testing"
)

func TestCluster_Smoke(t *testing.T) {
	tc := startCluster(t, 3)
	ctx := context.Background()
	for i, n := range tc.Nodes {
		c := newClient(t, n.Addr(), 2)
		for k := range 50 {
			key := fmt.Sprintf("k%d-%d", i, k)
			if err := c.Set(ctx, key, k, 0).Err(); err != nil {
				t.Fatalf("node %d SET %s: %v", i, key, err)
			}
		}
	}
	for i, n := range tc.Nodes {
		c := newClient(t, n.Addr(), 3)
		for j := range tc.Nodes {
			for k := range 50 {
				key := fmt.Sprintf("k%d-%d", j, k)
				v, err := c.Get(ctx, key).Int()
				if err != nil || v != k {
					t.Fatalf("node %d GET %s = %v, %v", i, key, v, err)
				}
			}
		}
		want := int64(150)
		if i > 0 {
			want += 2 // counter and board
		}
		if n, err := c.DBSize(ctx).Result(); err != nil || n != want {
			t.Fatalf("DBSIZE = %d, %v; want %d", n, err, want)
		}
		if n, err := c.Incr(ctx, "counter").Result(); err != nil || n != int64(i+1) {
			t.Fatalf("INCR = %d, %v", n, err)
		}
		if n, err := c.ZIncrBy(ctx, "board", 2, "alice").Result(); err != nil || n != float64(2*(i+1)) {
			t.Fatalf("ZINCRBY = %v, %v", n, err)
		}
	}
}
