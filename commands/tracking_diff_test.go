package commands

import (
	"strings"
	"testing"
	"time"
)

// trackingDiffer drives a tracking connection and a writer connection on
// each of redis-server and Cairn and compares every reply and
// invalidation frame byte for byte.
type trackingDiffer struct {
	t        *testing.T
	rd       *redisServer
	node     *Node
	tr, wr   *differ // the tracking connection and another client
	trackIDs [2]string
}

func newTrackingDiffer(t *testing.T, proto int) *trackingDiffer {
	r := startRedis(t)
	n := testNode(t)
	d := &trackingDiffer{t: t, rd: r, node: n,
		tr: &differ{t: t, redis: dialRaw(t, r.addr), cairn: dialRaw(t, n.Addr())},
		wr: &differ{t: t, redis: dialRaw(t, r.addr), cairn: dialRaw(t, n.Addr())},
	}
	if proto == 3 {
		d.tr.redis.do("HELLO", "3") // server details differ: not compared
		d.tr.cairn.do("HELLO", "3")
	}
	return d
}

// push reads one more frame on both tracking connections and compares.
func (d *trackingDiffer) push(c *differ) {
	d.t.Helper()
	want, got := c.redis.reply(), c.cairn.reply()
	if got != want {
		d.t.Errorf("frame:\n redis: %q\n cairn: %q", want, got)
	}
}

// both sends a command whose arguments differ by server (client IDs) and
// compares the replies.
func (d *trackingDiffer) both(c *differ, redisArgs, cairnArgs []string) {
	d.t.Helper()
	want, got := c.redis.do(redisArgs...), c.cairn.do(cairnArgs...)
	if got != want {
		d.t.Errorf("%q:\n redis: %q\n cairn: %q", cairnArgs, want, got)
	}
}

func TestTracking_DiffRESP3(t *testing.T) {
	d := newTrackingDiffer(t, 3)
	a, b := d.tr, d.wr

	// Option checks and the state of a connection without tracking.
	a.do("CLIENT", "TRACKINGINFO")
	a.do("CLIENT", "GETREDIR")
	a.do("CLIENT", "CACHING", "yes")
	a.do("CLIENT", "TRACKING", "on", "prefix", "a")
	a.do("CLIENT", "TRACKING", "on", "bcast", "optin")
	a.do("CLIENT", "TRACKING", "on", "optin", "optout")
	a.do("CLIENT", "TRACKING", "on", "bcast", "prefix", "ab", "prefix", "a")
	a.do("CLIENT", "TRACKING", "on", "redirect", "999999")
	a.do("CLIENT", "TRACKING", "on", "redirect", "x")
	a.do("CLIENT", "TRACKING", "maybe")
	a.do("CLIENT", "TRACKING", "on", "nonsense")

	// Default mode: a read remembers, another client's write invalidates once.
	a.do("CLIENT", "TRACKING", "on")
	a.do("CLIENT", "TRACKINGINFO")
	a.do("CLIENT", "GETREDIR")
	a.do("CLIENT", "CACHING", "yes")
	a.do("GET", "k1")
	a.do("MGET", "k2", "k3")
	b.do("SET", "k1", "v")
	d.push(a)
	b.do("MSET", "k2", "x", "k3", "y")
	d.push(a)
	d.push(a)
	b.do("SET", "k1", "again") // forgotten after the first invalidation
	a.do("PING")
	// Its own write: the reply comes first, then the invalidation.
	a.do("GET", "k1")
	a.do("SET", "k1", "mine")
	d.push(a)
	// A failed read (wrong type) still remembers, as Redis.
	b.do("ZADD", "z", "1", "m")
	a.do("GET", "z")
	a.do("ZSCORE", "z", "m")
	b.do("ZINCRBY", "z", "2", "m")
	d.push(a)
	// Deletes, renames and expiry invalidate.
	a.do("GET", "k1")
	b.do("DEL", "k1")
	d.push(a)
	b.do("SET", "src", "1")
	a.do("GET", "src")
	a.do("GET", "dst")
	b.do("RENAME", "src", "dst")
	d.push(a)
	d.push(a)
	b.do("SET", "ttl", "1", "PX", "50")
	a.do("GET", "ttl")
	time.Sleep(150 * time.Millisecond)
	d.push(a) // expired by the active cycle (Redis) or the expiry loop (Cairn)
	// Transactions and read-only scripts remember what they read.
	a.do("MULTI")
	a.do("GET", "t1")
	a.do("STRLEN", "t2")
	a.do("EXEC")
	b.do("SET", "t1", "x")
	d.push(a)
	a.do("EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "s1")
	b.do("SET", "s1", "x")
	d.push(a)
	// Flushes send a null to every tracking connection.
	a.do("GET", "f")
	b.do("FLUSHDB")
	d.push(a)
	b.do("FLUSHALL")
	d.push(a)

	// NOLOOP: its own writes are not sent back.
	a.do("CLIENT", "TRACKING", "on", "noloop")
	a.do("CLIENT", "TRACKINGINFO")
	a.do("GET", "n")
	a.do("SET", "n", "1")
	b.do("SET", "n", "2")
	a.do("PING")
	a.do("GET", "n")
	b.do("SET", "n", "3")
	d.push(a)

	// OPTIN: only reads after CLIENT CACHING yes are remembered.
	a.do("CLIENT", "TRACKING", "on", "optout") // switching from default to OPTOUT is allowed once off
	a.do("CLIENT", "TRACKING", "off")
	a.do("CLIENT", "TRACKING", "on", "optin")
	a.do("CLIENT", "TRACKING", "on", "optout")
	a.do("CLIENT", "CACHING", "no")
	a.do("GET", "o1")
	b.do("SET", "o1", "x")
	a.do("CLIENT", "CACHING", "yes")
	a.do("CLIENT", "TRACKINGINFO") // shows caching-yes; CLIENT commands keep it
	a.do("GET", "o1")
	b.do("SET", "o1", "y")
	d.push(a)
	a.do("CLIENT", "CACHING", "yes")
	a.do("GET", "o1")
	a.do("CLIENT", "TRACKINGINFO") // CACHING covered one command
	a.do("GET", "o3")
	b.do("SET", "o3", "z")
	b.do("SET", "o1", "z")
	d.push(a)
	a.do("CLIENT", "CACHING", "yes") // rueidis's pattern: CACHING then MULTI PTTL GET EXEC
	a.do("MULTI")
	a.do("PTTL", "o2")
	a.do("GET", "o2")
	a.do("EXEC")
	b.do("SET", "o2", "x")
	d.push(a)

	// OPTOUT: reads are remembered unless CLIENT CACHING no came first.
	a.do("CLIENT", "TRACKING", "off")
	a.do("CLIENT", "TRACKING", "on", "optout")
	a.do("CLIENT", "CACHING", "yes")
	a.do("CLIENT", "CACHING", "no")
	a.do("GET", "p1")
	a.do("GET", "p2")
	b.do("SET", "p1", "x")
	b.do("SET", "p2", "x")
	d.push(a)

	// BCAST: every change under a prefix, the keys of one command together.
	a.do("CLIENT", "TRACKING", "off")
	a.do("CLIENT", "TRACKING", "on", "bcast", "prefix", "user:", "prefix", "team:")
	a.do("CLIENT", "TRACKINGINFO")
	a.do("CLIENT", "TRACKING", "on", "bcast", "prefix", "user:x")
	a.do("CLIENT", "TRACKING", "on")
	b.do("MSET", "user:2", "a", "user:1", "b", "other", "c", "user:2", "d")
	d.push(a)
	b.do("SET", "team:9", "a")
	d.push(a)
	b.do("SET", "nobody", "a")
	a.do("PING")
	a.do("CLIENT", "TRACKING", "on", "bcast", "prefix", "zz") // adds a prefix
	a.do("CLIENT", "TRACKINGINFO")
	b.do("DEL", "zz1", "user:1", "user:2")
	d.push(a)
	a.do("CLIENT", "TRACKING", "off")
	a.do("CLIENT", "TRACKING", "on", "bcast", "noloop")
	a.do("SET", "mine", "1")
	b.do("SET", "theirs", "1")
	d.push(a)
	a.do("CLIENT", "TRACKING", "off")
	a.do("CLIENT", "TRACKINGINFO")
	b.do("SET", "user:1", "x")
	a.do("PING")
}

func TestTracking_DiffRedirect(t *testing.T) {
	d := newTrackingDiffer(t, 2)
	a, b := d.tr, d.wr
	// The redirect target: a RESP2 subscriber gets __redis__:invalidate
	// messages; a RESP3 one gets invalidate pushes.
	sub := &differ{t: t, redis: dialRaw(t, d.rd.addr), cairn: dialRaw(t, d.node.Addr())}
	rid, cid := clientID(t, sub.redis), clientID(t, sub.cairn)
	a.do("CLIENT", "TRACKING", "on", "redirect", "0") // 0 names no client
	a.do("CLIENT", "TRACKING", "off")
	sub.do("SUBSCRIBE", "__redis__:invalidate")
	d.both(a, []string{"CLIENT", "TRACKING", "on", "redirect", rid}, []string{"CLIENT", "TRACKING", "on", "redirect", cid})
	want, got := a.redis.do("CLIENT", "GETREDIR"), a.cairn.do("CLIENT", "GETREDIR")
	if want != ":"+rid+"\r\n" || got != ":"+cid+"\r\n" {
		t.Errorf("GETREDIR: redis %q (id %s), cairn %q (id %s)", want, rid, got, cid)
	}
	a.do("GET", "r1")
	b.do("SET", "r1", "x")
	d.push(sub)
	a.do("GET", "r2")
	b.do("FLUSHALL")
	d.push(sub)

	// A RESP2 connection without a redirect gets nothing.
	c := &differ{t: t, redis: dialRaw(t, d.rd.addr), cairn: dialRaw(t, d.node.Addr())}
	c.do("CLIENT", "TRACKING", "on")
	c.do("GET", "q")
	b.do("SET", "q", "1")
	c.do("PING")

	// A RESP3 tracking connection whose redirect target is gone is told so.
	e := &differ{t: t, redis: dialRaw(t, d.rd.addr), cairn: dialRaw(t, d.node.Addr())}
	e.redis.do("HELLO", "3")
	e.cairn.do("HELLO", "3")
	gone := &differ{t: t, redis: dialRaw(t, d.rd.addr), cairn: dialRaw(t, d.node.Addr())}
	grid, gcid := clientID(t, gone.redis), clientID(t, gone.cairn)
	d.both(e, []string{"CLIENT", "TRACKING", "on", "redirect", grid}, []string{"CLIENT", "TRACKING", "on", "redirect", gcid})
	e.do("GET", "g")
	gone.redis.nc.Close()
	gone.cairn.nc.Close()
	waitFor(t, 5*time.Second, "the redirect connections to close", func() bool {
		return !strings.Contains(d.wr.redis.do("CLIENT", "LIST"), "id="+grid+" ") &&
			!strings.Contains(d.wr.cairn.do("CLIENT", "LIST"), "id="+gcid+" ")
	})
	b.do("SET", "g", "1")
	want, got = e.redis.reply(), e.cairn.reply()
	if want != ">2\r\n$21\r\ntracking-redir-broken\r\n:"+grid+"\r\n" || got != ">2\r\n$21\r\ntracking-redir-broken\r\n:"+gcid+"\r\n" {
		t.Errorf("broken redirect: redis %q, cairn %q", want, got)
	}
	want, got = e.redis.do("CLIENT", "TRACKINGINFO"), e.cairn.do("CLIENT", "TRACKINGINFO")
	if strings.Replace(want, ":"+grid+"\r\n", ":ID\r\n", 1) != strings.Replace(got, ":"+gcid+"\r\n", ":ID\r\n", 1) ||
		!strings.Contains(got, "broken_redirect") {
		t.Errorf("TRACKINGINFO with a broken redirect: redis %q, cairn %q", want, got)
	}
}

// clientID returns a connection's CLIENT ID.
func clientID(t *testing.T, c *rawConn) string {
	t.Helper()
	r := c.do("CLIENT", "ID")
	if !strings.HasPrefix(r, ":") {
		t.Fatalf("CLIENT ID: %q", r)
	}
	return strings.TrimSpace(r[1:])
}
