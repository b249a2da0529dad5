package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"cairn/cluster"
	"cairn/resp"
	"cairn/store"
)

// What cluster-aware clients rely on: the keyspace-wide commands of a node
// cover the slots it is primary of (so asking every master sees each key
// once), and a script loaded or run through any node can be run by SHA
// through any node.

// keyOf returns a key (prefix plus a number) whose slot's primary in v is
// node id.
func keyOf(t *testing.T, v *cluster.View, prefix, id string) string {
	t.Helper()
	for i := range 10000 {
		k := fmt.Sprintf("%s%d", prefix, i)
		if p, _ := v.Primary(cluster.KeySlot([]byte(k))); p == id {
			return k
		}
	}
	t.Fatalf("no key %s* has primary %s", prefix, id)
	return ""
}

// scanNode runs a full SCAN through c with COUNT count and returns the keys,
// checking that every cursor it is given is a slot number.
func scanNode(t *testing.T, c *redis.Client, match string, count int64) []string {
	t.Helper()
	var out []string
	var cursor uint64
	for calls := 0; ; calls++ {
		ks, next, err := c.Scan(ctx, cursor, match, count).Result()
		if err != nil || calls > store.SlotCount || next >= store.SlotCount || (next != 0 && next <= cursor) {
			t.Fatalf("SCAN %d = next %d, %v (call %d)", cursor, next, err, calls)
		}
		out = append(out, ks...)
		if cursor = next; cursor == 0 {
			return out
		}
	}
}

func TestClusterCompat_KeyspacePerNode(t *testing.T) {
	tc := startCluster(t, 3)
	const n = 600
	var want []string
	c0 := newClient(t, tc.Nodes[0].Addr(), 2)
	pipe := c0.Pipeline()
	for i := range n {
		k := fmt.Sprintf("ks:%d", i)
		want = append(want, k)
		pipe.Set(ctx, k, i, 0)
	}
	cmds, err := pipe.Exec(ctx)
	must(t, err)
	for _, cmd := range cmds {
		must(t, cmd.Err())
	}
	slices.Sort(want)

	var size int64
	var keys, scanned, scanned1 []string
	for i, nd := range tc.Nodes {
		c := newClient(t, nd.Addr(), 2+i%2)
		v := nd.Cluster.View()
		k, err := c.DBSize(ctx).Result()
		must(t, err)
		size += k
		ks, err := c.Keys(ctx, "ks:*").Result()
		must(t, err)
		if int64(len(ks)) != k {
			t.Errorf("node %d: DBSIZE %d, KEYS %d keys", i, k, len(ks))
		}
		keys = append(keys, ks...)
		sc := scanNode(t, c, "", 50)
		scanned = append(scanned, sc...)
		scanned1 = append(scanned1, scanNode(t, c, "ks:*", 1)...)
		for _, key := range sc {
			if p, _ := v.Primary(cluster.KeySlot([]byte(key))); p != tc.ID(i) {
				t.Fatalf("node %d SCAN returned %s, whose primary is %s", i, key, p)
			}
		}
		if k == 0 {
			t.Errorf("node %d holds none of the %d keys as primary", i, n)
			continue
		}
		rk, err := c.RandomKey(ctx).Result()
		must(t, err)
		if p, _ := v.Primary(cluster.KeySlot([]byte(rk))); p != tc.ID(i) || !slices.Contains(ks, rk) {
			t.Errorf("node %d RANDOMKEY = %s (primary %s), not one of its keys", i, rk, p)
		}
	}
	if size != n {
		t.Errorf("DBSIZE over the nodes sums to %d; want %d", size, n)
	}
	for what, got := range map[string][]string{"KEYS": keys, "SCAN COUNT 50": scanned, "SCAN MATCH ks:* COUNT 1": scanned1} {
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s over the nodes: %d keys; want each of the %d keys once", what, len(got), len(want))
		}
	}

	// go-redis's cluster client: ForEachMaster reaches every node once, and
	// its DBSIZE (the sum over masters) and a scan of every master see each
	// key once.
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{tc.Nodes[0].Addr(), tc.Nodes[1].Addr(), tc.Nodes[2].Addr()},
		DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	t.Cleanup(func() { cc.Close() })
	if k, err := cc.DBSize(ctx).Result(); err != nil || k != n {
		t.Errorf("ClusterClient DBSIZE = %d, %v; want %d", k, err, n)
	}
	var mu sync.Mutex
	var masters []string
	var fromMasters []string
	must(t, cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		var got []string
		iter := c.Scan(ctx, 0, "ks:*", 100).Iterator()
		for iter.Next(ctx) {
			got = append(got, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		masters = append(masters, c.Options().Addr)
		fromMasters = append(fromMasters, got...)
		return nil
	}))
	slices.Sort(fromMasters)
	if len(masters) != 3 || !slices.Equal(fromMasters, want) {
		t.Errorf("ForEachMaster over %v: SCAN saw %d keys; want each of the %d keys once", masters, len(fromMasters), len(want))
	}

	// An empty node's share: RANDOMKEY is null, DBSIZE 0, SCAN done at once.
	must(t, c0.FlushAll(ctx).Err())
	for i, nd := range tc.Nodes {
		c := newClient(t, nd.Addr(), 2)
		if err := c.RandomKey(ctx).Err(); err != redis.Nil {
			t.Errorf("node %d RANDOMKEY after FLUSHALL: %v; want nil", i, err)
		}
		if k, err := c.DBSize(ctx).Result(); err != nil || k != 0 {
			t.Errorf("node %d DBSIZE after FLUSHALL = %d, %v", i, k, err)
		}
		if ks := scanNode(t, c, "", 10); len(ks) != 0 {
			t.Errorf("node %d SCAN after FLUSHALL = %v", i, ks)
		}
	}
	raw := dialRaw(t, tc.Nodes[0].Addr())
	if got := raw.do("SCAN", "16384"); got != "-"+errInvalidCursor+"\r\n" {
		t.Errorf("SCAN 16384 = %q", got)
	}
}

// CLUSTER SLOTS, SHARDS and NODES list every node as a master only: a
// client taking a node's role from its first appearance sees three masters.
func TestClusterCompat_MastersOnly(t *testing.T) {
	tc := startCluster(t, 3)
	for i, nd := range tc.Nodes {
		c := newClient(t, nd.Addr(), 3)
		slots, err := c.ClusterSlots(ctx).Result()
		must(t, err)
		role := map[string]string{} // first appearance
		for _, r := range slots {
			for j, x := range r.Nodes {
				if _, ok := role[x.ID]; !ok {
					role[x.ID] = map[bool]string{true: "master", false: "replica"}[j == 0]
				}
			}
		}
		if len(role) != 3 || role[tc.ID(0)] != "master" || role[tc.ID(1)] != "master" || role[tc.ID(2)] != "master" {
			t.Errorf("node %d CLUSTER SLOTS: roles by first appearance %v; want 3 masters", i, role)
		}
		shards, err := c.ClusterShards(ctx).Result()
		must(t, err)
		for _, sh := range shards {
			if len(sh.Nodes) != 1 || sh.Nodes[0].Role != "master" {
				t.Errorf("node %d CLUSTER SHARDS: shard %+v", i, sh)
			}
		}
		text, err := c.ClusterNodes(ctx).Result()
		must(t, err)
		if strings.Contains(text, "slave") || strings.Count(text, "master") != 3 {
			t.Errorf("node %d CLUSTER NODES:\n%s", i, text)
		}
	}
}

// flushScriptsHere empties node n's script cache only, as a restart would.
func flushScriptsHere(n *Node) {
	w := resp.NewWriter()
	n.Cmd.scripts.cmdFlush(&Ctx{Args: [][]byte{[]byte("SCRIPT"), []byte("FLUSH")}, W: w, Srv: n.Cmd})
}

func TestClusterCompat_ScriptsAnyNode(t *testing.T) {
	tc := startCluster(t, 3)
	v := tc.Nodes[0].Cluster.View()
	keys := make([]string, 3) // keys[i]'s primary is node i
	for i := range keys {
		keys[i] = keyOf(t, v, "sk:", tc.ID(i))
	}
	clients := make([]*redis.Client, 3)
	for i, nd := range tc.Nodes {
		clients[i] = newClient(t, nd.Addr(), 2+i%2)
	}
	const body = "return redis.call('INCR', KEYS[1])"
	sha, err := clients[1].ScriptLoad(ctx, body).Result()
	must(t, err)
	if sha != scriptSHA([]byte(body)) {
		t.Fatalf("SCRIPT LOAD = %s", sha)
	}
	exists := func(sha string, want bool) {
		t.Helper()
		for i, c := range clients {
			if got, err := c.ScriptExists(ctx, sha).Result(); err != nil || len(got) != 1 || got[0] != want {
				t.Errorf("SCRIPT EXISTS through node %d = %v, %v; want %v", i, got, err, want)
			}
		}
	}
	exists(sha, true)
	// EVALSHA through every node for a key of every node's.
	for i, c := range clients {
		for j, k := range keys {
			n, err := c.EvalSha(ctx, sha, []string{k}).Int()
			if err != nil || n != i+1 {
				t.Errorf("EVALSHA through node %d of %s (primary node %d) = %d, %v; want %d", i, k, j, n, err, i+1)
			}
		}
	}

	// A node whose cache lost the script (restarted) is still reached by
	// EVALSHA through the others, which forward the body; it caches it.
	flushScriptsHere(tc.Nodes[0])
	if got := clients[0].ScriptExists(ctx, sha).Val(); len(got) != 1 || got[0] {
		t.Fatalf("SCRIPT EXISTS through node 0 after its flush = %v", got)
	}
	for i := 1; i < 3; i++ {
		if n, err := clients[i].EvalSha(ctx, sha, []string{keys[0]}).Int(); err != nil || n != 3+i {
			t.Errorf("EVALSHA through node %d of node 0's key = %d, %v; want %d", i, n, err, 3+i)
		}
	}
	exists(sha, true)
	// EVALSHA_RO is forwarded the same way.
	const ro = "return redis.call('GET', KEYS[1])"
	roSHA, err := clients[2].ScriptLoad(ctx, ro).Result()
	must(t, err)
	flushScriptsHere(tc.Nodes[0])
	if got, err := clients[2].EvalShaRO(ctx, roSHA, []string{keys[0]}).Text(); err != nil || got != "5" {
		t.Errorf("EVALSHA_RO through node 2 of node 0's key = %q, %v; want 5", got, err)
	}

	// EVAL through a node caches the script there, not elsewhere; EVALSHA
	// through it then works for every key.
	const body2 = "return redis.call('INCRBY', KEYS[1], 10)"
	sha2 := scriptSHA([]byte(body2))
	if n, err := clients[1].Eval(ctx, body2, []string{keys[0]}).Int(); err != nil || n != 15 {
		t.Fatalf("EVAL through node 1 of node 0's key = %d, %v; want 15", n, err)
	}
	for i, want := range []bool{true, true, false} {
		if got := clients[i].ScriptExists(ctx, sha2).Val(); len(got) != 1 || got[0] != want {
			t.Errorf("SCRIPT EXISTS through node %d after EVAL through node 1 = %v; want %v", i, got, want)
		}
	}
	for j, k := range keys {
		if err := clients[1].EvalSha(ctx, sha2, []string{k}).Err(); err != nil {
			t.Errorf("EVALSHA through node 1 of node %d's key after EVAL: %v", j, err)
		}
	}

	// SCRIPT FLUSH through one node flushes every node.
	must(t, clients[2].ScriptFlush(ctx).Err())
	exists(sha, false)
	exists(sha2, false)
	for i, c := range clients {
		if err := c.EvalSha(ctx, sha, []string{keys[(i+1)%3]}).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOSCRIPT") {
			t.Errorf("EVALSHA through node %d after SCRIPT FLUSH: %v; want NOSCRIPT", i, err)
		}
	}
	// A script that does not compile is loaded nowhere.
	if err := clients[0].ScriptLoad(ctx, "return +").Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR Error compiling script") {
		t.Errorf("SCRIPT LOAD of a bad script: %v", err)
	}
	exists(scriptSHA([]byte("return +")), false)

	// The peer command is refused to clients.
	raw := dialRaw(t, tc.Nodes[0].Addr())
	if got := raw.do("CAIRN.SCRIPT", "LOAD", "return 1"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("CAIRN.SCRIPT from a client = %q", got)
	}
}
