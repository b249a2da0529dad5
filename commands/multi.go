package commands

import "cairn/store"

// Transactions: MULTI queues commands (the dispatcher does the queueing),
// EXEC runs the queue in one store Update so no other client's command can
// interleave, WATCH makes EXEC fail when a watched key changed.

func cmdMulti(c *Ctx) {
	if c.Sess.inMulti {
		c.W.Error(errNestedMulti)
		return
	}
	c.Sess.inMulti = true
	c.W.OK()
}

func cmdDiscard(c *Ctx) {
	if !c.Sess.inMulti {
		c.W.Error(errDiscardNoMulti)
		return
	}
	c.Sess.resetMulti()
	if c.Sess.watch.Watching() { // keys are changed by this goroutine only: no lock to read them
		c.Srv.store.Unwatch(&c.Sess.watch) // takes the store lock, which a busy script holds
	}
	c.W.OK()
}

func (sess *Session) resetMulti() {
	sess.inMulti = false
	sess.dirty = false
	clear(sess.queue)
	sess.queue = sess.queue[:0]
}

func cmdExec(c *Ctx) {
	sess := c.Sess
	if !sess.inMulti {
		c.W.Error(errExecNoMulti)
		return
	}
	queue, dirty := sess.queue, sess.dirty
	defer sess.resetMulti()
	defer c.Srv.store.Unwatch(&sess.watch)
	if dirty {
		c.W.Error(errExecAbort)
		return
	}
	sess.inMulti = false // queued commands run now, not queue again
	if c.Srv.cluster != nil {
		c.Srv.execCluster(c, queue) // route.go
		return
	}
	mark := c.W.Len()
	t, err := c.Srv.store.Update(c.Conn.DB(), func(tx *store.Tx) {
		if sess.watch.Watching() && tx.Dirty(&sess.watch) {
			c.W.NullArray()
			return
		}
		tx.Unwatch(&sess.watch) // as Redis: unwatch before running the queue
		c.Srv.runQueue(c, queue, tx)
	})
	if err != nil {
		c.W.Truncate(mark)
		c.W.Error(errMisconf + oneLine(err.Error()))
	}
	sess.wrote(t)
}

// runQueue runs a transaction's queued commands inside one Update and
// replies EXEC's array.
func (s *Server) runQueue(c *Ctx, queue []queued, tx *store.Tx) {
	c.W.Array(len(queue))
	for _, q := range queue {
		ctx := &Ctx{Args: q.args, W: c.W, Conn: c.Conn, Sess: c.Sess, Srv: s, Spec: q.spec}
		if q.spec.usesTx {
			ctx.Tx = tx.In(c.Conn.DB()) // SELECT inside MULTI moves later commands
		}
		c.Conn.SetLastCmd(&q.spec.fullName, tx.Now())
		s.run(ctx)
	}
}

func cmdWatch(c *Ctx) {
	if c.Sess.inMulti {
		c.W.Error(errWatchInMulti)
		return
	}
	for _, k := range c.Args[1:] {
		c.Tx.Watch(&c.Sess.watch, k)
	}
	c.W.OK()
}

func cmdUnwatch(c *Ctx) {
	c.Tx.Unwatch(&c.Sess.watch)
	c.W.OK()
}

var multiCommands = []*Spec{
	{Name: "multi", Arity: 1, Flags: NoScript | Loading | Stale | Fast | AllowBusy, ACL: CatTransaction,
		Group: "transactions", Since: "1.2.0", Summary: "Mark the start of a transaction block", Complexity: "O(1)", Handler: cmdMulti},
	{Name: "exec", Arity: 1, Flags: NoScript | Loading | Stale | SkipSlowlog, ACL: CatTransaction,
		Group: "transactions", Since: "1.2.0", Summary: "Execute all commands issued after MULTI", Complexity: "Depends on commands in the transaction", Handler: cmdExec},
	{Name: "discard", Arity: 1, Flags: NoScript | Loading | Stale | Fast | AllowBusy, ACL: CatTransaction,
		Group: "transactions", Since: "2.0.0", Summary: "Discard all commands issued after MULTI", Complexity: "O(N), when N is the number of queued commands", Handler: cmdDiscard},
	{Name: "watch", KeySpecs: []KeySpec{ksRange("RO", 1, -1, 1, 0)}, Arity: -2, Flags: NoScript | Loading | Stale | Fast | AllowBusy, FirstKey: 1, LastKey: -1, Step: 1, ACL: CatTransaction,
		Group: "transactions", Since: "2.2.0", Summary: "Watch the given keys to determine execution of the MULTI/EXEC block", Complexity: "O(1) for every key.", Handler: cmdWatch},
	{Name: "unwatch", Arity: 1, Flags: NoScript | Loading | Stale | Fast | AllowBusy | Keyspace, ACL: CatTransaction,
		Group: "transactions", Since: "2.2.0", Summary: "Forget about all watched keys", Complexity: "O(1)", Handler: cmdUnwatch},
}
