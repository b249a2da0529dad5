package commands

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"cairn/resp"
)

// Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH and
// PUBSUB CHANNELS/NUMSUB/NUMPAT, as Redis 7.0. Subscriptions live on the
// node the client is connected to; in a cluster, PUBLISH also runs
// CAIRN.PUBLISH on every other live member, so it reaches subscribers
// everywhere (PUBSUB replies stay node-local, as in Redis Cluster).
//
// Delivery: PUBLISH runs on the publisher's goroutine and never writes into
// a subscriber's Writer. It encodes each frame once per protocol and hands
// it to the subscriber's resp.Conn.Push, a bounded queue that the
// subscriber's push writer (or its own goroutine, at its next flush)
// writes to the socket. A subscriber that lets more than
// pubsubOutputLimit bytes pile up is disconnected.

// pubsubOutputLimit bounds the messages a subscriber leaves unwritten:
// Redis's default hard limit for the pubsub client class (32mb).
const pubsubOutputLimit = 32 << 20

// pubsubState is the node's registry of channel and pattern subscriptions.
//
// Ownership: mu guards both maps and every subscriber's sets. Only a
// subscriber's own connection goroutine changes its subscriptions (under
// the write lock), so it may read its own sets without the lock;
// publishers and PUBSUB read under the read lock.
type pubsubState struct {
	mu       sync.RWMutex
	channels map[string]map[*subscriber]struct{}
	patterns map[string]map[*subscriber]struct{}
	byConn   map[uint64]*subscriber // for CLIENT LIST sub= and psub=
}

// subscriber is one connection's subscriptions.
type subscriber struct {
	conn     *resp.Conn
	channels map[string]struct{}
	patterns map[string]struct{}
}

// count is the number of subscriptions, which keeps a RESP2 client in
// subscribe mode while above zero.
func (sub *subscriber) count() int { return len(sub.channels) + len(sub.patterns) }

// subscriberOf returns the session's subscriber, creating it. Owner only.
func (c *Ctx) subscriberOf() *subscriber {
	if c.Sess.sub == nil {
		c.Sess.sub = &subscriber{conn: c.Conn, channels: map[string]struct{}{}, patterns: map[string]struct{}{}}
	}
	return c.Sess.sub
}

// add subscribes sub to name in the channel or pattern registry and
// reports whether it was new.
func (ps *pubsubState) add(sub *subscriber, name string, pattern bool) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	reg, own := &ps.channels, sub.channels
	if pattern {
		reg, own = &ps.patterns, sub.patterns
	}
	if _, ok := own[name]; ok {
		return false
	}
	if *reg == nil {
		*reg = map[string]map[*subscriber]struct{}{}
	}
	if ps.byConn == nil {
		ps.byConn = map[uint64]*subscriber{}
	}
	set := (*reg)[name]
	if set == nil {
		set = map[*subscriber]struct{}{}
		(*reg)[name] = set
	}
	set[sub] = struct{}{}
	own[name] = struct{}{}
	ps.byConn[sub.conn.ID()] = sub
	return true
}

// remove unsubscribes sub from name and reports whether it was subscribed.
func (ps *pubsubState) remove(sub *subscriber, name string, pattern bool) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	reg, own := ps.channels, sub.channels
	if pattern {
		reg, own = ps.patterns, sub.patterns
	}
	if _, ok := own[name]; !ok {
		return false
	}
	delete(own, name)
	if set := reg[name]; set != nil {
		delete(set, sub)
		if len(set) == 0 {
			delete(reg, name)
		}
	}
	if sub.count() == 0 {
		delete(ps.byConn, sub.conn.ID())
	}
	return true
}

// dropAll removes every subscription of sub (the connection closed).
func (ps *pubsubState) dropAll(sub *subscriber) {
	for _, pattern := range []bool{false, true} {
		for _, name := range sub.names(pattern) {
			ps.remove(sub, name, pattern)
		}
	}
}

// names lists sub's channels or patterns, sorted. Owner only.
func (sub *subscriber) names(pattern bool) []string {
	own := sub.channels
	if pattern {
		own = sub.patterns
	}
	out := make([]string, 0, len(own))
	for name := range own {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// counts returns the channel and pattern subscriptions of a connection.
func (ps *pubsubState) counts(connID uint64) (channels, patterns int) {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	if sub := ps.byConn[connID]; sub != nil {
		return len(sub.channels), len(sub.patterns)
	}
	return 0, 0
}

// publish delivers msg to the subscribers of channel and of the patterns
// matching it, and returns the number of deliveries (Redis counts a client
// once per matching subscription).
func (ps *pubsubState) publish(channel, msg []byte) int {
	var frames [2][]byte // by protocol: RESP2, RESP3
	frame := func(proto int, kind string, parts ...[]byte) []byte {
		w := resp.NewWriter()
		w.SetProto(proto)
		w.Push(1 + len(parts))
		w.BulkString(kind)
		for _, p := range parts {
			w.Bulk(p)
		}
		return w.Buffered()
	}
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	n := 0
	for sub := range ps.channels[string(channel)] {
		i := sub.conn.Proto() - 2
		if frames[i] == nil {
			frames[i] = frame(i+2, "message", channel, msg)
		}
		sub.conn.Push(frames[i], pubsubOutputLimit)
		n++
	}
	for pat, subs := range ps.patterns {
		if !globMatch([]byte(pat), channel, false) {
			continue
		}
		var pframes [2][]byte
		for sub := range subs {
			i := sub.conn.Proto() - 2
			if pframes[i] == nil {
				pframes[i] = frame(i+2, "pmessage", []byte(pat), channel, msg)
			}
			sub.conn.Push(pframes[i], pubsubOutputLimit)
			n++
		}
	}
	return n
}

// writeSubscription writes one (un)subscribe confirmation: a push in
// RESP3, an array in RESP2; name nil writes a null (nothing to unsubscribe).
func writeSubscription(w *resp.Writer, kind string, name []byte, count int) {
	w.Push(3)
	w.BulkString(kind)
	if name == nil {
		w.Null()
	} else {
		w.Bulk(name)
	}
	w.Int(int64(count))
}

func cmdSubscribe(c *Ctx)  { subscribe(c, false) }
func cmdPSubscribe(c *Ctx) { subscribe(c, true) }

func subscribe(c *Ctx, pattern bool) {
	kind := "subscribe"
	if pattern {
		kind = "psubscribe"
	}
	sub := c.subscriberOf()
	c.Conn.HoldPushes()
	for _, name := range c.Args[1:] {
		c.Srv.pubsub.add(sub, string(name), pattern)
		writeSubscription(c.W, kind, name, sub.count())
	}
}

func cmdUnsubscribe(c *Ctx)  { unsubscribe(c, false) }
func cmdPUnsubscribe(c *Ctx) { unsubscribe(c, true) }

// unsubscribe removes the named subscriptions, or all of them when none is
// named; with none to remove it still confirms once, with a null name.
func unsubscribe(c *Ctx, pattern bool) {
	kind := "unsubscribe"
	if pattern {
		kind = "punsubscribe"
	}
	sub := c.subscriberOf()
	c.Conn.HoldPushes()
	names := c.Args[1:]
	if len(names) == 0 {
		for _, n := range sub.names(pattern) {
			names = append(names, []byte(n))
		}
		if len(names) == 0 {
			writeSubscription(c.W, kind, nil, sub.count())
			return
		}
	}
	for _, name := range names {
		c.Srv.pubsub.remove(sub, string(name), pattern)
		writeSubscription(c.W, kind, name, sub.count())
	}
}

func cmdPublish(c *Ctx) {
	n := c.Srv.pubsub.publish(c.Args[1], c.Args[2])
	if c.Srv.cluster != nil {
		n += c.Srv.publishToPeers(c.Args[1], c.Args[2])
	}
	c.W.Int(int64(n))
}

// cmdPeerPublish is CAIRN.PUBLISH channel message: a peer's PUBLISH,
// delivered to this node's subscribers only.
func cmdPeerPublish(c *Ctx) { c.W.Int(int64(c.Srv.pubsub.publish(c.Args[1], c.Args[2]))) }

// publishToPeers runs CAIRN.PUBLISH on every other live member in parallel
// and returns the sum of their receivers. A member that fails or does not
// answer in time is skipped: as in Redis Cluster, a message is delivered at
// most once, with no retry.
func (s *Server) publishToPeers(channel, msg []byte) int {
	v := s.cluster.View()
	var wg sync.WaitGroup
	var total atomic.Int64
	for id := range v.Members {
		if id == s.cluster.Self() || !v.Alive[id] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := s.peerCall(id, []byte("CAIRN.PUBLISH"), channel, msg); err == nil {
				total.Add(r.Int)
			}
		}()
	}
	wg.Wait()
	return int(total.Load())
}

// cmdPubsubChannels lists the channels with subscribers, matching the
// optional pattern.
func cmdPubsubChannels(c *Ctx) {
	if len(c.Args) > 3 {
		c.W.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try PUBSUB HELP.", oneLine(string(c.Args[1]))))
		return
	}
	ps := &c.Srv.pubsub
	ps.mu.RLock()
	var out []string
	for ch := range ps.channels {
		if len(c.Args) == 2 || globMatch(c.Args[2], []byte(ch), false) {
			out = append(out, ch)
		}
	}
	ps.mu.RUnlock()
	sort.Strings(out)
	c.W.Array(len(out))
	for _, ch := range out {
		c.W.BulkString(ch)
	}
}

// cmdPubsubNumsub replies with each named channel and its subscriber count.
func cmdPubsubNumsub(c *Ctx) {
	ps := &c.Srv.pubsub
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	c.W.Array(2 * (len(c.Args) - 2))
	for _, ch := range c.Args[2:] {
		c.W.Bulk(ch)
		c.W.Int(int64(len(ps.channels[string(ch)])))
	}
}

// cmdPubsubNumpat is the number of distinct patterns subscribed to.
func cmdPubsubNumpat(c *Ctx) {
	ps := &c.Srv.pubsub
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	c.W.Int(int64(len(ps.patterns)))
}

// subscribeModeGate answers commands from a RESP2 client in subscribe mode
// as Redis processCommand does: PING replies ["pong", arg], the
// (un)subscribe commands, QUIT and RESET run, anything else is refused. It
// reports whether it answered.
func (s *Server) subscribeModeGate(c *resp.Conn, sess *Session, spec *Spec, args [][]byte) bool {
	if sess.sub == nil || sess.sub.count() == 0 || c.Proto() != 2 {
		return false
	}
	switch spec.fullName {
	case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "quit", "reset":
		return false
	case "ping":
		c.W.Array(2)
		c.W.BulkString("pong")
		if len(args) > 1 {
			c.W.Bulk(args[1])
		} else {
			c.W.BulkString("")
		}
		return true
	}
	spec.stats.rejected.Add(1)
	s.reject(c, sess, fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", spec.fullName))
	return true
}

var pubsubCommands = []*Spec{
	{Name: "cairn.publish", Arity: 3, Flags: Internal | NoScript | Loading | Stale, Handler: peerOnly(cmdPeerPublish)},
	{Name: "subscribe", Arity: -2, Flags: PubSub | NoScript | Loading | Stale, ACL: CatPubSub, Group: "pubsub", Since: "2.0.0",
		Summary: "Listen for messages published to the given channels", Complexity: "O(N) where N is the number of channels to subscribe to.",
		Handler: cmdSubscribe},
	{Name: "unsubscribe", Arity: -1, Flags: PubSub | NoScript | Loading | Stale, ACL: CatPubSub, Group: "pubsub", Since: "2.0.0",
		Summary: "Stop listening for messages posted to the given channels", Complexity: "O(N) where N is the number of clients already subscribed to a channel.",
		Handler: cmdUnsubscribe},
	{Name: "psubscribe", Arity: -2, Flags: PubSub | NoScript | Loading | Stale, ACL: CatPubSub, Group: "pubsub", Since: "2.0.0",
		Summary: "Listen for messages published to channels matching the given patterns", Complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
		Handler: cmdPSubscribe},
	{Name: "punsubscribe", Arity: -1, Flags: PubSub | NoScript | Loading | Stale, ACL: CatPubSub, Group: "pubsub", Since: "2.0.0",
		Summary: "Stop listening for messages posted to channels matching the given patterns", Complexity: "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
		Handler: cmdPUnsubscribe},
	{Name: "publish", Arity: 3, Flags: PubSub | Loading | Stale | Fast, ACL: CatPubSub, Group: "pubsub", Since: "2.0.0",
		Summary: "Post a message to a channel", Complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
		Handler: cmdPublish},
	{Name: "pubsub", Arity: -2, Group: "pubsub", Since: "2.8.0", Summary: "A container for Pub/Sub commands",
		Complexity: "Depends on subcommand.", Sub: []*Spec{
			{Name: "channels", Arity: -2, Flags: PubSub | Loading | Stale, ACL: CatPubSub, Group: "pubsub", Since: "2.8.0",
				Summary: "List active channels", Complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
				Handler: cmdPubsubChannels},
			{Name: "numsub", Arity: -2, Flags: PubSub | Loading | Stale, ACL: CatPubSub, Group: "pubsub", Since: "2.8.0",
				Summary: "Get the count of subscribers for channels", Complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
				Handler: cmdPubsubNumsub},
			{Name: "numpat", Arity: 2, Flags: PubSub | Loading | Stale, ACL: CatPubSub, Group: "pubsub", Since: "2.8.0",
				Summary: "Get the count of unique patterns pattern subscriptions", Complexity: "O(1)",
				Handler: cmdPubsubNumpat},
		}},
}
