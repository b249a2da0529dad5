package commands

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"

	"cairn/cluster"
	"cairn/resp"
	"cairn/store"
)

// Keyspace-wide commands in cluster mode, and the internal commands peers
// send each other. DBSIZE, KEYS and SCAN read each slot at its primary, so
// a key held by three replicas counts once; SCAN's cursor is the next slot
// to read (0 = done), so one call returns whole slots, and every key present
// for the whole iteration is returned once unless a slot changes primary
// during it. FLUSHALL and FLUSHDB flush every node and need them all alive.

var clusterWide map[string]func(*Ctx)

func init() {
	clusterWide = map[string]func(*Ctx){
		"dbsize":   clusterDBSize,
		"keys":     clusterKeys,
		"scan":     clusterScan,
		"flushall": clusterFlush,
		"flushdb":  clusterFlush,
		"swapdb":   func(c *Ctx) { c.W.Error(errClusterDB) },
		"move":     func(c *Ctx) { c.W.Error(errClusterDB) },
		"watch":    func(c *Ctx) { c.W.Error(errClusterWatch) },
	}
}

// byPrimary groups slots [from, to) by their primary, in slot order per node.
func byPrimary(v *cluster.View, from, to int) (map[string][]uint16, error) {
	out := map[string][]uint16{}
	for s := from; s < to; s++ {
		p, ok := v.Primary(uint16(s))
		if !ok {
			return nil, cluster.ErrDown
		}
		out[p] = append(out[p], uint16(s))
	}
	return out, nil
}

func appendSlotList(dst []byte, slots []uint16) []byte {
	for _, s := range slots {
		dst = binary.BigEndian.AppendUint16(dst, s)
	}
	return dst
}

func parseSlotList(b []byte) ([]uint16, bool) {
	if len(b)%2 != 0 {
		return nil, false
	}
	out := make([]uint16, 0, len(b)/2)
	for ; len(b) > 0; b = b[2:] {
		out = append(out, binary.BigEndian.Uint16(b)&(store.SlotCount-1))
	}
	return out, true
}

// peerCall calls node id with the request-path timeout.
func (s *Server) peerCall(id string, args ...[]byte) (resp.Value, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*s.cluster.Timeout())
	defer cancel()
	return s.cluster.Call(ctx, id, args...)
}

func clusterDBSize(c *Ctx) {
	s := c.Srv
	groups, err := byPrimary(s.cluster.View(), 0, store.SlotCount)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	var n int64
	for id, slots := range groups {
		if id == s.cluster.Self() {
			n += slotCounts(s.store, slots)
			continue
		}
		v, err := s.peerCall(id, []byte("CAIRN.SLOTCOUNT"), appendSlotList(nil, slots))
		if err != nil || v.Kind != ':' {
			c.W.Error(cluster.ErrTryAgain.Error())
			return
		}
		n += v.Int
	}
	c.W.Int(n)
}

func slotCounts(st *store.Store, slots []uint16) int64 {
	var n int64
	for _, s := range slots {
		n += int64(st.SlotCount(s))
	}
	return n
}

func cmdSlotCount(c *Ctx) {
	slots, ok := parseSlotList(c.Args[1])
	if !ok {
		c.W.Error("ERR malformed slot list")
		return
	}
	c.W.Int(slotCounts(c.Srv.store, slots))
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

// cmdSlotKeys is CAIRN.SLOTKEYS slots count pattern type: the live keys of
// whole slots, in order, until count keys; the reply is the number of
// slots read followed by the keys. An empty pattern or type means any.
func cmdSlotKeys(c *Ctx) {
	slots, ok := parseSlotList(c.Args[1])
	count, ok2 := parseInt(c.Args[2])
	if !ok || !ok2 || count < 1 {
		c.W.Error("ERR malformed CAIRN.SLOTKEYS")
		return
	}
	q := scanQuery{count: count, pat: c.Args[3], usePattern: len(c.Args[3]) > 0, typ: c.Args[4], useType: len(c.Args[4]) > 0}
	keys, read, err := slotKeys(c.Srv.store, slots, q, c.Start.UnixMilli())
	if err != nil {
		c.W.Error(errMisconf + oneLine(err.Error()))
		return
	}
	c.W.Array(len(keys) + 1)
	c.W.Int(int64(read))
	for _, k := range keys {
		c.W.Bulk(k)
	}
}

// collectKeys reads slots at their primary p (this node or a peer).
func (s *Server) collectKeys(p string, slots []uint16, q scanQuery, now int64) ([][]byte, int, error) {
	if p == s.cluster.Self() {
		return slotKeys(s.store, slots, q, now)
	}
	pat, typ := q.pat, q.typ
	if !q.usePattern {
		pat = nil
	}
	if !q.useType {
		typ = nil
	}
	v, err := s.peerCall(p, []byte("CAIRN.SLOTKEYS"), appendSlotList(nil, slots),
		[]byte(strconv.FormatInt(q.count, 10)), pat, typ)
	if err != nil {
		return nil, 0, err
	}
	if v.Kind != '*' || len(v.Array) == 0 || v.Array[0].Kind != ':' {
		return nil, 0, cluster.ErrTryAgain
	}
	keys := make([][]byte, 0, len(v.Array)-1)
	for _, k := range v.Array[1:] {
		keys = append(keys, k.Str)
	}
	return keys, int(v.Array[0].Int), nil
}

func clusterKeys(c *Ctx) {
	s := c.Srv
	groups, err := byPrimary(s.cluster.View(), 0, store.SlotCount)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	pat := c.Args[1]
	q := scanQuery{pat: pat, usePattern: !(len(pat) == 1 && pat[0] == '*'), count: math.MaxInt64}
	var all [][]byte
	for p, slots := range groups {
		keys, _, err := s.collectKeys(p, slots, q, c.Start.UnixMilli())
		if err != nil {
			c.W.Error(cluster.ErrTryAgain.Error())
			return
		}
		all = append(all, keys...)
	}
	c.W.Array(len(all))
	for _, k := range all {
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
	v := s.cluster.View()
	p, ok := v.Primary(uint16(cursor))
	if !ok {
		c.W.Error(cluster.ErrDown.Error())
		return
	}
	var slots []uint16 // the run of slots from cursor with the same primary
	for slot := int(cursor); slot < store.SlotCount; slot++ {
		if q2, ok := v.Primary(uint16(slot)); !ok || q2 != p {
			break
		}
		slots = append(slots, uint16(slot))
	}
	keys, read, err := s.collectKeys(p, slots, q, c.Start.UnixMilli())
	if err != nil {
		c.W.Error(cluster.ErrTryAgain.Error())
		return
	}
	next := int(cursor) + read
	if next >= store.SlotCount {
		next = 0
	}
	c.W.Array(2)
	c.W.BulkString(strconv.Itoa(next))
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Bulk(k)
	}
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
		{Name: "cairn.slotkeys", Arity: 5, Flags: Internal | NoScript, Handler: peerOnly(cmdSlotKeys)},
		{Name: "cairn.slotcount", Arity: 2, Flags: Internal | NoScript, Handler: peerOnly(cmdSlotCount)},
		{Name: "cairn.flush", Arity: 1, Flags: Internal | NoScript, Handler: peerOnly(cmdPeerFlush)},
	}
	for name, arity := range cluster.PeerCommands {
		specs = append(specs, &Spec{Name: strings.ToLower(name), Arity: arity, Flags: Internal | NoScript, Handler: peerOnly(cmdPeerRPC)})
	}
	return specs
}
