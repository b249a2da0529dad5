package commands

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// trackingConn is a RESP3 connection with tracking on, reading replies
// and invalidation pushes apart.
type trackingConn struct {
	*rawConn
}

func dialTracking(t testing.TB, addr string, opts ...string) trackingConn {
	t.Helper()
	c := dialRaw(t, addr)
	c.do("HELLO", "3")
	if r := c.do(append([]string{"CLIENT", "TRACKING", "on"}, opts...)...); r != "+OK\r\n" {
		t.Fatalf("CLIENT TRACKING on %v: %q", opts, r)
	}
	return trackingConn{c}
}

// invalidation is the push for keys.
func invalidation(keys ...string) string {
	s := fmt.Sprintf(">2\r\n$10\r\ninvalidate\r\n*%d\r\n", len(keys))
	for _, k := range keys {
		s += fmt.Sprintf("$%d\r\n%s\r\n", len(k), k)
	}
	return s
}

// expectPing sends PING and fails unless exactly the frames want, then
// PONG, arrive: no other invalidation came first.
func (c trackingConn) expectPing(t testing.TB, want ...string) {
	t.Helper()
	c.send(encodeCommand([]string{"PING"}))
	for _, w := range want {
		if got := c.reply(); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	if got := c.reply(); got != "+PONG\r\n" {
		t.Fatalf("got %q, want PONG", got)
	}
}

// An invalidation queued before a command reaches the client before that
// command's reply: one PING after the writer's reply is enough to see it.
func TestTracking_OneRoundTrip(t *testing.T) {
	n := testNode(t)
	a := dialTracking(t, n.Addr())
	w := dialRaw(t, n.Addr())
	for i := range 200 {
		k := fmt.Sprintf("k%d", i)
		a.do("GET", k)
		w.do("SET", k, "v")
		a.expectPing(t, invalidation(k))
	}
}

// tracking-table-max-keys bounds the table: the excess keys are
// invalidated as if they had changed.
func TestTracking_TableLimit(t *testing.T) {
	n := testNode(t)
	admin := dialRaw(t, n.Addr())
	admin.do("CONFIG", "SET", "tracking-table-max-keys", "2")
	a := dialTracking(t, n.Addr())
	a.do("GET", "a")
	a.do("GET", "b")
	a.expectPing(t)
	a.do("GET", "c") // three keys: one of them is invalidated at once
	r := a.reply()
	if r != invalidation("a") && r != invalidation("b") && r != invalidation("c") {
		t.Fatalf("got %q, want an invalidation of a, b or c", r)
	}
	if info := admin.do("INFO", "stats"); !strings.Contains(info, "tracking_total_keys:2\r\n") {
		t.Fatalf("INFO stats: %q", info)
	}
	admin.do("CONFIG", "SET", "tracking-table-max-keys", "0") // unbounded
	for i := range 10 {
		a.do("GET", fmt.Sprint("u", i))
	}
	a.expectPing(t)
	if info := admin.do("INFO", "stats"); !strings.Contains(info, "tracking_total_keys:12\r\n") {
		t.Fatalf("INFO stats: %q", info)
	}
}

// INFO and CLIENT LIST report tracking connections as Redis does.
func TestTracking_InfoAndClientList(t *testing.T) {
	n := testNode(t)
	admin := dialRaw(t, n.Addr())
	a := dialTracking(t, n.Addr())
	b := dialTracking(t, n.Addr(), "bcast", "prefix", "x", "prefix", "y")
	a.do("MGET", "k1", "k2")
	c := dialTracking(t, n.Addr())
	c.do("GET", "k1")
	info := admin.do("INFO")
	for _, want := range []string{"tracking_clients:3\r\n", "tracking_total_keys:2\r\n", "tracking_total_items:3\r\n", "tracking_total_prefixes:2\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
	list := admin.do("CLIENT", "LIST")
	for _, conn := range []struct {
		c     *rawConn
		flags string
	}{{a.rawConn, "t"}, {b.rawConn, "tB"}, {admin, "N"}} {
		id := clientID(t, conn.c)
		if !strings.Contains(list, "id="+id+" ") || !strings.Contains(lineOf(list, "id="+id+" "), " flags="+conn.flags+" ") {
			t.Errorf("client %s: want flags=%s in %q", id, conn.flags, lineOf(list, "id="+id+" "))
		}
	}
	b.do("CLIENT", "TRACKING", "off")
	if info := admin.do("INFO"); !strings.Contains(info, "tracking_clients:2\r\n") || !strings.Contains(info, "tracking_total_prefixes:0\r\n") {
		t.Errorf("after OFF: %q", info)
	}
	a.rawConn.nc.Close()
	waitFor(t, 5*time.Second, "the closed tracking connection to be dropped", func() bool {
		return strings.Contains(admin.do("INFO", "clients"), "tracking_clients:1\r\n")
	})
}

func lineOf(list, prefix string) string {
	for _, l := range strings.Split(list, "\n") {
		if i := strings.Index(l, prefix); i >= 0 {
			return l[i:]
		}
	}
	return ""
}

// Many tracking connections read while writers change the same keys: each
// reader that read a key sees its invalidation within one round trip of
// the write that follows, with no invalidation lost under concurrency.
func TestTracking_Concurrent(t *testing.T) {
	n := testNode(t)
	const readers, rounds = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := dialTracking(t, n.Addr())
			w := dialRaw(t, n.Addr())
			for i := range rounds {
				k := fmt.Sprintf("shared:%d", i%5)
				a.do("GET", k)
				w.do("INCR", k) // other readers write the same keys too
				a.send(encodeCommand([]string{"PING"}))
				seen := false
				for {
					got := a.reply()
					if got == "+PONG\r\n" {
						break
					}
					if got == invalidation(k) {
						seen = true
					} else if !strings.HasPrefix(got, ">2\r\n$10\r\ninvalidate\r\n") {
						errs <- fmt.Errorf("reader %d: unexpected frame %q", r, got)
						return
					}
				}
				if !seen {
					errs <- fmt.Errorf("reader %d round %d: no invalidation of %s before PONG", r, i, k)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Eviction invalidates like a write.
func TestTracking_Eviction(t *testing.T) {
	n := testNode(t, "maxmemory-policy", "allkeys-random")
	admin := dialRaw(t, n.Addr())
	a := dialTracking(t, n.Addr(), "bcast", "prefix", "ev:")
	admin.do("SET", "ev:1", strings.Repeat("x", 1000))
	if got := a.reply(); got != invalidation("ev:1") {
		t.Fatalf("got %q", got)
	}
	admin.do("CONFIG", "SET", "maxmemory", "1")
	admin.do("SET", "other", "1") // must evict: the only keys go, ev:1 among them
	waitFor(t, 5*time.Second, "eviction", func() bool { return admin.do("EXISTS", "ev:1") == ":0\r\n" })
	if got := a.reply(); got != invalidation("ev:1") {
		t.Fatalf("got %q, want the eviction's invalidation", got)
	}
}

// In a cluster, a tracking connection on one node is told of writes made
// through another: reads served here (ONE), reads forwarded to the slot's
// primary (QUORUM) and keys of slots this node does not replicate.
func TestTracking_Cluster(t *testing.T) {
	tc := startCluster(t, 4, "cluster-replicas", "2")
	// A key replicated on node 0 whose primary is node 1, and one node 0
	// does not replicate.
	replicated := rywKey(t, tc, "rep", 1, 0)
	foreign, ok := findKey(tc, "far", func(reps []string) bool { return !slices.Contains(reps, tc.ID(0)) })
	if !ok {
		t.Fatal("no key outside node 0")
	}
	writer := dialRaw(t, tc.Nodes[2].Addr())
	for _, level := range []string{"ONE", "QUORUM"} {
		t.Run(level, func(t *testing.T) {
			a := dialTracking(t, tc.Nodes[0].Addr())
			a.do("CONSISTENCY", level)
			k := replicated + level
			a.do("GET", k)
			if r := writer.do("SET", k, "v"); r != "+OK\r\n" {
				t.Fatalf("SET: %q", r)
			}
			// The write reaches node 0 as a replica, at once or shortly.
			a.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			if got := a.reply(); got != invalidation(k) {
				t.Fatalf("got %q, want %q", got, invalidation(k))
			}
			a.expectPing(t)
			// A key node 0 never sees change is invalidated after each read.
			f := foreign + level
			if r := a.do("GET", f); r != "_\r\n" {
				t.Fatalf("GET foreign: %q", r)
			}
			if got := a.reply(); got != invalidation(f) {
				t.Fatalf("got %q, want %q", got, invalidation(f))
			}
			a.expectPing(t)
		})
	}
	// FLUSHALL reaches every node's tracking connections.
	a := dialTracking(t, tc.Nodes[3].Addr())
	a.do("GET", replicated)
	writer.do("FLUSHALL")
	a.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		got := a.reply()
		if got == ">2\r\n$10\r\ninvalidate\r\n_\r\n" {
			break
		}
		if !strings.HasPrefix(got, ">2\r\n$10\r\ninvalidate\r\n*") {
			t.Fatalf("got %q, want the flush's null invalidation", got)
		}
	}
}
