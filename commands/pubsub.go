package commands

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"cairn/resp"
)

// Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH,
// their sharded forms SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, and PUBSUB
// CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/SHARDNUMSUB, as Redis 7.0.
// Subscriptions live on the node the client is connected to; in a cluster,
// PUBLISH and SPUBLISH also run CAIRN.PUBLISH or CAIRN.SPUBLISH on every
// other live member, so they reach subscribers everywhere (PUBSUB replies
// stay node-local, as in Redis Cluster). A shard channel is a key for
// COMMAND and for slots only: SSUBSCRIBE and SUNSUBSCRIBE refuse channels
// of different slots in cluster mode (CROSSSLOT), but since a client may
// subscribe on any node, SPUBLISH is not routed to a slot's node.
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

// subKind is a kind of subscription. Each kind has its own registry, its
// own commands and its own message frame.
type subKind uint8

const (
	kindChannel subKind = iota // SUBSCRIBE, PUBLISH
	kindPattern                // PSUBSCRIBE, PUBLISH
	kindShard                  // SSUBSCRIBE, SPUBLISH
	numKinds
)

// kindFrames are each kind's frame names: the subscribe and unsubscribe
// confirmations and the message.
var kindFrames = [numKinds]struct{ subscribe, unsubscribe, message string }{
	kindChannel: {"subscribe", "unsubscribe", "message"},
	kindPattern: {"psubscribe", "punsubscribe", "pmessage"},
	kindShard:   {"ssubscribe", "sunsubscribe", "smessage"},
}

// pubsubState is the node's registry of subscriptions, one map per kind
// from channel (or pattern) to its subscribers.
//
// Ownership: mu guards the maps and every subscriber's sets. Only a
// subscriber's own connection goroutine changes its subscriptions (under
// the write lock), so it may read its own sets without the lock;
// publishers, PUBSUB, CLIENT LIST and ACL SETUSER read under the read lock.
type pubsubState struct {
	mu     sync.RWMutex
	regs   [numKinds]map[string]map[*subscriber]struct{}
	byConn map[uint64]*subscriber // for CLIENT LIST sub=, psub=, ssub= and ACL SETUSER
}

// subscriber is one connection's subscriptions, by kind.
type subscriber struct {
	conn  *resp.Conn
	names [numKinds]map[string]struct{}
}

// count is the number a kind's confirmations report: shard subscriptions
// are counted apart from channels and patterns (Redis 7.0).
func (sub *subscriber) count(k subKind) int {
	if k == kindShard {
		return len(sub.names[kindShard])
	}
	return len(sub.names[kindChannel]) + len(sub.names[kindPattern])
}

// total is the number of subscriptions of every kind, which keeps a RESP2
// client in subscribe mode while above zero.
func (sub *subscriber) total() int {
	n := 0
	for _, own := range sub.names {
		n += len(own)
	}
	return n
}

// subscriberOf returns the session's subscriber, creating it. Owner only.
func (c *Ctx) subscriberOf() *subscriber {
	if c.Sess.sub == nil {
		sub := &subscriber{conn: c.Conn}
		for k := range sub.names {
			sub.names[k] = map[string]struct{}{}
		}
		c.Sess.sub = sub
	}
	return c.Sess.sub
}

// add subscribes sub to name in kind's registry and reports whether it
// was new.
func (ps *pubsubState) add(sub *subscriber, name string, k subKind) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	own := sub.names[k]
	if _, ok := own[name]; ok {
		return false
	}
	if ps.regs[k] == nil {
		ps.regs[k] = map[string]map[*subscriber]struct{}{}
	}
	if ps.byConn == nil {
		ps.byConn = map[uint64]*subscriber{}
	}
	set := ps.regs[k][name]
	if set == nil {
		set = map[*subscriber]struct{}{}
		ps.regs[k][name] = set
	}
	set[sub] = struct{}{}
	own[name] = struct{}{}
	ps.byConn[sub.conn.ID()] = sub
	return true
}

// remove unsubscribes sub from name and reports whether it was subscribed.
func (ps *pubsubState) remove(sub *subscriber, name string, k subKind) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	own := sub.names[k]
	if _, ok := own[name]; !ok {
		return false
	}
	delete(own, name)
	if set := ps.regs[k][name]; set != nil {
		delete(set, sub)
		if len(set) == 0 {
			delete(ps.regs[k], name)
		}
	}
	if sub.total() == 0 {
		delete(ps.byConn, sub.conn.ID())
	}
	return true
}

// dropAll removes every subscription of sub (the connection closed).
func (ps *pubsubState) dropAll(sub *subscriber) {
	for k := range numKinds {
		for _, name := range sub.list(k) {
			ps.remove(sub, name, k)
		}
	}
}

// list returns sub's subscriptions of kind k, sorted. Owner only.
func (sub *subscriber) list(k subKind) []string {
	out := make([]string, 0, len(sub.names[k]))
	for name := range sub.names[k] {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// kindCounts returns a connection's number of subscriptions of each kind.
func (ps *pubsubState) kindCounts(connID uint64) (n [numKinds]int) {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	if sub := ps.byConn[connID]; sub != nil {
		for k, own := range sub.names {
			n[k] = len(own)
		}
	}
	return n
}

// sizes is the number of channels, patterns and shard channels with
// subscribers (INFO stats).
func (ps *pubsubState) sizes() (n [numKinds]int) {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	for k, reg := range ps.regs {
		n[k] = len(reg)
	}
	return n
}

// counts returns a connection's channel and pattern subscriptions.
func (ps *pubsubState) counts(connID uint64) (channels, patterns int) {
	n := ps.kindCounts(connID)
	return n[kindChannel], n[kindPattern]
}

// publish delivers msg to the subscribers of channel and of the patterns
// matching it, and returns the number of deliveries (Redis counts a client
// once per matching subscription).
func (ps *pubsubState) publish(channel, msg []byte) int {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	n := deliver(ps.regs[kindChannel][string(channel)], kindChannel, nil, channel, msg)
	for pat, subs := range ps.regs[kindPattern] {
		if globMatch([]byte(pat), channel, false) {
			n += deliver(subs, kindPattern, []byte(pat), channel, msg)
		}
	}
	return n
}

// spublish delivers msg to the shard subscribers of channel and returns
// their number.
func (ps *pubsubState) spublish(channel, msg []byte) int {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return deliver(ps.regs[kindShard][string(channel)], kindShard, nil, channel, msg)
}

// deliver pushes one message frame of kind k (with the pattern first when
// pat is not nil) to every subscriber in subs, encoding it at most once per
// protocol, and returns the number of subscribers. The caller holds mu.
func deliver(subs map[*subscriber]struct{}, k subKind, pat, channel, msg []byte) int {
	var frames [2][]byte // by protocol: RESP2, RESP3
	for sub := range subs {
		i := sub.conn.Proto() - 2
		if frames[i] == nil {
			w := resp.NewWriter()
			w.SetProto(i + 2)
			if pat != nil {
				w.Push(4)
				w.BulkString(kindFrames[k].message)
				w.Bulk(pat)
			} else {
				w.Push(3)
				w.BulkString(kindFrames[k].message)
			}
			w.Bulk(channel)
			w.Bulk(msg)
			frames[i] = w.Buffered()
		}
		sub.conn.Push(frames[i], pubsubOutputLimit)
	}
	return len(subs)
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

func cmdSubscribe(c *Ctx)    { subscribe(c, kindChannel) }
func cmdPSubscribe(c *Ctx)   { subscribe(c, kindPattern) }
func cmdSSubscribe(c *Ctx)   { subscribe(c, kindShard) }
func cmdUnsubscribe(c *Ctx)  { unsubscribe(c, kindChannel) }
func cmdPUnsubscribe(c *Ctx) { unsubscribe(c, kindPattern) }
func cmdSUnsubscribe(c *Ctx) { unsubscribe(c, kindShard) }

func subscribe(c *Ctx, k subKind) {
	if k == kindShard && !shardArgsOK(c) {
		return
	}
	sub := c.subscriberOf()
	c.Conn.HoldPushes()
	for _, name := range c.Args[1:] {
		c.Srv.pubsub.add(sub, string(name), k)
		writeSubscription(c.W, kindFrames[k].subscribe, name, sub.count(k))
	}
}

// unsubscribe removes the named subscriptions, or all of them when none is
// named; with none to remove it still confirms once, with a null name.
func unsubscribe(c *Ctx, k subKind) {
	if k == kindShard && !shardArgsOK(c) {
		return
	}
	kind := kindFrames[k].unsubscribe
	sub := c.subscriberOf()
	c.Conn.HoldPushes()
	names := c.Args[1:]
	if len(names) == 0 {
		for _, n := range sub.list(k) {
			names = append(names, []byte(n))
		}
		if len(names) == 0 {
			writeSubscription(c.W, kind, nil, sub.count(k))
			return
		}
	}
	for _, name := range names {
		c.Srv.pubsub.remove(sub, string(name), k)
		writeSubscription(c.W, kind, name, sub.count(k))
	}
}

// shardArgsOK answers SSUBSCRIBE and SUNSUBSCRIBE's refusals and reports
// whether the command may go on: inside EXEC, Redis refuses SSUBSCRIBE
// (a transaction's client cannot enter subscribe mode, and only SUBSCRIBE
// and PSUBSCRIBE are excepted); in cluster mode, the shard channels must
// hash to one slot.
func shardArgsOK(c *Ctx) bool {
	if c.Spec.fullName == "ssubscribe" && inExec(c) {
		c.W.Error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
		return false
	}
	if c.Srv.cluster != nil && len(c.Args) > 2 {
		if _, same := keysSlot(c.Args[1:]); !same {
			c.W.Error(errCrossSlot)
			return false
		}
	}
	return true
}

func cmdPublish(c *Ctx)  { publish(c, false) }
func cmdSPublish(c *Ctx) { publish(c, true) }

// publish is PUBLISH and SPUBLISH: this node's subscribers, then in a
// cluster every other member's.
func publish(c *Ctx, shard bool) {
	var n int
	if shard {
		n = c.Srv.pubsub.spublish(c.Args[1], c.Args[2])
	} else {
		n = c.Srv.pubsub.publish(c.Args[1], c.Args[2])
	}
	if c.Srv.cluster != nil {
		n += c.Srv.publishToPeers(c.Args[1], c.Args[2], shard)
	}
	c.W.Int(int64(n))
}

// cmdPeerPublish is CAIRN.PUBLISH and CAIRN.SPUBLISH channel message: a
// peer's PUBLISH or SPUBLISH, delivered to this node's subscribers only.
func cmdPeerPublish(c *Ctx) {
	if c.Spec.fullName == "cairn.spublish" {
		c.W.Int(int64(c.Srv.pubsub.spublish(c.Args[1], c.Args[2])))
	} else {
		c.W.Int(int64(c.Srv.pubsub.publish(c.Args[1], c.Args[2])))
	}
}

// publishToPeers runs CAIRN.PUBLISH (CAIRN.SPUBLISH with shard) on every
// other live member and returns the sum of their receivers; as in Redis
// Cluster, a message is delivered at most once (onPeers).
func (s *Server) publishToPeers(channel, msg []byte, shard bool) int {
	cmd := []byte("CAIRN.PUBLISH")
	if shard {
		cmd = []byte("CAIRN.SPUBLISH")
	}
	return int(s.onPeers(cmd, channel, msg))
}

func cmdPubsubChannels(c *Ctx)      { pubsubChannels(c, kindChannel) }
func cmdPubsubShardChannels(c *Ctx) { pubsubChannels(c, kindShard) }
func cmdPubsubNumsub(c *Ctx)        { pubsubNumsub(c, kindChannel) }
func cmdPubsubShardNumsub(c *Ctx)   { pubsubNumsub(c, kindShard) }

// pubsubChannels lists the channels (or shard channels) with subscribers,
// matching the optional pattern.
func pubsubChannels(c *Ctx, k subKind) {
	if len(c.Args) > 3 {
		c.W.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try PUBSUB HELP.", oneLine(string(c.Args[1]))))
		return
	}
	ps := &c.Srv.pubsub
	ps.mu.RLock()
	var out []string
	for ch := range ps.regs[k] {
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

// pubsubNumsub replies with each named channel (or shard channel) and its
// subscriber count.
func pubsubNumsub(c *Ctx, k subKind) {
	ps := &c.Srv.pubsub
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	c.W.Array(2 * (len(c.Args) - 2))
	for _, ch := range c.Args[2:] {
		c.W.Bulk(ch)
		c.W.Int(int64(len(ps.regs[k][string(ch)])))
	}
}

var pubsubHelp = []string{
	"CHANNELS [<pattern>]",
	"    Return the currently active channels matching a <pattern> (default: '*').",
	"NUMPAT",
	"    Return number of subscriptions to patterns.",
	"NUMSUB [<channel> ...]",
	"    Return the number of subscribers for the specified channels, excluding",
	"    pattern subscriptions(default: no channels).",
	"SHARDCHANNELS [<pattern>]",
	"    Return the currently active shard level channels matching a <pattern> (default: '*').",
	"SHARDNUMSUB [<shardchannel> ...]",
	"    Return the number of subscribers for the specified shard level channel(s)",
}

func cmdPubsubHelp(c *Ctx) { writeHelp(c.W, "PUBSUB", pubsubHelp) }

// cmdPubsubNumpat is the number of distinct patterns subscribed to.
func cmdPubsubNumpat(c *Ctx) {
	ps := &c.Srv.pubsub
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	c.W.Int(int64(len(ps.regs[kindPattern])))
}

// channelsOnly reports whether a spec's key arguments are all shard
// channels: its key specs are all flagged not_key (SSUBSCRIBE,
// SUNSUBSCRIBE, SPUBLISH). COMMAND INFO shows them and cluster slot checks
// use them, but they are not keys: the command does not run in the store,
// ACL key patterns do not apply and COMMAND GETKEYS finds none (Redis
// doesCommandHaveKeys).
func (s *Spec) channelsOnly() bool {
	if len(s.KeySpecs) == 0 {
		return false
	}
	for _, k := range s.KeySpecs {
		if !strings.Contains(k.Flags, "not_key") {
			return false
		}
	}
	return true
}

// subscribeModeGate answers commands from a RESP2 client in subscribe mode
// as Redis processCommand does: PING replies ["pong", arg], the
// (un)subscribe commands, QUIT and RESET run, anything else is refused. It
// reports whether it answered.
func (s *Server) subscribeModeGate(c *resp.Conn, sess *Session, spec *Spec, args [][]byte) bool {
	if sess.sub == nil || sess.sub.total() == 0 || c.Proto() != 2 {
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

// shardChannelSpec is the key spec of a command whose arguments from the
// first on are shard channels (lastKey -1: all; 0: only the first).
func shardChannelSpec(lastKey int) []KeySpec { return []KeySpec{ksRange("not_key", 1, lastKey, 1, 0)} }

var pubsubCommands = []*Spec{
	{Name: "cairn.publish", Arity: 3, Flags: Internal | NoScript | Loading | Stale, Handler: peerOnly(cmdPeerPublish)},
	{Name: "cairn.spublish", Arity: 3, Flags: Internal | NoScript | Loading | Stale, Handler: peerOnly(cmdPeerPublish)},
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
	{Name: "ssubscribe", KeySpecs: shardChannelSpec(-1), Arity: -2, Flags: PubSub | NoScript | Loading | Stale, FirstKey: 1, LastKey: -1, Step: 1,
		ACL: CatPubSub, Group: "pubsub", Since: "7.0.0",
		Summary: "Listen for messages published to the given shard channels", Complexity: "O(N) where N is the number of shard channels to subscribe to.",
		Handler: cmdSSubscribe},
	{Name: "sunsubscribe", KeySpecs: shardChannelSpec(-1), Arity: -1, Flags: PubSub | NoScript | Loading | Stale, FirstKey: 1, LastKey: -1, Step: 1,
		ACL: CatPubSub, Group: "pubsub", Since: "7.0.0",
		Summary: "Stop listening for messages posted to the given shard channels", Complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
		Handler: cmdSUnsubscribe},
	{Name: "spublish", KeySpecs: shardChannelSpec(0), Arity: 3, Flags: PubSub | Loading | Stale | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		ACL: CatPubSub, Group: "pubsub", Since: "7.0.0",
		Summary: "Post a message to a shard channel", Complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
		Handler: cmdSPublish},
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
			{Name: "shardchannels", Arity: -2, Flags: PubSub | Loading | Stale, ACL: CatPubSub, Group: "pubsub", Since: "7.0.0",
				Summary: "List active shard channels", Complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
				Handler: cmdPubsubShardChannels},
			{Name: "shardnumsub", Arity: -2, Flags: PubSub | Loading | Stale, ACL: CatPubSub, Group: "pubsub", Since: "7.0.0",
				Summary: "Get the count of subscribers for shard channels", Complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
				Handler: cmdPubsubShardNumsub},
			{Name: "help", Arity: 2, Flags: Loading | Stale, Group: "pubsub", Since: "6.2.0",
				Summary: "Show helpful text about the different subcommands", Complexity: "O(1)", Handler: cmdPubsubHelp},
		}},
}
