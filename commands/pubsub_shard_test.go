package commands

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis's SSubscribe receives shard messages in both protocols, and
// CLIENT LIST counts the shard subscriptions in ssub=.
func TestPubSub_ShardGoRedis(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		ps := c.SSubscribe(ctx, "orders{1}", "stock{1}")
		defer ps.Close()
		for range 2 {
			if _, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			}
		}
		must(t, ps.Subscribe(ctx, "orders{1}"))
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := c.SPublish(ctx, "orders{1}", "42").Result(); err != nil || n != 1 {
			t.Fatalf("SPUBLISH = %d, %v; want 1 receiver", n, err)
		}
		m, err := ps.ReceiveMessage(ctx)
		if err != nil || m.Channel != "orders{1}" || m.Payload != "42" {
			t.Fatalf("message = %+v, %v", m, err)
		}
		if list := c.ClientList(ctx).Val(); !strings.Contains(list, " sub=1 psub=0 ssub=2 ") {
			t.Errorf("CLIENT LIST has no line with sub=1 psub=0 ssub=2:\n%s", list)
		}
	})
}

// A closed connection's shard subscriptions are dropped.
func TestPubSub_ShardDroppedOnClose(t *testing.T) {
	n := testNode(t)
	sub := dialRaw(t, n.Addr())
	sub.do("SSUBSCRIBE", "a", "b")
	c := newClient(t, n.Addr(), 2)
	if got := c.PubSubShardNumSub(ctx, "a", "b").Val(); got["a"] != 1 || got["b"] != 1 {
		t.Fatalf("SHARDNUMSUB = %v; want a:1 b:1", got)
	}
	sub.nc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for len(c.PubSubShardChannels(ctx, "*").Val()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("shard channels still subscribed after the connection closed: %v", c.PubSubShardChannels(ctx, "*").Val())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// In a cluster, SPUBLISH on one node reaches the shard subscribers of
// every node (a client may subscribe on any node) and counts them all;
// SSUBSCRIBE and SUNSUBSCRIBE refuse channels of different slots.
func TestPubSub_ShardCluster(t *testing.T) {
	tc := startCluster(t, 3)
	var subs []*redis.PubSub
	for i, n := range tc.Nodes[1:] {
		ps := newClient(t, n.Addr(), 2+i%2).SSubscribe(ctx, "orders")
		t.Cleanup(func() { ps.Close() })
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, ps)
	}
	a := newClient(t, tc.Nodes[0].Addr(), 2)
	for k := range 3 {
		msg := fmt.Sprintf("m%d", k)
		if got, err := a.SPublish(ctx, "orders", msg).Result(); err != nil || got != 2 {
			t.Fatalf("SPUBLISH on node 0 = %d, %v; want 2 receivers", got, err)
		}
		for i, ps := range subs {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil || m.Channel != "orders" || m.Payload != msg {
				t.Fatalf("subscriber on node %d: %+v, %v; want %q", i+1, m, err, msg)
			}
		}
	}
	if got := a.Publish(ctx, "orders", "x").Val(); got != 0 {
		t.Errorf("PUBLISH reached %d shard subscribers; want 0", got)
	}
	// In a transaction too (it runs on the channel's slot primary).
	cmds, err := a.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SPublish(ctx, "orders", "tx")
		return nil
	})
	if err != nil || cmds[0].(*redis.IntCmd).Val() != 2 {
		t.Fatalf("MULTI SPUBLISH EXEC = %v, %v; want 2 receivers", cmds, err)
	}
	for i, ps := range subs {
		if m, err := ps.ReceiveMessage(ctx); err != nil || m.Payload != "tx" {
			t.Fatalf("subscriber on node %d: %+v, %v; want \"tx\"", i+1, m, err)
		}
	}

	r := dialRaw(t, tc.Nodes[0].Addr())
	for _, args := range [][]string{{"SSUBSCRIBE", "a", "b"}, {"SUNSUBSCRIBE", "a", "b"}} {
		if got := r.do(args...); got != "-"+errCrossSlot+"\r\n" {
			t.Errorf("%q = %q; want CROSSSLOT", args, got)
		}
	}
	want := "*3\r\n$10\r\nssubscribe\r\n$4\r\n{a}1\r\n:1\r\n*3\r\n$10\r\nssubscribe\r\n$4\r\n{a}2\r\n:2\r\n"
	if got := r.do("SSUBSCRIBE", "{a}1", "{a}2") + r.reply(); got != want {
		t.Errorf("SSUBSCRIBE {a}1 {a}2 = %q; want %q", got, want)
	}
}
