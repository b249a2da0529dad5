package commands

import (
	"fmt"
	"testing"
)

// pubsubDiffer drives a subscriber and a publisher connection on each of
// redis-server and Cairn and compares every frame byte for byte.
type pubsubDiffer struct {
	sub, pub *differ
}

func newPubsubDiffer(t *testing.T, proto int) *pubsubDiffer {
	r := startRedis(t)
	n := testNode(t)
	d := &pubsubDiffer{
		sub: &differ{t: t, redis: dialRaw(t, r.addr), cairn: dialRaw(t, n.Addr())},
		pub: &differ{t: t, redis: dialRaw(t, r.addr), cairn: dialRaw(t, n.Addr())},
	}
	if proto == 3 {
		d.sub.redis.do("HELLO", "3") // server details differ: not compared
		d.sub.cairn.do("HELLO", "3")
	}
	return d
}

// frames reads n more frames on both subscriber connections and compares them.
func (d *pubsubDiffer) frames(n int) {
	d.sub.t.Helper()
	for i := 0; i < n; i++ {
		want, got := d.sub.redis.reply(), d.sub.cairn.reply()
		if got != want {
			d.sub.t.Errorf("frame %d:\n redis: %q\n cairn: %q", i, want, got)
		}
	}
}

func TestPubSub_Diff(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			d := newPubsubDiffer(t, proto)
			s, p := d.sub, d.pub

			s.do("UNSUBSCRIBE") // nothing subscribed: one frame with a null name
			s.do("PUNSUBSCRIBE")
			s.do("SUBSCRIBE", "news", "sport")
			d.frames(1)
			s.do("SUBSCRIBE", "news") // already subscribed: count unchanged
			p.do("PUBLISH", "news", "hello")
			d.frames(1)
			p.do("PUBLISH", "nobody", "x")
			s.do("PSUBSCRIBE", "n*", "s?ort")
			d.frames(1)
			p.do("PUBLISH", "news", "both") // channel and pattern: 2 receivers
			d.frames(2)
			p.do("PUBLISH", "sport", "")
			d.frames(2)
			p.doSorted("PUBSUB", "CHANNELS")
			p.do("PUBSUB", "CHANNELS", "n*")
			p.do("PUBSUB", "CHANNELS", "zzz")
			p.do("PUBSUB", "NUMSUB", "news", "sport", "none")
			p.do("PUBSUB", "NUMSUB")
			p.do("PUBSUB", "NUMPAT")
			p.do("PUBSUB", "CHANNELS", "a", "b")
			p.do("PUBSUB", "NUMPAT", "x")

			if proto == 2 {
				s.do("GET", "k")
				s.do("CLIENT", "ID")
				s.do("PING")
				s.do("PING", "there")
			} else {
				s.do("SET", "k", "v")
				s.do("GET", "k")
				s.do("PING")
			}

			s.do("UNSUBSCRIBE", "news", "nope")
			d.frames(1)
			p.do("PUBLISH", "news", "pattern only")
			d.frames(1)
			s.do("PUNSUBSCRIBE", "n*", "s?ort")
			d.frames(1)
			s.do("UNSUBSCRIBE") // the one left: sport
			p.do("PUBSUB", "NUMPAT")
			p.do("PUBSUB", "CHANNELS")
			s.do("GET", "k") // out of subscribe mode
			s.do("PING")
		})
	}
}

// Sharded Pub/Sub frame by frame against redis-server (standalone, where
// channels of different slots may share one SSUBSCRIBE): shard counts are
// kept apart from channel and pattern counts, UNSUBSCRIBE leaves shard
// subscriptions alone, and RESP2 subscribe mode lasts while any remains.
func TestPubSub_ShardDiff(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			d := newPubsubDiffer(t, proto)
			s, p := d.sub, d.pub

			s.do("SUNSUBSCRIBE") // nothing subscribed: one frame with a null name
			s.do("SSUBSCRIBE", "a", "b", "c")
			d.frames(2)
			s.do("SSUBSCRIBE", "a") // already subscribed: count unchanged
			s.do("SUBSCRIBE", "x")  // counted apart from the shard channels
			s.do("PSUBSCRIBE", "p*")
			p.do("SPUBLISH", "a", "hello")
			d.frames(1)
			p.do("PUBLISH", "a", "not for shard subscribers")
			p.do("SPUBLISH", "x", "not for channel subscribers")
			p.do("SPUBLISH", "pq", "not for pattern subscribers")
			p.do("PUBLISH", "x", "channel")
			d.frames(1)
			p.doSorted("PUBSUB", "SHARDCHANNELS")
			p.do("PUBSUB", "SHARDCHANNELS", "a*")
			p.do("PUBSUB", "SHARDCHANNELS", "x")
			p.do("PUBSUB", "SHARDNUMSUB", "a", "b", "zz")
			p.do("PUBSUB", "SHARDNUMSUB")
			p.do("PUBSUB", "SHARDCHANNELS", "a", "b")
			p.do("PUBSUB", "HELP")
			p.do("PUBSUB", "NOSUCH")
			p.do("PUBSUB", "NUMSUB", "a", "x")
			p.do("PUBSUB", "CHANNELS")
			d.infoCounts()

			s.do("UNSUBSCRIBE") // drops x only
			s.do("PUNSUBSCRIBE")
			p.do("SPUBLISH", "b", "still subscribed")
			d.frames(1)
			if proto == 2 {
				s.do("PING") // still in subscribe mode: the shard channels
				s.do("GET", "k")
			}
			s.do("SUNSUBSCRIBE", "b", "zz")
			d.frames(1)
			s.do("SUNSUBSCRIBE", "a")
			s.do("SUNSUBSCRIBE") // the one left: c
			s.do("SUNSUBSCRIBE")
			p.do("PUBSUB", "SHARDCHANNELS")
			p.do("SPUBLISH", "c", "nobody")
			s.do("PING") // out of subscribe mode

			// Errors and arities.
			p.do("SSUBSCRIBE")
			p.do("SPUBLISH", "a")
			p.do("MULTI")
			p.do("SSUBSCRIBE", "a")
			p.do("SPUBLISH", "a", "in a transaction")
			p.do("EXEC")
		})
	}
}

// COMMAND GETKEYS and GETKEYSANDFLAGS: shard channels are not keys.
func TestPubSub_ShardGetKeysDiff(t *testing.T) {
	d := newDiffer(t)
	for _, args := range [][]string{
		{"COMMAND", "GETKEYS", "SSUBSCRIBE", "a", "b"},
		{"COMMAND", "GETKEYS", "SUNSUBSCRIBE", "a"},
		{"COMMAND", "GETKEYS", "SPUBLISH", "a", "m"},
		{"COMMAND", "GETKEYSANDFLAGS", "SSUBSCRIBE", "a"},
		{"COMMAND", "INFO", "SSUBSCRIBE", "SUNSUBSCRIBE", "SPUBLISH", "PUBSUB|SHARDCHANNELS", "PUBSUB|SHARDNUMSUB"},
	} {
		d.do(args...)
	}
}

// infoCounts compares INFO stats' subscription counts on both servers.
func (d *pubsubDiffer) infoCounts() {
	d.pub.t.Helper()
	want, got := infoKV(d.pub.redis.do("INFO", "stats")), infoKV(d.pub.cairn.do("INFO", "stats"))
	for _, k := range []string{"pubsub_channels", "pubsub_patterns", "pubsubshard_channels"} {
		if want[k] == "" || got[k] != want[k] {
			d.pub.t.Errorf("INFO %s: redis %q, cairn %q", k, want[k], got[k])
		}
	}
}
