package commands

import (
	"strconv"

	"cairn/resp"
	"cairn/store"
	"cairn/zset"
)

// Sorted-set operations whose keys span cluster slots (ZUNIONSTORE and
// friends): each input is read at the node serving its slot (ZRANGE key 0
// -1 WITHSCORES, at the connection's consistency level), the operation runs
// here on those copies, and a STORE form then replaces the destination on
// its own slot's node (DEL and ZADD in one transaction). Like the other
// split commands it is not atomic across slots: each input is read at its
// own moment.

// crossSlotZsetOps are the commands splitZsetOp handles.
var crossSlotZsetOps = map[string]bool{
	"zunionstore": true, "zinterstore": true, "zdiffstore": true,
	"zunion": true, "zinter": true, "zdiff": true, "zintercard": true,
}

// zstoreResult is the result a STORE form hands back; set nil means the
// destination is to be deleted.
type zstoreResult struct {
	set  *zset.Set
	done bool
}

// splitZsetOp runs a sorted-set operation whose keys span slots.
func (s *Server) splitZsetOp(ctx *Ctx, pos []int) {
	store1 := ctx.Spec.fullName == "zunionstore" || ctx.Spec.fullName == "zinterstore" || ctx.Spec.fullName == "zdiffstore"
	srcKeys := pos
	if store1 {
		srcKeys = pos[1:] // the destination comes first
	}
	srcs := make(map[string]*store.Entry, len(srcKeys))
	for _, p := range srcKeys {
		key := ctx.Args[p]
		if _, ok := srcs[string(key)]; ok {
			continue
		}
		e, errReply := s.gatherZset(ctx, key)
		if errReply != nil {
			ctx.W.Raw(errReply)
			return
		}
		srcs[string(key)] = e
	}
	var res zstoreResult
	ctx.zsrc, ctx.zdst = srcs, &res
	mark := ctx.W.Len()
	s.run(ctx)
	ctx.zsrc, ctx.zdst = nil, nil
	if !store1 || !res.done {
		return // replied (or refused the arguments) already
	}
	reply := ctx.W.Buffered()[mark:]
	ctx.W.Truncate(mark)
	if errReply := s.replaceZset(ctx, ctx.Args[pos[0]], res.set); errReply != nil {
		ctx.W.Raw(errReply)
		return
	}
	ctx.W.Raw(reply)
}

// gatherZset reads a whole sorted set at the node serving its slot. It
// returns nil for a missing key, or an error reply (WRONGTYPE, TRYAGAIN...).
func (s *Server) gatherZset(ctx *Ctx, key []byte) (*store.Entry, []byte) {
	args := [][]byte{[]byte("zrange"), key, []byte("0"), []byte("-1"), []byte("withscores")}
	v, raw := s.subCommand(ctx, args)
	if v.Kind != '*' {
		return nil, raw
	}
	if len(v.Array) == 0 {
		return nil, nil
	}
	z := zset.New()
	for i := 0; i+1 < len(v.Array); i += 2 {
		score, err := zset.ParseScore(v.Array[i+1].Str)
		if err != nil {
			return nil, []byte("-ERR malformed ZRANGE reply while gathering " + string(key) + "\r\n")
		}
		z.Add(string(v.Array[i].Str), score)
	}
	return &store.Entry{Type: store.TypeZSet, Z: z}, nil
}

// replaceZset makes dst hold exactly z (nil: deletes dst) on dst's slot,
// as one transaction. It returns an error reply, or nil.
func (s *Server) replaceZset(ctx *Ctx, dst []byte, z *zset.Set) []byte {
	cmds := [][][]byte{{[]byte("del"), dst}}
	if z != nil {
		add := [][]byte{[]byte("zadd"), dst}
		z.Members(func(m string, score float64) bool {
			add = append(add, strconv.AppendFloat(nil, score, 'g', 17, 64), []byte(m))
			return true
		})
		cmds = append(cmds, add)
	}
	var queue []queued
	for _, args := range cmds {
		queue = append(queue, queued{spec: s.table.Lookup(args), args: args})
	}
	w := resp.NewWriter()
	sub := &Ctx{W: w, Conn: ctx.Conn, Srv: s, Start: ctx.Start, Spec: s.table.byName["exec"], Sess: &Session{level: ctx.Sess.level}}
	s.execCluster(sub, queue)
	ctx.Sess.wrote(sub.Sess.ack)
	v, _, err := resp.ParseReply(w.Buffered())
	if err != nil || v.Kind != '*' {
		return w.Buffered()
	}
	for _, r := range v.Array {
		if r.Kind == '-' {
			return append(append([]byte("-"), r.Str...), "\r\n"...)
		}
	}
	return nil
}

// subCommand runs one single-slot command for ctx's connection, in RESP2,
// where its slot is served, and returns the parsed reply and its bytes.
func (s *Server) subCommand(ctx *Ctx, args [][]byte) (resp.Value, []byte) {
	w := resp.NewWriter()
	sub := &Ctx{Args: args, W: w, Conn: ctx.Conn, Sess: ctx.Sess, Srv: s, Spec: s.table.Lookup(args), Start: ctx.Start}
	keys := appendKeys(nil, sub.Spec, args)
	slot, _ := keysSlot(keys)
	s.execOne(sub, slot, keys)
	v, _, err := resp.ParseReply(w.Buffered())
	if err != nil {
		return resp.Value{Kind: '-'}, []byte("-ERR malformed reply\r\n")
	}
	return v, w.Buffered()
}
