package commands

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"cairn/cluster"
	"cairn/resp"
)

// Client-side caching, as Redis 7.0's tracking.c: CLIENT TRACKING, CACHING,
// GETREDIR and TRACKINGINFO, and the invalidation messages.
//
// Default mode: a read-only command run by a tracking connection remembers
// its keys with the connection's ID (all of them, or in OPTIN/OPTOUT mode as
// CLIENT CACHING says). The first change to a remembered key sends
// ["invalidate", [key]] to every connection that remembered it and forgets
// it. BCAST mode remembers nothing: every change to a key under one of the
// connection's prefixes is sent, the keys changed by one command together.
// Flushes send ["invalidate", null] to every tracking connection. As in
// Redis the table is keyed by key name in every database, it holds at most
// tracking-table-max-keys keys (the excess is invalidated), and an entry of
// a connection that stopped tracking is dropped lazily.
//
// Changes come from the store's change hook, which runs under the store's
// lock for every write, expiry, eviction, replicated change and dropped
// slot. A command remembers its keys in run, under the same lock as its
// read, so no change can fall between the read and the remembering. In a
// cluster, a read served by another node is remembered before it is
// forwarded and invalidated again after its reply if its key changed here
// in the meantime; a key whose slot this node does not replicate is
// invalidated right after each read, since its changes never reach this
// node.
//
// Delivery: frames go through resp.Conn.Push, which never blocks. A
// tracking connection moves its queued pushes ahead of each command's reply
// (HoldPushes in ServeRESP), so an invalidation queued before a command
// reaches the client before its reply, and one queued while it runs (a
// write to a key it reads, its own write), after.
//
// Ownership: mu guards the tables and every tracker's fields. current and
// pending belong to the holder of the store's lock: current is the session
// whose command runs under it (nil for expiry, eviction and replication),
// pending the BCAST keys that command changed, sent when it ends.
// Session.track and Session.caching are written by the session's
// goroutine only.
type trackingState struct {
	hookOnce sync.Once
	active   atomic.Int64 // tracking connections: the change hook returns at once while 0
	maxKeys  atomic.Int64 // tracking-table-max-keys (0: unbounded)

	mu       sync.Mutex
	clients  map[uint64]*tracker            // tracking connections by ID
	keys     map[string]map[uint64]struct{} // remembered key -> IDs that may cache it
	items    int                            // the IDs in keys, counted with repeats
	prefixes map[string]map[*tracker]struct{}
	// flying holds the keys of reads forwarded to another node and not yet
	// answered, with the connections waiting for them, each marked true
	// once the key changed here meanwhile. A connection runs one command
	// at a time, so it waits at most once per key.
	flying map[string]map[*tracker]bool
	ps     *pubsubState // for a RESP2 redirect connection's subscriptions

	current *Session
	depth   int      // nesting of run under current (EXEC, scripts)
	pending []string // BCAST keys changed by current's command
}

// tracker is one tracking connection's settings (CLIENT TRACKING ON).
type tracker struct {
	conn                         *resp.Conn
	sess                         *Session
	bcast, optin, optout, noloop bool
	redirect                     uint64     // 0: none
	redirConn                    *resp.Conn // the connection redirect named when tracking was enabled
	broken                       bool       // the redirect connection is gone
	prefixes                     map[string]struct{}
}

const trackingChannel = "__redis__:invalidate"

// trackingOutputLimit bounds the invalidations a client leaves unread, as
// pubsubOutputLimit bounds messages.
const trackingOutputLimit = pubsubOutputLimit

const (
	errTrackingPrefixBcast = "ERR PREFIX option requires BCAST mode to be enabled"
	errTrackingBcastSwitch = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
	errTrackingBcastOpt    = "ERR OPTIN and OPTOUT are not compatible with BCAST"
	errTrackingOptBoth     = "ERR You can't specify both OPTIN mode and OPTOUT mode"
	errTrackingOptSwitch   = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
	errCachingYes          = "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
	errCachingNo           = "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
)

// cmdClientTracking is CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST]
// [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP], with Redis's checks in Redis's
// order.
func cmdClientTracking(c *Ctx) {
	args := c.Args
	var redir int64
	var redirConn *resp.Conn
	var bcast, optin, optout, noloop bool
	var prefixes []string
	for j := 3; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case eqFold(args[j], "redirect") && more > 0:
			j++
			if redir != 0 {
				c.W.Error(errTrackingOneRedir)
				return
			}
			n, ok := parseInt(args[j])
			if !ok {
				c.W.Error(errNotInt)
				return
			}
			redir = n
			if redirConn = c.Srv.clientByID(n); redirConn == nil {
				c.W.Error(errTrackingRedir)
				return
			}
		case eqFold(args[j], "bcast"):
			bcast = true
		case eqFold(args[j], "optin"):
			optin = true
		case eqFold(args[j], "optout"):
			optout = true
		case eqFold(args[j], "noloop"):
			noloop = true
		case eqFold(args[j], "prefix") && more > 0:
			j++
			prefixes = append(prefixes, string(args[j]))
		default:
			c.W.Error(errSyntax)
			return
		}
	}
	t := &c.Srv.tracking
	switch {
	case eqFold(args[2], "off"):
		t.disable(c.Sess)
	case !eqFold(args[2], "on"):
		c.W.Error(errSyntax)
		return
	default:
		old := c.Sess.track
		switch {
		case !bcast && len(prefixes) > 0:
			c.W.Error(errTrackingPrefixBcast)
			return
		case old != nil && old.bcast != bcast:
			c.W.Error(errTrackingBcastSwitch)
			return
		case bcast && (optin || optout):
			c.W.Error(errTrackingBcastOpt)
			return
		case optin && optout:
			c.W.Error(errTrackingOptBoth)
			return
		case old != nil && ((optin && old.optout) || (optout && old.optin)):
			c.W.Error(errTrackingOptSwitch)
			return
		}
		if bcast {
			if msg := prefixCollision(old, prefixes); msg != "" {
				c.W.Error(msg)
				return
			}
		}
		c.Srv.registerTrackingHook()
		t.enable(c.Conn, c.Sess, &tracker{bcast: bcast, optin: optin, optout: optout, noloop: noloop,
			redirect: uint64(redir), redirConn: redirConn}, prefixes)
	}
	c.W.OK()
}

// prefixCollision is Redis's checkPrefixCollisionsOrReply: no new prefix
// may be a prefix of another new one or of one the connection has.
func prefixCollision(old *tracker, prefixes []string) string {
	overlap := func(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }
	var existing []string
	if old != nil {
		existing = sortedPrefixes(old)
	}
	for i, p := range prefixes {
		for _, q := range existing {
			if overlap(p, q) {
				return "ERR Prefix '" + p + "' overlaps with an existing prefix '" + q + "'. Prefixes for a single client must not overlap."
			}
		}
		for _, q := range prefixes[i+1:] {
			if overlap(p, q) {
				return "ERR Prefix '" + p + "' overlaps with another provided prefix '" + q + "'. Prefixes for a single client must not overlap."
			}
		}
	}
	return ""
}

// clientByID finds a connection of this node by its ID.
func (s *Server) clientByID(id int64) *resp.Conn {
	for _, conn := range s.clients() {
		if int64(conn.ID()) == id {
			return conn
		}
	}
	return nil
}

// registerTrackingHook subscribes the tracking table to the store's
// changes, the first time a connection turns tracking on.
func (s *Server) registerTrackingHook() {
	t := &s.tracking
	t.hookOnce.Do(func() {
		t.ps = &s.pubsub
		s.store.SetChangeHook(func(db int, key string, flushed bool) {
			if t.active.Load() == 0 {
				return
			}
			if flushed {
				t.flushed()
			} else {
				t.changed(key)
			}
		})
	})
}

// enable turns tracking on for sess with the settings in tr (Redis
// enableTracking: a connection already tracking keeps its BCAST prefixes
// and adds the new ones).
func (t *trackingState) enable(conn *resp.Conn, sess *Session, tr *tracker, prefixes []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.clients == nil {
		t.clients = map[uint64]*tracker{}
		t.keys = map[string]map[uint64]struct{}{}
		t.prefixes = map[string]map[*tracker]struct{}{}
	}
	tr.conn, tr.sess = conn, sess
	if old := sess.track; old != nil {
		tr.prefixes = old.prefixes
		for p := range old.prefixes {
			delete(t.prefixes[p], old)
			t.prefixes[p][tr] = struct{}{}
		}
	} else {
		t.active.Add(1)
	}
	if tr.bcast && len(prefixes) == 0 {
		prefixes = []string{""}
	}
	for _, p := range prefixes {
		if tr.prefixes == nil {
			tr.prefixes = map[string]struct{}{}
		}
		tr.prefixes[p] = struct{}{}
		if t.prefixes[p] == nil {
			t.prefixes[p] = map[*tracker]struct{}{}
		}
		t.prefixes[p][tr] = struct{}{}
	}
	t.clients[conn.ID()] = tr
	sess.track = tr
}

// disable turns tracking off for sess (CLIENT TRACKING OFF, RESET, close).
func (t *trackingState) disable(sess *Session) {
	tr := sess.track
	if tr == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for p := range tr.prefixes {
		delete(t.prefixes[p], tr)
		if len(t.prefixes[p]) == 0 {
			delete(t.prefixes, p)
		}
	}
	delete(t.clients, tr.conn.ID())
	t.active.Add(-1)
	sess.track = nil
	sess.caching = false
}

// caches reports whether a read-only command run now by sess has its keys
// remembered (Redis trackingRememberKeys' OPTIN/OPTOUT rule).
func (sess *Session) caches() bool {
	tr := sess.track
	return tr != nil && !tr.bcast && !(tr.optin && !sess.caching) && !(tr.optout && sess.caching)
}

// remembers reports whether sess's read-only command spec, run now, makes
// its keys remembered (shard channels are not keys to cache).
func (sess *Session) remembers(spec *Spec) bool {
	return spec.Flags&ReadOnly != 0 && spec.Flags&PubSub == 0 && sess.caches()
}

// tracksRead reports whether ctx's command remembers its keys when it runs
// here: EVAL_RO and EVALSHA_RO do not, the commands their scripts call do.
func tracksRead(ctx *Ctx) bool {
	return ctx.Spec.fullName != "eval_ro" && ctx.Spec.fullName != "evalsha_ro" && ctx.Sess.remembers(ctx.Spec)
}

// remember records that ctx's connection may cache the keys of its
// read-only command. It runs under the store's lock, right after the read.
func (s *Server) remember(ctx *Ctx) {
	t := &s.tracking
	id := ctx.Conn.ID()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range ctx.Spec.keyPositions(ctx.Args) {
		key := ctx.Args[p]
		if s.cluster != nil && !s.replicatesKey(key) {
			t.sendLocked(ctx.Sess.track, []string{string(key)}, nil)
			continue
		}
		t.rememberLocked(string(key), id)
	}
	t.limitLocked()
}

// replicatesKey reports whether this node holds a copy of key's slot, and
// so sees its changes.
func (s *Server) replicatesKey(key []byte) bool {
	return s.cluster.View().IsReplica(cluster.KeySlot(key), s.cluster.Self())
}

// REQUIRES: t.mu held.
func (t *trackingState) rememberLocked(key string, id uint64) {
	ids := t.keys[key]
	if ids == nil {
		ids = map[uint64]struct{}{}
		t.keys[key] = ids
	}
	if _, ok := ids[id]; !ok {
		ids[id] = struct{}{}
		t.items++
	}
}

// limitLocked invalidates remembered keys while the table holds more than
// tracking-table-max-keys, as if they had changed (Redis
// trackingLimitUsedSlots; Go's map order stands in for its random walk).
// REQUIRES: t.mu held.
func (t *trackingState) limitLocked() {
	max := int(t.maxKeys.Load())
	if max <= 0 || len(t.keys) <= max {
		return
	}
	for key := range t.keys {
		if len(t.keys) <= max {
			return
		}
		t.invalidateLocked(key, nil)
	}
}

// forwarding registers the reads of ctx's command (or EXEC's queue)
// that another node is about to serve, remembering their keys first; the
// returned function, called once the reply is written, invalidates again
// the keys that changed here while the read was away.
func (s *Server) forwarding(ctx *Ctx) func() {
	tr := ctx.Sess.track
	if tr == nil {
		return func() {}
	}
	var keys []string
	note := func(spec *Spec, args [][]byte) {
		if ctx.Sess.remembers(spec) { // a forwarded script's keys too: its commands run there
			for _, p := range spec.keyPositions(args) {
				keys = append(keys, string(args[p]))
			}
		}
	}
	if ctx.Spec.fullName == "exec" {
		for _, q := range ctx.Sess.queue {
			note(q.spec, q.args)
		}
	} else {
		note(ctx.Spec, ctx.Args)
	}
	if len(keys) == 0 {
		return func() {}
	}
	t := &s.tracking
	id := ctx.Conn.ID()
	t.mu.Lock()
	if t.flying == nil {
		t.flying = map[string]map[*tracker]bool{}
	}
	for _, k := range keys {
		if t.flying[k] == nil {
			t.flying[k] = map[*tracker]bool{}
		}
		t.flying[k][tr] = false
		if s.replicatesKey([]byte(k)) {
			t.rememberLocked(k, id)
		}
	}
	t.limitLocked()
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, k := range keys {
			waiting, ok := t.flying[k][tr]
			if !ok {
				continue // a key repeated in keys, already handled
			}
			if waiting || !s.replicatesKey([]byte(k)) {
				t.sendLocked(tr, []string{k}, nil)
			}
			delete(t.flying[k], tr)
			if len(t.flying[k]) == 0 {
				delete(t.flying, k)
			}
		}
	}
}

// within marks sess's command as running under the store's lock, so the
// changes it makes are known as its own (NOLOOP) and its BCAST
// invalidations go out together; the returned function ends it. Commands
// nest (EXEC, scripts): the outermost one sends.
func (t *trackingState) within(sess *Session) func() {
	if t.depth == 0 {
		t.current = sess
	}
	t.depth++
	return func() {
		t.depth--
		if t.depth > 0 {
			return
		}
		if len(t.pending) > 0 {
			t.mu.Lock()
			t.broadcastLocked(t.pending, t.current)
			t.mu.Unlock()
			t.pending = t.pending[:0]
		}
		t.current = nil
	}
}

// changed is the change hook for one key. REQUIRES: the store's lock.
func (t *trackingState) changed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.prefixes) > 0 {
		if t.current != nil {
			t.pending = append(t.pending, key)
		} else {
			t.broadcastLocked([]string{key}, nil)
		}
	}
	for tr := range t.flying[key] {
		t.flying[key][tr] = true
	}
	t.invalidateLocked(key, t.current)
}

// invalidateLocked sends key's invalidation to the connections that
// remembered it, except a NOLOOP one that changed it itself, and forgets
// it. REQUIRES: t.mu held.
func (t *trackingState) invalidateLocked(key string, by *Session) {
	ids, ok := t.keys[key]
	if !ok {
		return
	}
	delete(t.keys, key)
	t.items -= len(ids)
	for id := range ids {
		tr := t.clients[id]
		if tr == nil || tr.bcast || (tr.noloop && by != nil && tr.sess == by) {
			continue
		}
		t.sendLocked(tr, []string{key}, nil)
	}
}

// broadcastLocked sends the keys changed by one command (by: its session,
// nil outside commands) to the BCAST connections whose prefixes match
// them, leaving out for a NOLOOP connection the keys it changed itself.
// REQUIRES: t.mu held.
func (t *trackingState) broadcastLocked(keys []string, by *Session) {
	if len(keys) > 1 { // each key once, in byte order, as Redis's rax
		sort.Strings(keys)
		keys = slices.Compact(keys)
	}
	for p, trs := range t.prefixes {
		var match []string
		for _, k := range keys {
			if strings.HasPrefix(k, p) {
				match = append(match, k)
			}
		}
		if len(match) == 0 {
			continue
		}
		for tr := range trs {
			if tr.noloop && by != nil && tr.sess == by {
				continue
			}
			t.sendLocked(tr, match, nil)
		}
	}
}

// flushed sends ["invalidate", null] to every tracking connection and
// empties the table (FLUSHDB, FLUSHALL). REQUIRES: the store's lock.
func (t *trackingState) flushed() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tr := range t.clients {
		null := []byte("$-1\r\n")
		if tr.conn.Proto() == 3 {
			null = []byte("_\r\n")
		}
		t.sendLocked(tr, nil, null)
	}
	t.keys = map[string]map[uint64]struct{}{}
	t.items = 0
}

// sendLocked sends one invalidation for tr: keys, or the encoded value raw
// when keys is nil (a flush's null), as Redis's sendTrackingMessage: to the
// redirect connection if there is one (a RESP2 one only while it is
// subscribed, as a message on __redis__:invalidate), else as a RESP3 push
// to tr's own connection; RESP2 connections without a redirect get
// nothing. REQUIRES: t.mu held.
func (t *trackingState) sendLocked(tr *tracker, keys []string, raw []byte) {
	target, redirected := tr.conn, false
	if tr.redirect != 0 {
		if tr.redirConn == nil || isClosed(tr.redirConn) {
			tr.broken = true
			if tr.conn.Proto() == 3 {
				b := append([]byte(">2\r\n$21\r\ntracking-redir-broken\r\n:"), strconv.FormatUint(tr.redirect, 10)...)
				tr.conn.Push(append(b, '\r', '\n'), trackingOutputLimit)
			}
			return
		}
		target, redirected = tr.redirConn, true
	}
	var b []byte
	switch {
	case target.Proto() == 3:
		b = append(b, ">2\r\n$10\r\ninvalidate\r\n"...)
	case redirected && t.ps != nil && t.ps.subscribed(target.ID()):
		b = append(b, "*3\r\n$7\r\nmessage\r\n$20\r\n"+trackingChannel+"\r\n"...)
	default:
		return
	}
	if keys == nil {
		b = append(b, raw...)
	} else {
		b = append(b, '*')
		b = strconv.AppendInt(b, int64(len(keys)), 10)
		b = append(b, '\r', '\n')
		for _, k := range keys {
			b = append(b, '$')
			b = strconv.AppendInt(b, int64(len(k)), 10)
			b = append(b, '\r', '\n')
			b = append(b, k...)
			b = append(b, '\r', '\n')
		}
	}
	target.Push(b, trackingOutputLimit)
}

// subscribed reports whether connection id is in Pub/Sub mode (Redis's
// CLIENT_PUBSUB): it has a channel, pattern or shard channel subscription.
func (ps *pubsubState) subscribed(id uint64) bool {
	for _, n := range ps.kindCounts(id) {
		if n > 0 {
			return true
		}
	}
	return false
}

func isClosed(c *resp.Conn) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// sortedPrefixes lists tr's BCAST prefixes in byte order, as Redis's rax.
func sortedPrefixes(tr *tracker) []string {
	out := make([]string, 0, len(tr.prefixes))
	for p := range tr.prefixes {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// cmdClientCaching is CLIENT CACHING YES|NO: in OPTIN (YES) or OPTOUT (NO)
// mode, it makes the next command (or transaction) cache or not.
func cmdClientCaching(c *Ctx) {
	tr := c.Sess.track
	if tr == nil {
		c.W.Error(errCachingNoTracking)
		return
	}
	switch {
	case eqFold(c.Args[2], "yes") && tr.optin, eqFold(c.Args[2], "no") && tr.optout:
		c.Sess.caching = true
		c.W.OK()
	case eqFold(c.Args[2], "yes"):
		c.W.Error(errCachingYes)
	case eqFold(c.Args[2], "no"):
		c.W.Error(errCachingNo)
	default:
		c.W.Error(errSyntax)
	}
}

// trackingFlags is what CLIENT TRACKINGINFO, CLIENT LIST (letters) and
// GETREDIR show of a connection: nil when it does not track.
func (t *trackingState) info(id uint64) (tr tracker, on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.clients[id]; p != nil {
		return *p, true
	}
	return tracker{}, false
}

func cmdClientGetRedir(c *Ctx) {
	if tr, on := c.Srv.tracking.info(c.Conn.ID()); on {
		c.W.Int(int64(tr.redirect))
		return
	}
	c.W.Int(-1)
}

func cmdClientTrackingInfo(c *Ctx) {
	tr, on := c.Srv.tracking.info(c.Conn.ID())
	flags := []string{"off"}
	if on {
		flags[0] = "on"
		if tr.bcast {
			flags = append(flags, "bcast")
		}
		if tr.optin {
			flags = append(flags, "optin")
			if c.Sess.caching {
				flags = append(flags, "caching-yes")
			}
		}
		if tr.optout {
			flags = append(flags, "optout")
			if c.Sess.caching {
				flags = append(flags, "caching-no")
			}
		}
		if tr.noloop {
			flags = append(flags, "noloop")
		}
		if tr.broken {
			flags = append(flags, "broken_redirect")
		}
	}
	c.W.Map(3)
	c.W.BulkString("flags")
	c.W.Set(len(flags))
	for _, f := range flags {
		c.W.BulkString(f)
	}
	c.W.BulkString("redirect")
	if on {
		c.W.Int(int64(tr.redirect))
	} else {
		c.W.Int(-1)
	}
	c.W.BulkString("prefixes")
	ps := sortedPrefixes(&tr)
	c.W.Array(len(ps))
	for _, p := range ps {
		c.W.BulkString(p)
	}
}

// clientListFlags returns the CLIENT LIST flag letters and redir field of
// a connection's tracking (Redis's t, R and B), "" and -1 when it does not
// track.
func (t *trackingState) clientListFlags(id uint64) (string, int64) {
	tr, on := t.info(id)
	if !on {
		return "", -1
	}
	f := "t"
	if tr.broken {
		f += "R"
	}
	if tr.bcast {
		f += "B"
	}
	return f, int64(tr.redirect)
}

// stats is INFO's tracking figures: tracking clients, remembered keys, the
// IDs remembered with them, and BCAST prefixes.
func (t *trackingState) stats() (clients, keys, items, prefixes int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.clients), len(t.keys), t.items, len(t.prefixes)
}

// trackRun wraps one command run under the store's lock for tracking: see
// within and remember. It returns the function to call when the command
// has run, or nil when tracking is not in use.
func (s *Server) trackRun(ctx *Ctx) func() {
	t := &s.tracking
	if t.active.Load() == 0 || ctx.Tx == nil {
		return nil
	}
	end := t.within(ctx.Sess)
	return func() {
		if tracksRead(ctx) {
			s.remember(ctx)
		}
		end()
	}
}
