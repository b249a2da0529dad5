package commands

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"cairn/cluster"
	"cairn/resp"
	"cairn/store"
)

// Cluster routing (docs/cluster.md). In cluster mode every command that
// touches the keyspace goes through callCluster: a command whose keys hash
// to one slot runs on the node that must serve it (the slot primary for
// writes and for reads above ONE; at ONE this node when it is a fresh
// replica) and is forwarded there otherwise, as CAIRN.FWD; the reply comes
// back verbatim. Multi-key commands whose keys span slots are split by slot
// and their replies merged (not atomic across slots); other commands whose
// keys span slots get CROSSSLOT. Keyspace-wide commands are in
// cluster_scan.go: DBSIZE, KEYS, SCAN and RANDOMKEY cover the slots this
// node is primary of, FLUSHALL and FLUSHDB every node.
//
// A cluster serves database 0 only, as Redis Cluster does.

// mode is what HELLO and INFO report as the server mode, as Redis does.
func (s *Server) mode() string {
	if s.cluster != nil {
		return "cluster"
	}
	return "standalone"
}

// callCluster runs a keyspace command in cluster mode.
func (s *Server) callCluster(ctx *Ctx) {
	spec := ctx.Spec
	if h := clusterWide[spec.fullName]; h != nil {
		h(ctx)
		return
	}
	pos := spec.keyPositions(ctx.Args)
	if len(pos) == 0 { // keyless keyspace commands (UNWATCH, ...) run here
		s.callLocal(ctx)
		return
	}
	keys := make([][]byte, len(pos))
	for i, p := range pos {
		keys[i] = ctx.Args[p]
	}
	slot, same := keysSlot(keys)
	if !same {
		if split := splitCommands[spec.fullName]; split != 0 {
			s.scatter(ctx, pos, split)
			return
		}
		if crossSlotZsetOps[spec.fullName] {
			s.splitZsetOp(ctx, pos) // cluster_zsetops.go
			return
		}
		ctx.W.Error(errCrossSlot)
		return
	}
	if spec.Flags&Blocking != 0 {
		s.blockCluster(ctx, slot, keys)
		return
	}
	s.execOne(ctx, slot, keys)
}

// execOne runs ctx's command, whose keys are all in slot.
func (s *Server) execOne(ctx *Ctx, slot uint16, keys [][]byte) {
	run := func(tx *store.Tx) {
		ctx.Tx = tx
		s.run(ctx)
	}
	s.execSlot(ctx, slot, keys, writes(ctx.Spec), run, func() []byte {
		return resp.AppendCommand(nil, s.forwardArgs(ctx.Spec, ctx.Args)...) // cluster_script.go
	})
}

// blockCluster runs a blocking command (BZPOPMIN, BZPOPMAX, BZMPOP) in
// cluster mode, where the keys may live on another node: each attempt runs
// the command without blocking on the node serving the slot, and while it
// finds nothing and the timeout has not passed, the next attempt follows
// after a pause growing from 5 ms to 100 ms. The client cannot tell this
// polling from blocking except by that latency.
func (s *Server) blockCluster(ctx *Ctx, slot uint16, keys [][]byte) {
	tArg := ctx.Args[len(ctx.Args)-1]
	if ctx.Spec.fullName == "bzmpop" {
		tArg = ctx.Args[1]
	}
	ms, ok := parseBlockTimeout(ctx, tArg)
	if !ok {
		return
	}
	var deadline <-chan time.Time
	if ms > 0 && ms <= maxBlockMs {
		t := time.NewTimer(time.Until(ctx.Start.Add(time.Duration(ms) * time.Millisecond)))
		defer t.Stop()
		deadline = t.C
	}
	pause := 5 * time.Millisecond
	for {
		mark := ctx.W.Len()
		s.execOne(ctx, slot, keys)
		if b := ctx.W.Buffered()[mark:]; string(b) != "*-1\r\n" && string(b) != "_\r\n" {
			return // a result or an error
		}
		select {
		case <-deadline:
			return // the null reply stands: timed out
		case <-ctx.Conn.Done():
			return
		case <-time.After(pause):
		}
		ctx.W.Truncate(mark)
		pause = min(2*pause, 100*time.Millisecond)
		ctx.Start = time.Now()
	}
}

// callLocal runs a keyspace command on this node's store only.
func (s *Server) callLocal(ctx *Ctx) {
	t, err := s.store.UpdateAt(0, ctx.Start.UnixMilli(), ctx.Sess.inTx)
	ctx.Tx = nil
	if err != nil {
		ctx.W.Error(errMisconf + oneLine(err.Error()))
	}
	ctx.Sess.wrote(t)
}

// writes reports whether a command may write, so that in a cluster it runs
// on its slot's primary with its changes replicated: write commands, and
// scripts (flagged may-replicate as in Redis), which can call them.
func writes(spec *Spec) bool { return spec.Flags&(Write|MayReplicate) != 0 }

// keysSlot returns the slot of keys and whether they all share it.
func keysSlot(keys [][]byte) (uint16, bool) {
	slot := cluster.KeySlot(keys[0])
	for _, k := range keys[1:] {
		if cluster.KeySlot(k) != slot {
			return slot, false
		}
	}
	return slot, true
}

// execSlot runs a command on slot: here through run, or on the node that
// serves it by forwarding the commands that blob encodes.
func (s *Server) execSlot(ctx *Ctx, slot uint16, keys [][]byte, write bool, run func(*store.Tx), blob func() []byte) {
	c := s.cluster
	level := ctx.Sess.level
	target, err := s.executor(slot, write, level)
	if err != nil {
		ctx.W.Error(err.Error())
		return
	}
	if target == c.Self() && level == cluster.LevelReadYourWrites && !write {
		if s.readOwnWrites(ctx, slot, keys, run) {
			return
		}
		// This replica is behind this connection's writes: the primary,
		// once it holds the slot, has them.
		level = cluster.LevelPrimary
		if target, err = s.primary(slot); err != nil {
			ctx.W.Error(err.Error())
			return
		}
	}
	if target == c.Self() {
		s.execHere(ctx, slot, keys, write, level, run)
		return
	}
	if !write && ctx.Sess.track != nil {
		defer s.forwarding(ctx)() // tracking.go
	}
	s.forward(ctx, target, write, level, blob())
}

// primary is the node that serves slot's writes.
func (s *Server) primary(slot uint16) (string, error) {
	p, ok := s.cluster.View().Primary(slot)
	if !ok {
		return "", cluster.ErrDown
	}
	return p, nil
}

// executor picks the node that serves a command on slot.
func (s *Server) executor(slot uint16, write bool, level cluster.Level) (string, error) {
	c := s.cluster
	v := c.View()
	if !write && level != cluster.LevelPrimary && level.Reads(v) <= 1 && v.IsReplica(slot, c.Self()) && c.Fresh(slot) {
		return c.Self(), nil
	}
	return s.primary(slot)
}

// execHere runs a command on this node as the replica or primary serving it.
func (s *Server) execHere(ctx *Ctx, slot uint16, keys [][]byte, write bool, level cluster.Level, run func(*store.Tx)) {
	c := s.cluster
	e := cluster.Exec{Slot: slot, Keys: keys, Write: write, Level: level, Now: ctx.Start.UnixMilli(), Run: run}
	mark := ctx.W.Len()
	var t store.Ticket
	var err error
	if write {
		var ws []cluster.Written
		t, ws, err = c.Write(context.Background(), e)
		if level == cluster.LevelReadYourWrites {
			ctx.Sess.own.note(ws)
		}
	} else {
		t, err = c.Read(context.Background(), e)
	}
	ctx.Tx = nil
	if err != nil {
		ctx.W.Truncate(mark)
		ctx.W.Error(clusterError(err))
	}
	ctx.Sess.wrote(t)
}

// clusterError is the reply text of a request-path error.
func clusterError(err error) string {
	for _, e := range []error{cluster.ErrTryAgain, cluster.ErrDown, cluster.ErrNoReplicas, cluster.ErrNoMajority, cluster.ErrUncertain} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return errMisconf + oneLine(err.Error())
}

// forward sends the commands in blob to node id and relays its reply. A
// write whose forwarding failed after it may have been sent is uncertain.
func (s *Server) forward(ctx *Ctx, id string, write bool, level cluster.Level, blob []byte) {
	c := s.cluster
	m, ok := c.View().Members[id]
	if !ok {
		ctx.W.Error(cluster.ErrTryAgain.Error())
		return
	}
	cctx, cancel := context.WithTimeout(context.Background(), 2*c.Timeout())
	defer cancel()
	v, err := c.Peers().Call(cctx, id, m.Addr, []byte("CAIRN.FWD"),
		[]byte(strconv.Itoa(ctx.W.Proto())), []byte(level.String()), blob)
	switch {
	case err != nil && write && !(errors.Is(err, cluster.ErrPeerUnreachable) || errors.Is(err, cluster.ErrPeerBusy)):
		ctx.W.Error(cluster.ErrUncertain.Error())
	case err != nil:
		ctx.W.Error(cluster.ErrTryAgain.Error())
	case v.Kind == '*' && len(v.Array) == 2 && v.Array[0].Kind == '$' && v.Array[1].Kind == '$':
		ctx.W.Raw(v.Array[0].Str)
		if level == cluster.LevelReadYourWrites {
			ctx.Sess.own.note(decodeWritten(v.Array[1].Str))
		}
	default:
		ctx.W.Error(errInternal)
	}
}

// cmdFwd is CAIRN.FWD proto level commands: a peer forwards one command,
// or a transaction (MULTI followed by the queued commands), for this node to run
// as the node serving its slot. The reply is a pair: the command's reply
// (EXEC's for a transaction), encoded in the client's protocol, and the
// versions of the keys it wrote (for the client connection's
// read-your-writes), both as bulk strings.
func cmdFwd(c *Ctx) {
	proto, err := strconv.Atoi(string(c.Args[1]))
	level, ok := cluster.ParseLevel(string(c.Args[2]))
	cmds, perr := decodeCommands(c.Args[3])
	if err != nil || (proto != 2 && proto != 3) || !ok || perr != nil || len(cmds) == 0 {
		c.W.Error("ERR malformed CAIRN.FWD")
		return
	}
	s := c.Srv
	w := resp.NewWriter()
	w.SetProto(proto)
	sess := &Session{level: level, own: ownWrites{keepLast: true}}
	sub := &Ctx{W: w, Conn: c.Conn, Sess: sess, Srv: s, Start: c.Start}
	sess.inTx = func(tx *store.Tx) {
		sub.Tx = tx
		s.run(sub)
	}
	if !eqFold(cmds[0][0], "multi") {
		if len(cmds) != 1 {
			c.W.Error("ERR malformed CAIRN.FWD")
			return
		}
		sub.Args = cmds[0]
		sub.Spec = s.table.Lookup(sub.Args)
		if sub.Spec == nil || !sub.Spec.usesTx {
			c.W.Error("ERR command cannot be forwarded")
			return
		}
		s.execForwarded(sub, false)
	} else {
		for _, args := range cmds[1:] {
			spec := s.table.Lookup(args)
			if spec == nil {
				c.W.Error("ERR command cannot be forwarded")
				return
			}
			sess.queue = append(sess.queue, queued{spec: spec, args: args})
		}
		sub.Spec = s.table.byName["exec"]
		s.execForwarded(sub, true)
	}
	c.Sess.wrote(sess.ack)
	c.W.Array(2)
	c.W.Bulk(w.Buffered())
	c.W.Bulk(encodeWritten(sess.own.last))
}

// execForwarded runs a forwarded command or transaction here, refusing
// with TRYAGAIN if this node no longer serves its slot.
func (s *Server) execForwarded(ctx *Ctx, tx bool) {
	var keys [][]byte
	write := false
	if tx {
		for _, q := range ctx.Sess.queue {
			keys = appendKeys(keys, q.spec, q.args)
			write = write || writes(q.spec)
		}
	} else {
		keys = appendKeys(nil, ctx.Spec, ctx.Args)
		write = writes(ctx.Spec)
	}
	if len(keys) == 0 {
		ctx.W.Error("ERR command cannot be forwarded")
		return
	}
	slot, same := keysSlot(keys)
	if !same {
		ctx.W.Error(errCrossSlot)
		return
	}
	if target, err := s.executor(slot, write, ctx.Sess.level); err != nil || target != s.cluster.Self() {
		ctx.W.Error(cluster.ErrTryAgain.Error())
		return
	}
	run := ctx.Sess.inTx
	if tx {
		queue := ctx.Sess.queue
		run = func(t *store.Tx) { s.runQueue(ctx, queue, t) }
	}
	s.execHere(ctx, slot, keys, write, ctx.Sess.level, run)
}

func appendKeys(dst [][]byte, spec *Spec, args [][]byte) [][]byte {
	for _, p := range spec.keyPositions(args) {
		dst = append(dst, args[p])
	}
	return dst
}

// decodeCommands splits a blob of RESP multibulk requests.
func decodeCommands(b []byte) ([][][]byte, error) {
	var out [][][]byte
	for len(b) > 0 {
		v, n, err := resp.ParseReply(b)
		if err != nil {
			return nil, err
		}
		if v.Kind != '*' || len(v.Array) == 0 {
			return nil, errors.New("not a command")
		}
		args := make([][]byte, len(v.Array))
		for i, a := range v.Array {
			if a.Kind != '$' {
				return nil, errors.New("not a command")
			}
			args[i] = a.Str
		}
		out = append(out, args)
		b = b[n:]
	}
	return out, nil
}

// execCluster runs a transaction's queue in cluster mode (EXEC has checked
// it): the queued commands run together on the node serving their slot
// (all keys of a transaction must share one slot; the dispatcher refused
// others when queueing).
func (s *Server) execCluster(ctx *Ctx, queue []queued) {
	sess := ctx.Sess
	var keys [][]byte
	write := false
	for _, q := range queue {
		keys = appendKeys(keys, q.spec, q.args)
		write = write || writes(q.spec)
	}
	run := func(t *store.Tx) { s.runQueue(ctx, queue, t) }
	if len(keys) == 0 {
		t, err := s.store.UpdateAt(0, ctx.Start.UnixMilli(), run)
		if err != nil {
			ctx.W.Error(errMisconf + oneLine(err.Error()))
		}
		sess.wrote(t)
		return
	}
	slot, _ := keysSlot(keys)
	s.execSlot(ctx, slot, keys, write, run, func() []byte {
		b := resp.AppendCommand(nil, []byte("multi"))
		for _, q := range queue {
			b = resp.AppendCommand(b, q.args...)
		}
		return b
	})
}

// queueSlotCheck refuses, in cluster mode, a command queued in MULTI whose
// keys span slots or differ from the slot of the transaction's earlier
// commands. It returns the error to reply, or "".
func (s *Server) queueSlotCheck(sess *Session, spec *Spec, args [][]byte) string {
	keys := appendKeys(nil, spec, args)
	if len(keys) == 0 {
		return ""
	}
	slot, same := keysSlot(keys)
	if !same {
		return errCrossSlot
	}
	for _, q := range sess.queue {
		if k := appendKeys(nil, q.spec, q.args); len(k) > 0 {
			if cluster.KeySlot(k[0]) != slot {
				return errCrossSlot
			}
			break
		}
	}
	return ""
}

// Read-your-writes (docs/consistency.md). A connection at READYOURWRITES
// remembers the version of every key it wrote (ownWrites). A read runs on
// this node when it is a fresh replica holding at least those versions of
// the command's keys; otherwise it goes to the slot primary, which holds
// every acknowledged write.

// maxOwnWrites bounds the keys a connection remembers; beyond it an
// arbitrary remembered key is folded into a per-slot mark for each new one,
// and reads of a marked slot go to the primary.
const maxOwnWrites = 4096

// ownWrites is the part of a Session that read-your-writes needs. Owned by
// the connection's goroutine.
type ownWrites struct {
	versions map[string]store.Version
	slots    map[uint16]bool   // slots of forgotten writes
	keepLast bool              // record the last command's writes (CAIRN.FWD)
	last     []cluster.Written // the last command's writes, when keepLast
}

// note records writes this connection made.
func (o *ownWrites) note(ws []cluster.Written) {
	if o.keepLast {
		o.last = append(o.last, ws...)
	}
	if len(ws) == 0 {
		return
	}
	if o.versions == nil {
		o.versions = make(map[string]store.Version)
	}
	for _, w := range ws {
		if _, known := o.versions[w.Key]; !known && len(o.versions) >= maxOwnWrites {
			if o.slots == nil {
				o.slots = make(map[uint16]bool)
			}
			for k := range o.versions { // forget one (map order: arbitrary)
				o.slots[cluster.KeySlot([]byte(k))] = true
				delete(o.versions, k)
				break
			}
		}
		if cur, ok := o.versions[w.Key]; !ok || cur.Less(w.Version) {
			o.versions[w.Key] = w.Version
		}
	}
}

// readOwnWrites runs a read here if this replica holds the connection's
// writes of keys, and reports whether it did.
func (s *Server) readOwnWrites(ctx *Ctx, slot uint16, keys [][]byte, run func(*store.Tx)) bool {
	own := &ctx.Sess.own
	if own.slots[slot] {
		s.rywForwarded.Add(1)
		return false
	}
	behind := false
	t, err := s.store.UpdateAt(0, ctx.Start.UnixMilli(), func(tx *store.Tx) {
		for _, k := range keys {
			if v, ok := own.versions[string(k)]; ok && tx.KeyVersion(k).Less(v) {
				behind = true
				return
			}
		}
		run(tx)
	})
	ctx.Tx = nil
	if behind {
		s.rywForwarded.Add(1)
		return false
	}
	s.rywLocal.Add(1)
	if err != nil {
		ctx.W.Error(errMisconf + oneLine(err.Error()))
	}
	ctx.Sess.wrote(t)
	return true
}

func encodeWritten(ws []cluster.Written) []byte {
	var b []byte
	for _, w := range ws {
		b = binary.AppendUvarint(b, uint64(len(w.Key)))
		b = append(b, w.Key...)
		b = binary.BigEndian.AppendUint64(b, w.Version.Ballot)
		b = binary.BigEndian.AppendUint64(b, w.Version.Stamp)
	}
	return b
}

func decodeWritten(b []byte) []cluster.Written {
	var out []cluster.Written
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n+16 {
			return out
		}
		b = b[k:]
		w := cluster.Written{Key: string(b[:n])}
		b = b[n:]
		w.Version = store.Version{Ballot: binary.BigEndian.Uint64(b), Stamp: binary.BigEndian.Uint64(b[8:])}
		b = b[16:]
		out = append(out, w)
	}
	return out
}
