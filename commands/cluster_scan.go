package commands

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"cairn/cluster"
	"cairn/resp"
	"cairn/store"
)

// Keyspace-wide commands in cluster mode, and the internal commands peers
// send each other.
//
// DBSIZE, KEYS, SCAN and RANDOMKEY answer, as on a Redis Cluster master,
// for the slots whose primary this node is in its current view, read from
// its own store (a primary replicates its slots). In one view every slot
// with a live replica has exactly one primary, so a cluster client that
// sends them to every master of CLUSTER SLOTS sees each key once.
//
// A slot is read once this node's copy of it is fresh (cluster.Fresh:
// synced since this node started or became its replica, as reads at ONE
// require). A slot this node is primary of but has not finished acquiring
// (cluster/primary.go) is read from that fresh copy all the same: it lacks
// at most writes acknowledged under the previous primary that had not
// reached it yet, which the acquisition pulls in, as a just-promoted Redis
// replica answers with what it has. A slot whose copy is not fresh (this
// node restarted, or just became its replica and may hold little of it)
// makes the command answer TRYAGAIN, as keyed commands on it do until it is
// acquired; cluster clients retry.
//
// SCAN's cursor is the next slot to read (0: done); a call skips the slots
// this node is not primary of and returns whole slots, until COUNT keys.
// Every key present for the whole iteration is returned once unless its
// slot changes primary during it.
//
// FLUSHALL and FLUSHDB flush every node (flushing is idempotent, so any
// node may run them for all), and need them all alive.

var clusterWide map[string]func(*Ctx)

func init() {
	clusterWide = map[string]func(*Ctx){
		"dbsize":    clusterDBSize,
		"keys":      clusterKeys,
		"scan":      clusterScan,
		"randomkey": clusterRandomKey,
		"flushall":  clusterFlush,
		"flushdb":   clusterFlush,
		"swapdb":    func(c *Ctx) { c.W.Error(errClusterDB) },
		"move":      func(c *Ctx) { c.W.Error(errClusterDB) },
		"watch":     func(c *Ctx) { c.W.Error(errClusterWatch) },
	}
}

// ownSlots returns, ascending, the slots from first on whose primary this
// node is in v, up to stop: the first such slot whose copy is not fresh,
// or store.SlotCount.
func (s *Server) ownSlots(v *cluster.View, first int) (slots []uint16, stop int) {
	self := s.cluster.Self()
	for i := first; i < store.SlotCount; i++ {
		slot := uint16(i)
		if p, ok := v.Primary(slot); !ok || p != self {
			continue
		}
		if !s.cluster.Fresh(slot) {
			return slots, i
		}
		slots = append(slots, slot)
	}
	return slots, store.SlotCount
}

// allOwnSlots is ownSlots from slot 0; ok is false when one is not fresh
// (the reply is then TRYAGAIN).
func (s *Server) allOwnSlots() (slots []uint16, ok bool) {
	slots, stop := s.ownSlots(s.cluster.View(), 0)
	return slots, stop == store.SlotCount
}

// peerCall calls node id with the request-path timeout.
func (s *Server) peerCall(id string, args ...[]byte) (resp.Value, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*s.cluster.Timeout())
	defer cancel()
	return s.cluster.Call(ctx, id, args...)
}

// onPeers runs an internal command on every other live member in parallel
// and returns once all have answered or timed out, with the sum of their
// integer replies. A member that fails or does not answer in time is
// skipped: the command is best effort, at most once, with no retry.
func (s *Server) onPeers(args ...[]byte) int64 {
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
			if r, err := s.peerCall(id, args...); err == nil {
				total.Add(r.Int)
			}
		}()
	}
	wg.Wait()
	return total.Load()
}

// clusterDBSize counts the keys of this node's slots, including keys
// expired but not yet removed, as DBSIZE does.
func clusterDBSize(c *Ctx) {
	slots, ok := c.Srv.allOwnSlots()
	if !ok {
		c.W.Error(cluster.ErrTryAgain.Error())
		return
	}
	var n int64
	for _, slot := range slots {
		n += int64(c.Srv.store.SlotCount(slot))
	}
	c.W.Int(n)
}

// slotKeys collects the live keys of slots (database 0) matching q, whole
// slots at a time until q.count keys are found; it returns the keys and the
// number of slots read.
func slotKeys(st *store.Store, slots []uint16, q scanQuery, now int64) ([][]byte, int, error) {
	var keys [][]byte
	read, last := len(slots), -1
	err := st.Records(0, slots, func(slot uint16, r store.Record) bool {
		if int(slot) != last { // a new slot: stop before it once count keys are in
			if int64(len(keys)) >= q.count {
				read, _ = slices.BinarySearch(slots, slot) // slots ascend
				return false
			}
			last = int(slot)
		}
		switch {
		case r.Deleted, r.ExpireAt != 0 && r.ExpireAt <= now:
		case q.usePattern && !globMatch(q.pat, r.Key, false):
		case q.useType && !eqFold(q.typ, r.Type.String()):
		default:
			keys = append(keys, append([]byte(nil), r.Key...))
		}
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	return keys, read, nil
}

func clusterKeys(c *Ctx) {
	slots, ok := c.Srv.allOwnSlots()
	if !ok {
		c.W.Error(cluster.ErrTryAgain.Error())
		return
	}
	pat := c.Args[1]
	q := scanQuery{pat: pat, usePattern: !(len(pat) == 1 && pat[0] == '*'), count: math.MaxInt64}
	keys, _, err := slotKeys(c.Srv.store, slots, q, c.Start.UnixMilli())
	if err != nil {
		c.W.Error(errMisconf + oneLine(err.Error()))
		return
	}
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Bulk(k)
	}
}

func clusterScan(c *Ctx) {
	s := c.Srv
	cursor, ok := parseScanCursor(c.Args[1])
	if !ok || cursor >= store.SlotCount {
		c.W.Error(errInvalidCursor)
		return
	}
	q, msg := parseScanOptions(c.Args[2:], true)
	if msg != "" {
		c.W.Error(msg)
		return
	}
	slots, stop := s.ownSlots(s.cluster.View(), int(cursor))
	if len(slots) == 0 && stop < store.SlotCount {
		c.W.Error(cluster.ErrTryAgain.Error())
		return
	}
	keys, read, err := slotKeys(s.store, slots, q, c.Start.UnixMilli())
	if err != nil {
		c.W.Error(errMisconf + oneLine(err.Error()))
		return
	}
	next := 0 // slots[read] > cursor >= 0 when read < len(slots): read > 0
	switch {
	case read < len(slots):
		next = int(slots[read])
	case stop < store.SlotCount:
		next = stop // answered TRYAGAIN until fresh
	}
	c.W.Array(2)
	c.W.BulkString(strconv.Itoa(next))
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Bulk(k)
	}
}

// clusterRandomKey answers a random live key of this node's slots: a slot
// picked with probability proportional to its key count, then a random
// live key of it (of the next slot with one if it has none left), or null.
func clusterRandomKey(c *Ctx) {
	s := c.Srv
	slots, ok := s.allOwnSlots()
	if !ok {
		c.W.Error(cluster.ErrTryAgain.Error())
		return
	}
	counts := make([]int, len(slots))
	total := 0
	for i, slot := range slots {
		counts[i] = s.store.SlotCount(slot)
		total += counts[i]
	}
	if total == 0 {
		c.W.Null()
		return
	}
	first := 0 // the slot holding key number r in slot order
	for r := rand.IntN(total); r >= counts[first]; first++ {
		r -= counts[first]
	}
	for j := range slots {
		i := (first + j) % len(slots)
		if counts[i] == 0 {
			continue
		}
		keys, _, err := slotKeys(s.store, slots[i:i+1], scanQuery{count: math.MaxInt64}, c.Start.UnixMilli())
		if err != nil {
			c.W.Error(errMisconf + oneLine(err.Error()))
			return
		}
		if len(keys) > 0 {
			c.W.Bulk(keys[rand.IntN(len(keys))])
			return
		}
	}
	c.W.Null()
}

// clusterFlush runs FLUSHALL (or FLUSHDB: a cluster has database 0 only)
// on every node.
func clusterFlush(c *Ctx) {
	if !flushArgsOK(c) {
		return
	}
	s := c.Srv
	v := s.cluster.View()
	for id := range v.Members {
		if !v.Alive[id] {
			c.W.Error(cluster.ErrDown.Error())
			return
		}
	}
	for id := range v.Members {
		if id == s.cluster.Self() {
			continue
		}
		if _, err := s.peerCall(id, []byte("CAIRN.FLUSH")); err != nil {
			c.W.Error(cluster.ErrUncertain.Error())
			return
		}
	}
	t, err := s.store.Update(0, func(tx *store.Tx) { tx.FlushAll() })
	if err != nil {
		c.W.Error(errMisconf + oneLine(err.Error()))
		return
	}
	c.Sess.wrote(t)
	c.W.OK()
}

func cmdPeerFlush(c *Ctx) {
	t, err := c.Srv.store.Update(0, func(tx *store.Tx) { tx.FlushAll() })
	if err != nil {
		c.W.Error(errMisconf + oneLine(err.Error()))
		return
	}
	c.Sess.wrote(t)
	c.W.OK()
}

// splitKind says how the replies of a command split by slot merge.
type splitKind uint8

const (
	mergeArray splitKind = iota + 1 // MGET: one element per key, in key order
	mergeSum                        // DEL, UNLINK, EXISTS, TOUCH: the sum
	mergeOK                         // MSET: OK when every part is OK
)

var splitCommands = map[string]splitKind{
	"mget": mergeArray, "mset": mergeOK,
	"del": mergeSum, "unlink": mergeSum, "exists": mergeSum, "touch": mergeSum,
}

// scatter runs a multi-key command whose keys span slots as one command
// per slot, in the order slots first appear, and merges the replies. It is
// not atomic across slots. The first error reply is the reply.
func (s *Server) scatter(ctx *Ctx, pos []int, kind splitKind) {
	type group struct {
		slot uint16
		idx  []int // indexes into pos
	}
	var groups []*group
	bySlot := map[uint16]*group{}
	for i, p := range pos {
		slot := cluster.KeySlot(ctx.Args[p])
		g := bySlot[slot]
		if g == nil {
			g = &group{slot: slot}
			bySlot[slot] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
	}
	elems := make([]resp.Value, len(pos))
	var sum int64
	for _, g := range groups {
		args := [][]byte{ctx.Args[0]}
		keys := make([][]byte, 0, len(g.idx))
		for _, i := range g.idx {
			args = append(args, ctx.Args[pos[i]])
			keys = append(keys, ctx.Args[pos[i]])
			if kind == mergeOK {
				args = append(args, ctx.Args[pos[i]+1])
			}
		}
		w := resp.NewWriter()
		w.SetProto(ctx.W.Proto())
		sub := &Ctx{Args: args, W: w, Conn: ctx.Conn, Sess: ctx.Sess, Srv: s, Spec: ctx.Spec, Start: ctx.Start}
		run := func(tx *store.Tx) {
			sub.Tx = tx
			s.run(sub)
		}
		s.execSlot(sub, g.slot, keys, writes(ctx.Spec), run, func() []byte { return resp.AppendCommand(nil, args...) })
		v, _, err := resp.ParseReply(w.Buffered())
		if err != nil || v.Kind == '-' {
			ctx.W.Raw(w.Buffered())
			return
		}
		switch kind {
		case mergeArray:
			for j, i := range g.idx {
				if j < len(v.Array) {
					elems[i] = v.Array[j]
				}
			}
		case mergeSum:
			sum += v.Int
		}
	}
	switch kind {
	case mergeArray:
		ctx.W.Array(len(elems))
		for _, e := range elems {
			if e.Null || e.Kind == '_' {
				ctx.W.Null()
			} else {
				ctx.W.Bulk(e.Str)
			}
		}
	case mergeSum:
		ctx.W.Int(sum)
	case mergeOK:
		ctx.W.OK()
	}
}

// cmdPeerHello is CAIRN.PEER node-id token, the first command of a peer
// connection: with a valid token the connection may send internal commands.
func cmdPeerHello(c *Ctx) {
	if c.Srv.cluster == nil || !c.Srv.cluster.VerifyPeer(string(c.Args[1]), string(c.Args[2])) {
		c.W.Error("ERR invalid cluster peer credentials")
		return
	}
	c.Sess.peer = true
	c.W.OK()
}

// peerOnly wraps an internal command's handler so that only peer
// connections (CAIRN.PEER) may run it.
func peerOnly(h func(*Ctx)) func(*Ctx) {
	return func(c *Ctx) {
		if !c.Sess.peer || c.Srv.cluster == nil {
			c.W.Error("ERR cluster peer command from a connection that is not a cluster peer")
			return
		}
		h(c)
	}
}

func cmdPeerRPC(c *Ctx) { c.Sess.wrote(c.Srv.cluster.ServePeer(c.Args, c.W)) }

// peerCommands are the internal commands of cluster mode, hidden from COMMAND.
func peerCommands() []*Spec {
	specs := []*Spec{
		{Name: "cairn.peer", Arity: 3, Flags: Internal | Fast | NoScript | Loading | Stale, Handler: cmdPeerHello},
		{Name: "cairn.fwd", Arity: 4, Flags: Internal | NoScript, Handler: peerOnly(cmdFwd)},
		{Name: "cairn.flush", Arity: 1, Flags: Internal | NoScript, Handler: peerOnly(cmdPeerFlush)},
		{Name: "cairn.script", Arity: -2, Flags: Internal | NoScript, Handler: peerOnly(cmdPeerScript)},
	}
	for name, arity := range cluster.PeerCommands {
		specs = append(specs, &Spec{Name: strings.ToLower(name), Arity: arity, Flags: Internal | NoScript, Handler: peerOnly(cmdPeerRPC)})
	}
	return specs
}
