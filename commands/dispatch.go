// Package commands is Cairn's command layer: the command table, the
// dispatcher that runs Redis's gates in Redis's order, one handler file per
// command group, MULTI/EXEC, and COMMAND output derived from the table.
//
// Ownership: a Session belongs to its connection's goroutine. The Server's
// configuration, slow log and SCAN cursors are shared and guarded by their
// own mutexes (see config.go, slowlog.go, scan.go). Keyspace state belongs to
// the store and is only touched inside store.Update.
package commands

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"cairn/cluster"
	"cairn/resp"
	"cairn/store"
)

// Ctx is one command invocation.
type Ctx struct {
	Args [][]byte // Args[0] is the command name; valid only during the call
	W    *resp.Writer
	Conn *resp.Conn
	Sess *Session
	// Tx is the store view for the selected database; set for commands that
	// use the keyspace (Spec.usesTx), nil otherwise. Handlers never call
	// Store methods that lock: inside EXEC the lock is already held.
	Tx   *store.Tx
	Srv  *Server
	Spec *Spec
	// Start is when the command started; the dispatcher reads the clock once
	// per command and the store uses the same time for expiry.
	Start time.Time
	// blk is set while a blocking command runs outside EXEC: its handler
	// may then wait for its keys instead of replying (blocking.go).
	blk *blocker
	// zsrc and zdst are set when a sorted-set operation's keys span cluster
	// slots: its inputs were gathered from their nodes, and its result is
	// stored by the caller (cluster_zsetops.go).
	zsrc map[string]*store.Entry
	zdst *zstoreResult
}

// Session is the command layer's per-connection state.
type Session struct {
	inMulti bool
	dirty   bool // a command was rejected while queueing: EXEC aborts
	queue   []queued
	watch   store.Watch
	ctx     Ctx                // reused for every command outside EXEC
	inTx    func(tx *store.Tx) // runs ctx inside an Update; built once
	ack     store.Ticket       // the latest write whose reply is buffered; acknowledged before the flush
	level   cluster.Level      // consistency level chosen with CONSISTENCY (cluster mode)
	peer    bool               // the connection is a cluster peer's (CAIRN.PEER)
	own     ownWrites          // this connection's writes, for READYOURWRITES (route.go)
	user    *userRef           // the ACL user after AUTH; nil = default (aclcmd.go)
	sub     *subscriber        // Pub/Sub subscriptions; nil before the first (pubsub.go)
	track   *tracker           // client-side caching settings; nil while tracking is off (tracking.go)
	caching bool               // CLIENT CACHING was given for the next command or transaction
}

type queued struct {
	spec *Spec
	args [][]byte // copies
}

// Options configure the command layer.
type Options struct {
	Logger *slog.Logger
	Config *Config // runtime settings; nil means defaults
}

// Server dispatches commands to handlers. It implements resp.Handler.
type Server struct {
	table   *Table
	store   *store.Store
	log     *slog.Logger
	wire    *resp.Server // set by Attach; for CLIENT, INFO and SHUTDOWN
	config  *Config
	start   time.Time
	panics  atomic.Int64
	slow    slowlog
	latency latencyMonitor // LATENCY LATEST/HISTORY events (latency.go)
	cursors cursorTable
	save    saveState // SAVE/BGSAVE progress for INFO persistence
	// cluster is this node's cluster membership and coordinator; nil on a
	// single node. Set once by StartNode before serving.
	cluster *cluster.Cluster
	acl     *aclState   // users, permissions and the ACL log (acl.go)
	pubsub  pubsubState // channel and pattern subscriptions (pubsub.go)
	notify  notifier    // keyspace notifications (notify.go)
	// tracking is the client-side caching table (tracking.go).
	tracking trackingState
	scripts  *scripting // script cache, interpreters and running scripts (script.go)
	// rywLocal and rywForwarded count READYOURWRITES reads served by this
	// node and sent to the slot primary because this replica was behind.
	rywLocal, rywForwarded atomic.Int64

	// Shutdown, if set, is called by SHUTDOWN after the reply decision.
	Shutdown func()
}

// New returns a command server over st.
func New(st *store.Store, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Config == nil {
		opts.Config = NewConfig()
	}
	s := &Server{store: st, log: opts.Logger, config: opts.Config, start: time.Now()}
	s.table = NewTable(allCommands())
	s.scripts = newScripting()
	initACL(s)
	s.slow.init()
	s.cursors.init()
	return s
}

// Attach gives the command layer access to the wire server's clients.
func (s *Server) Attach(w *resp.Server) {
	s.wire = w
	s.config.apply(s)
}

// Table is the command table.
func (s *Server) Table() *Table { return s.table }

// Panics is the number of handler panics recovered since start.
func (s *Server) Panics() int64 { return s.panics.Load() }

func (s *Server) session(c *resp.Conn) *Session {
	if sess, ok := c.Session.(*Session); ok {
		return sess
	}
	sess := &Session{}
	sess.inTx = func(tx *store.Tx) {
		sess.ctx.Tx = tx
		s.run(&sess.ctx)
	}
	c.Session = sess
	c.BeforeFlush = func() error { return s.acknowledge(sess) }
	return sess
}

// acknowledge makes the writes behind the buffered replies durable under
// the fsync policy. On error the replies must not be sent.
func (s *Server) acknowledge(sess *Session) error {
	t := sess.ack
	sess.ack = 0
	return s.store.Acknowledge(t)
}

// wrote records a write whose reply is being buffered.
func (sess *Session) wrote(t store.Ticket) {
	if t > sess.ack {
		sess.ack = t
	}
}

// Closed releases a connection's session state.
func (s *Server) Closed(c *resp.Conn) {
	if sess, ok := c.Session.(*Session); ok {
		s.store.Unwatch(&sess.watch)
		if sess.sub != nil {
			s.pubsub.dropAll(sess.sub)
		}
		s.tracking.disable(sess)
	}
}

// ServeRESP runs one command: lookup, arity, authentication and ACL,
// transaction queueing, then the handler, in Redis processCommand's order.
func (s *Server) ServeRESP(c *resp.Conn, args [][]byte) {
	sess := s.session(c)
	spec := s.table.Lookup(args)
	if spec == nil {
		s.reject(c, sess, unknownCommand(s.table, args))
		return
	}
	if (spec.Arity > 0 && len(args) != spec.Arity) || len(args) < -spec.Arity {
		spec.stats.rejected.Add(1)
		s.reject(c, sess, errArity(spec.fullName))
		return
	}
	if msg := s.authorize(c, sess, spec, args); msg != "" { // NOAUTH, NOPERM (aclcmd.go)
		spec.stats.rejected.Add(1)
		s.reject(c, sess, msg)
		return
	}
	if s.oomRejects(sess, spec) {
		spec.stats.rejected.Add(1)
		s.reject(c, sess, errOOM)
		return
	}
	if s.subscribeModeGate(c, sess, spec, args) { // RESP2 subscribe mode (pubsub.go)
		return
	}
	if s.busyGate(c, sess, spec, args) { // BUSY while a script runs past busy-reply-threshold (script.go)
		return
	}
	if sess.inMulti && !runsInMulti(spec) {
		if spec.Flags&NoMulti != 0 {
			spec.stats.rejected.Add(1)
			s.reject(c, sess, errNotInMulti)
			return
		}
		if s.cluster != nil {
			if msg := s.queueSlotCheck(sess, spec, args); msg != "" {
				spec.stats.rejected.Add(1)
				s.reject(c, sess, msg)
				return
			}
		}
		sess.queue = append(sess.queue, queued{spec: spec, args: copyArgs(args)})
		c.W.Simple("QUEUED")
		return
	}
	now := time.Now()
	c.SetLastCmd(&spec.fullName, now.UnixMilli())
	if sess.track != nil {
		c.HoldPushes() // invalidations queued so far precede this reply (tracking.go)
	}
	sess.ctx = Ctx{Args: args, W: c.W, Conn: c, Sess: sess, Srv: s, Spec: spec, Start: now}
	s.call(&sess.ctx)
	sess.ctx = Ctx{} // drop references to the read buffer
	if sess.caching && !sess.inMulti && (spec.parent == nil || spec.parent.Name != "client") {
		sess.caching = false // CLIENT CACHING covers the next command or transaction, CLIENT ones aside (as Redis)
	}
}

// runsInMulti reports whether spec runs immediately inside MULTI instead of
// being queued.
func runsInMulti(spec *Spec) bool {
	switch spec.fullName {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

// reject answers a command refused before it ran; inside MULTI it also
// makes EXEC fail (Redis flagTransaction).
func (s *Server) reject(c *resp.Conn, sess *Session, msg string) {
	if sess.inMulti {
		sess.dirty = true
	}
	c.W.Error(msg)
}

// call runs one command outside MULTI: inside its own store Update when it
// touches the keyspace, and records any write to wait for before replying.
// ctx is its session's reusable ctx (Session.inTx runs that one).
func (s *Server) call(ctx *Ctx) {
	if !ctx.Spec.usesTx {
		s.run(ctx)
		return
	}
	if s.cluster != nil {
		s.callCluster(ctx) // route.go
		return
	}
	if ctx.Spec.Flags&Blocking != 0 {
		s.callBlocking(ctx) // blocking.go: waits between store Updates
		return
	}
	mark := ctx.W.Len()
	t, err := s.store.UpdateAt(ctx.Conn.DB(), ctx.Start.UnixMilli(), ctx.Sess.inTx)
	ctx.Tx = nil
	if err != nil {
		ctx.W.Truncate(mark)
		ctx.W.Error(errMisconf + oneLine(err.Error()))
	}
	ctx.Sess.wrote(t)
}

// run runs a handler with the write gate, timing, stats and panic
// recovery. ctx.Tx is already set when the command needs one.
func (s *Server) run(ctx *Ctx) {
	start := ctx.Start
	if start.IsZero() {
		start = time.Now()
	}
	mark := ctx.W.Len()
	if done := s.trackRun(ctx); done != nil {
		defer done()
	}
	if s.attempt(ctx, mark) {
		s.record(ctx.Spec, ctx, start, mark)
	}
}

// attempt runs the handler once behind the write gate, with panic
// recovery, and reports whether it ran (a command refused by the gate counts
// as rejected, not as a call). Blocking commands call it once per wake-up
// and record the call once (blocking.go).
func (s *Server) attempt(ctx *Ctx, mark int) (ran bool) {
	spec := ctx.Spec
	if spec.Flags&Write != 0 {
		if err := s.store.Failed(); err != nil {
			spec.stats.rejected.Add(1)
			ctx.W.Error(errMisconf + oneLine(err.Error()))
			return false
		}
	}
	defer func() {
		if r := recover(); r != nil {
			s.panics.Add(1)
			s.log.Error("panic in command handler", "command", spec.fullName, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			ctx.W.Truncate(mark)
			ctx.W.Error(errInternal)
		}
	}()
	spec.Handler(ctx)
	return true
}

// record updates INFO commandstats and the slow log.
func (s *Server) record(spec *Spec, ctx *Ctx, start time.Time, mark int) {
	d := time.Since(start)
	spec.stats.calls.Add(1)
	spec.stats.usec.Add(d.Microseconds())
	if b := ctx.W.Buffered(); len(b) > mark && b[mark] == '-' {
		spec.stats.failed.Add(1)
	}
	if spec.Flags&SkipSlowlog == 0 {
		s.slow.maybeAdd(d, ctx)
	}
	s.observe(spec, d) // latency.go: histogram and latency monitor
}

type cmdStats struct {
	calls, usec, rejected, failed atomic.Int64
	hist                          cmdHistogram // run times for LATENCY HISTOGRAM and /metrics (latency.go)
}

func copyArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		out[i] = buf[len(buf)-len(a):]
	}
	return out
}

// unknownCommand builds Redis 7.0's reply for an unknown command or
// subcommand.
func unknownCommand(t *Table, args [][]byte) string {
	if parent := lookupFold(t.byName, args[0]); parent != nil && len(args) > 1 {
		return fmt.Sprintf("ERR unknown subcommand '%.128s'. Try %s HELP.", oneLine(string(args[1])), strings.ToUpper(string(args[0])))
	}
	var b strings.Builder
	for _, a := range args[1:] {
		if b.Len() >= 128 {
			break
		}
		fmt.Fprintf(&b, "'%.*s' ", 128-b.Len(), a)
	}
	return fmt.Sprintf("ERR unknown command '%.128s', with args beginning with: %s", oneLine(string(args[0])), oneLine(b.String()))
}

// oneLine replaces CR and LF with spaces, as Redis does in error replies.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}
