package commands

import (
	"context"
	"fmt"
	"testing"

	"cairn/cluster"
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
		if n, err := c.Incr(ctx, "counter").Result(); err != nil || n != int64(i+1) {
			t.Fatalf("INCR = %d, %v", n, err)
		}
		if n, err := c.ZIncrBy(ctx, "board", 2, "alice").Result(); err != nil || n != float64(2*(i+1)) {
			t.Fatalf("ZINCRBY = %v, %v", n, err)
		}
	}
	// Each node counts the keys of the slots it is primary of.
	var total int64
	for i, n := range tc.Nodes {
		k, err := newClient(t, n.Addr(), 2).DBSize(ctx).Result()
		if err != nil {
			t.Fatalf("node %d DBSIZE: %v", i, err)
		}
		total += k
	}
	if total != 152 { // and counter and board
		t.Fatalf("DBSIZE over the nodes sums to %d; want 152", total)
	}
}

// Sorted-set operations over keys of several slots give the same replies
// and the same destination as on a single node.
func TestCluster_CrossSlotZsetOps(t *testing.T) {
	tc := startCluster(t, 3)
	single := testNode(t)
	ctx := context.Background()
	setup := [][]any{
		{"ZADD", "zs:a", 1, "x", 2, "y", 3, "z"},
		{"ZADD", "zs:b", 10, "y", 20, "z", 30, "w"},
		{"ZADD", "zs:c", 5, "z", 7, "v"},
		{"SET", "zs:str", "text"},
		{"ZADD", "zs:dst", 99, "old"},
	}
	cmds := [][]any{
		{"ZUNIONSTORE", "zs:dst", 3, "zs:a", "zs:b", "zs:c"},
		{"ZUNIONSTORE", "zs:dst", 2, "zs:a", "zs:b", "WEIGHTS", 2, 0.5, "AGGREGATE", "MAX"},
		{"ZINTERSTORE", "zs:dst", 2, "zs:a", "zs:b", "AGGREGATE", "MIN"},
		{"ZDIFFSTORE", "zs:dst", 2, "zs:a", "zs:c"},
		{"ZINTERSTORE", "zs:dst", 2, "zs:a", "zs:missing"},         // empty result deletes dst
		{"ZUNIONSTORE", "zs:dst", 2, "zs:a", "zs:str"},             // WRONGTYPE
		{"ZUNIONSTORE", "zs:dst", 2, "zs:a", "zs:b", "WEIGHTS", 1}, // syntax error
		{"ZUNION", 3, "zs:a", "zs:b", "zs:c", "WITHSCORES"},
		{"ZINTER", 2, "zs:b", "zs:c", "WITHSCORES"},
		{"ZDIFF", 2, "zs:b", "zs:a"},
		{"ZINTERCARD", 2, "zs:a", "zs:b", "LIMIT", 1},
	}
	if cluster.KeySlot([]byte("zs:a")) == cluster.KeySlot([]byte("zs:b")) {
		t.Fatal("test keys share a slot")
	}
	for _, proto := range []int{2, 3} {
		cc := newClient(t, tc.Nodes[proto-1].Addr(), proto)
		sc := newClient(t, single.Addr(), proto)
		for _, c := range setup {
			must(t, cc.Do(ctx, c...).Err())
			must(t, sc.Do(ctx, c...).Err())
		}
		for _, c := range cmds {
			got, gerr := cc.Do(ctx, c...).Result()
			want, werr := sc.Do(ctx, c...).Result()
			if fmt.Sprint(got, gerr) != fmt.Sprint(want, werr) {
				t.Errorf("RESP%d %v: cluster %v, %v; single node %v, %v", proto, c, got, gerr, want, werr)
			}
			gd, _ := cc.Do(ctx, "ZRANGE", "zs:dst", 0, -1, "WITHSCORES").Result()
			wd, _ := sc.Do(ctx, "ZRANGE", "zs:dst", 0, -1, "WITHSCORES").Result()
			if fmt.Sprint(gd) != fmt.Sprint(wd) {
				t.Errorf("RESP%d after %v: zs:dst is %v in the cluster, %v on a single node", proto, c, gd, wd)
			}
		}
	}
}
