package commands

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis's PubSub receives channel and pattern messages in both protocols.
func TestPubSub_GoRedis(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		ps := c.Subscribe(ctx, "orders")
		defer ps.Close()
		if _, err := ps.Receive(ctx); err != nil { // the subscribe confirmation
			t.Fatal(err)
		}
		must(t, ps.PSubscribe(ctx, "ord*"))
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Publish(ctx, "orders", "42").Result(); err != nil || n != 2 {
			t.Fatalf("PUBLISH = %d, %v; want 2 receivers", n, err)
		}
		seen := map[string]bool{}
		for i := 0; i < 2; i++ {
			m, err := ps.ReceiveMessage(ctx)
			must(t, err)
			seen[m.Pattern+"|"+m.Channel+"|"+m.Payload] = true
		}
		if !seen["|orders|42"] || !seen["ord*|orders|42"] {
			t.Fatalf("messages = %v", seen)
		}
		list := c.ClientList(ctx).Val()
		if !strings.Contains(list, " sub=1 psub=1 ") {
			t.Errorf("CLIENT LIST has no line with sub=1 psub=1:\n%s", list)
		}
	})
}

// Many publishers and subscribers at once: every subscriber gets every
// message, each publisher's messages in order.
func TestPubSub_Concurrent(t *testing.T) {
	n := testNode(t)
	const subs, pubs, perPub = 6, 6, 150
	received := make([]map[string]int, subs) // publisher -> next sequence number
	var ready, done sync.WaitGroup
	errs := make(chan error, subs+pubs)
	for i := 0; i < subs; i++ {
		ps := newClient(t, n.Addr(), 2+i%2).Subscribe(ctx, "fan")
		t.Cleanup(func() { ps.Close() })
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		received[i] = map[string]int{}
		ready.Add(1)
		done.Add(1)
		go func(i int) {
			defer done.Done()
			ready.Done()
			for k := 0; k < pubs*perPub; k++ {
				m, err := ps.ReceiveMessage(ctx)
				if err != nil {
					errs <- err
					return
				}
				var pub string
				var seq int
				fmt.Sscanf(m.Payload, "%s %d", &pub, &seq)
				if received[i][pub] != seq {
					errs <- fmt.Errorf("subscriber %d: %s message %d after %d", i, pub, seq, received[i][pub])
					return
				}
				received[i][pub] = seq + 1
			}
		}(i)
	}
	ready.Wait()
	for p := 0; p < pubs; p++ {
		done.Add(1)
		go func(p int) {
			defer done.Done()
			c := newClient(t, n.Addr(), 2)
			for k := 0; k < perPub; k++ {
				got, err := c.Publish(ctx, "fan", fmt.Sprintf("p%d %d", p, k)).Result()
				if err != nil || got != subs {
					errs <- fmt.Errorf("PUBLISH = %d, %v; want %d", got, err, subs)
					return
				}
			}
		}(p)
	}
	done.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A subscriber that never reads is disconnected once its unwritten
// messages pass the bound; the publisher keeps being served.
func TestPubSub_SlowSubscriberBounded(t *testing.T) {
	n := testNode(t)
	slow := dialRaw(t, n.Addr())
	slow.do("SUBSCRIBE", "firehose")
	pub := newClient(t, n.Addr(), 2)
	msg := strings.Repeat("x", 1<<20)
	published := 0
	for ; published < 200; published++ {
		must(t, pub.Publish(ctx, "firehose", msg).Err())
		if pub.PubSubNumSub(ctx, "firehose").Val()["firehose"] == 0 {
			break
		}
	}
	if published == 200 {
		t.Fatalf("a subscriber that never reads was still connected after %d MiB", published)
	}
	t.Logf("disconnected after %d MiB published", published)
	// The subscriber's connection ends: reading drains what was written, then fails.
	deadline := time.Now().Add(10 * time.Second)
	for {
		slow.nc.SetReadDeadline(deadline)
		if _, err := readReply(slow.br); err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("subscriber connection still open: %v", err)
			}
			break
		}
	}
}

// In a cluster, PUBLISH on one node reaches the subscribers of every node
// and counts them all.
func TestPubSub_Cluster(t *testing.T) {
	tc := startCluster(t, 3)
	var subs []*redis.PubSub
	for i, n := range tc.Nodes {
		c := newClient(t, n.Addr(), 2+i%2)
		ps := c.Subscribe(ctx, "events")
		if i == 2 {
			must(t, ps.PSubscribe(ctx, "ev*"))
		}
		t.Cleanup(func() { ps.Close() })
		for range 1 + i/2 {
			if _, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			}
		}
		subs = append(subs, ps)
	}
	for from, n := range tc.Nodes {
		msg := fmt.Sprintf("from %d", from)
		got, err := newClient(t, n.Addr(), 2).Publish(ctx, "events", msg).Result()
		if err != nil || got != 4 {
			t.Fatalf("PUBLISH on node %d = %d, %v; want 4 receivers", from, got, err)
		}
		for i, ps := range subs {
			for range 1 + i/2 {
				m, err := ps.ReceiveMessage(ctx)
				if err != nil || m.Payload != msg {
					t.Fatalf("subscriber on node %d: %v, %v; want %q", i, m, err, msg)
				}
			}
		}
	}
}

// BenchmarkPubSub_Fanout publishes to 100 subscribers from 4 pipelining
// publishers; one op is one PUBLISH delivered to every subscriber. The
// clients share the process, so profile for the server's part
// (go test -bench Fanout -cpuprofile).
func BenchmarkPubSub_Fanout(b *testing.B) {
	const subs, pubs, depth = 100, 4, 16
	n := testNode(b)
	// A message frame (*3, message, fan, 64 bytes) has 7 line ends; the
	// subscribers count them, which a read boundary cannot split.
	const linesPerFrame = 7
	lines := make([]atomic.Int64, subs)
	for i := range subs {
		r := dialRaw(b, n.Addr())
		r.do("SUBSCRIBE", "fan")
		go func() { // ends when the test closes the connection
			buf := make([]byte, 64<<10)
			for {
				k, err := r.nc.Read(buf)
				if err != nil {
					return
				}
				lines[i].Add(int64(bytes.Count(buf[:k], []byte("\n"))))
			}
		}()
	}
	msg := encodeCommand([]string{"PUBLISH", "fan", strings.Repeat("x", 64)})
	b.ResetTimer()
	var pwg sync.WaitGroup
	for p := range pubs {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			r := dialRaw(b, n.Addr())
			todo := b.N / pubs
			if p == 0 {
				todo += b.N % pubs
			}
			for sent := 0; sent < todo; {
				k := min(depth, todo-sent)
				r.send(strings.Repeat(msg, k))
				for range k {
					r.reply()
				}
				sent += k
			}
		}()
	}
	pwg.Wait()
	for i := range lines {
		for deadline := time.Now().Add(30 * time.Second); lines[i].Load() < int64(linesPerFrame*b.N); {
			if time.Now().After(deadline) {
				b.Fatalf("subscriber %d got %d of %d messages", i, lines[i].Load()/linesPerFrame, b.N)
			}
			time.Sleep(time.Millisecond)
		}
	}
	b.StopTimer()
}
