package cluster

import (
	"context"
	"strconv"
	"sync"
	"time"

	"cairn/store"
)

// The write path. The slot primary runs the command against its store with
// the slot's ballot (store.Replicate); the store hands the resulting
// changes to sink under its lock, and sink enqueues one CAIRN.REPL message
// on each live replica's ordered stream and hints the dead ones, so every
// replica receives a key's changes in version order. The command's reply
// is released once need replicas (this one included) hold the change.

// pendingWrite is one replicated command awaiting acknowledgements. done is
// closed once it is decided; ok is then final.
type pendingWrite struct {
	slot    uint16
	ballot  uint64
	changes []store.Change
	calls   []*replCall
	done    chan struct{}
	ok      bool
}

type replCall struct {
	node string
	p    *Pending // nil when the enqueue failed
}

// Exec is one command run on this node as a slot's primary or replica.
type Exec struct {
	Slot  uint16
	Keys  [][]byte // the command's keys (all in Slot)
	Write bool
	Level Level
	DB    int
	Now   int64 // unix ms
	// Run runs the command inside the store; it writes the reply.
	Run func(tx *store.Tx)
}

// Written is a key version a write produced (for read-your-writes).
type Written struct {
	Key     string
	Version store.Version
}

// Write runs e as the slot's primary. It fails with ErrTryAgain when this
// node does not hold the slot, ErrNoReplicas when fewer replicas than the
// level needs are alive (nothing applied in either case), and ErrUncertain
// when the change was applied here but not acknowledged by enough replicas
// in time; the node then steps down as the slot's primary until it has
// re-synced a majority. A returned Ticket must be acknowledged before the
// reply is sent.
func (c *Cluster) Write(ctx context.Context, e Exec) (store.Ticket, []Written, error) {
	v := c.View()
	need := e.Level.Writes(v)
	live := v.LiveReplicas(e.Slot)
	if len(live) < need {
		c.stats.noReplicas.Add(1)
		return 0, nil, ErrNoReplicas
	}
	ballot, err := c.holding(v, e.Slot, len(live))
	if err != nil {
		return 0, nil, err
	}
	var pw *pendingWrite
	var observed []*pendingWrite
	t, err := c.st.Replicate(e.DB, e.Now, ballot, func(tx *store.Tx) {
		observed = c.inflight.latest(e.DB, e.Keys, observed[:0])
		e.Run(tx)
	}, func(tx *store.Tx, cs []store.Change) {
		pw = c.replicate(tx, v, e.Slot, ballot, cs)
	})
	if err != nil {
		return t, nil, err
	}
	if pw == nil { // the command changed nothing
		return t, nil, c.awaitObserved(ctx, observed)
	}
	c.await(ctx, pw, need-1)
	if !pw.ok {
		c.stats.uncertain.Add(1)
		return t, nil, ErrUncertain
	}
	if err := c.awaitObserved(ctx, observed); err != nil {
		// This write is on a quorum, but a write it observed (of another
		// key) may be lost: the outcome as a whole is unknown.
		return t, nil, ErrUncertain
	}
	ws := make([]Written, len(pw.changes))
	for i, ch := range pw.changes {
		ws[i] = Written{string(ch.Key), ch.Version}
	}
	return t, ws, nil
}

// holding returns the ballot this node holds for slot, or the error for a
// request on a slot it does not hold: CLUSTERDOWN when too few of the
// slot's replicas are alive to elect a primary, TRYAGAIN while one is being
// elected.
func (c *Cluster) holding(v *View, slot uint16, live int) (uint64, error) {
	if c.leaving.Load() {
		return 0, ErrTryAgain
	}
	if b := c.held[slot].Load(); b != 0 {
		return b, nil
	}
	if live < v.Majority() {
		return 0, ErrNoMajority
	}
	c.wakePrimary()
	return 0, ErrTryAgain
}

// replicate is the store sink of a write: it enqueues the changes on every
// other live replica, hints the dead ones, and registers the write as the
// latest in flight for its keys. REQUIRES: the store's lock (inside sink).
func (c *Cluster) replicate(tx *store.Tx, v *View, slot uint16, ballot uint64, cs []store.Change) *pendingWrite {
	pw := &pendingWrite{slot: slot, ballot: ballot, changes: cs, done: make(chan struct{})}
	var msg []byte
	for i := range cs {
		msg = store.AppendChange(msg, &cs[i])
	}
	bN := strconv.FormatUint(ballot, 10)
	for _, id := range v.Replicas(slot) {
		if id == c.self {
			continue
		}
		if !v.Alive[id] {
			hintAll(tx, id, cs)
			continue
		}
		p, err := c.peers.Enqueue(id, v.Members[id].Addr, []byte(cmdRepl), []byte(c.self), []byte(bN), []byte("1"), msg)
		if err != nil {
			hintAll(tx, id, cs)
			p = nil
		}
		pw.calls = append(pw.calls, &replCall{node: id, p: p})
	}
	c.inflight.add(cs, pw)
	c.stats.replicated.Add(1)
	return pw
}

func hintAll(tx *store.Tx, node string, cs []store.Change) {
	for i := range cs {
		tx.In(cs[i].DB).Hint(node, cs[i].Key)
	}
}

// await collects acknowledgements until need of them arrived, all calls
// ended, or the replication timeout passed, and decides pw. A replica that
// fails gets a hint; a replica that fences the ballot makes this node step
// down as the slot's primary.
func (c *Cluster) await(ctx context.Context, pw *pendingWrite, need int) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ReplicationTimeout)
	stop := context.AfterFunc(c.bg, cancel) // Close ends the wait
	results := make(chan bool, len(pw.calls))
	c.work.Add(len(pw.calls))
	for _, rc := range pw.calls {
		go func() {
			defer c.work.Done()
			results <- c.confirm(ctx, pw, rc)
		}()
	}
	acks, ended := 0, 0
	for acks < need && ended < len(pw.calls) {
		if <-results {
			acks++
		}
		ended++
	}
	pw.ok = acks >= need
	if !pw.ok {
		c.stepDown(pw.slot, pw.ballot, "a write missed its quorum")
	}
	c.inflight.remove(pw)
	close(pw.done)
	// Let the remaining calls finish (hinting failures) without holding the reply.
	go func() {
		for ; ended < len(pw.calls); ended++ {
			<-results
		}
		stop()
		cancel()
	}()
}

// confirm waits for one replica's reply to pw's message, resends whole
// states for the keys it reports a gap on, and reports whether the replica
// now holds every change.
func (c *Cluster) confirm(ctx context.Context, pw *pendingWrite, rc *replCall) (ok bool) {
	defer func() {
		if !ok {
			c.hintLater(rc.node, pw.changes)
		}
	}()
	if rc.p == nil {
		return false
	}
	reply, err := rc.p.Wait(ctx)
	if err == nil {
		err = reply.Err()
	}
	if err != nil {
		return false
	}
	codes, err := parseApplied(reply, len(pw.changes))
	if err != nil {
		return false
	}
	var gaps []store.Change
	for i, code := range codes {
		switch code {
		case store.Fenced:
			c.stepDown(pw.slot, pw.ballot, "a write was fenced")
			return false
		case store.Gap:
			gaps = append(gaps, pw.changes[i])
		}
	}
	if len(gaps) == 0 {
		return true
	}
	c.stats.gapResends.Add(1)
	return c.pushStates(ctx, rc.node, pw.slot, pw.ballot, gaps) == nil
}

// hintLater records hints for changes a replica did not acknowledge.
func (c *Cluster) hintLater(node string, cs []store.Change) {
	c.st.Update(0, func(tx *store.Tx) { hintAll(tx, node, cs) })
}

// awaitObserved waits for the writes in flight that a command observed:
// its reply must not reveal a write that may still be lost.
func (c *Cluster) awaitObserved(ctx context.Context, ws []*pendingWrite) error {
	if len(ws) == 0 {
		return nil
	}
	t := time.NewTimer(c.opts.ReplicationTimeout)
	defer t.Stop()
	for _, w := range ws {
		select {
		case <-w.done:
			if !w.ok {
				return ErrTryAgain
			}
		case <-t.C:
			return ErrTryAgain
		case <-ctx.Done():
			return ErrTryAgain
		}
	}
	return nil
}

// inflight maps each key to the latest write of it not yet decided. Its
// mutex is taken inside the store's lock by add and latest, and alone by
// remove.
type inflight struct {
	mu   sync.Mutex
	keys map[inflightKey]*pendingWrite
}

type inflightKey struct {
	db  int
	key string
}

func (f *inflight) init() { f.keys = make(map[inflightKey]*pendingWrite) }

func (f *inflight) add(cs []store.Change, pw *pendingWrite) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range cs {
		f.keys[inflightKey{cs[i].DB, string(cs[i].Key)}] = pw
	}
}

// latest appends to dst the undecided writes of keys.
func (f *inflight) latest(db int, keys [][]byte, dst []*pendingWrite) []*pendingWrite {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.keys) == 0 {
		return dst
	}
	for _, k := range keys {
		if pw := f.keys[inflightKey{db, string(k)}]; pw != nil {
			dst = append(dst, pw)
		}
	}
	return dst
}

// busy reports, for each of keys, whether a write of it is in flight.
func (f *inflight) busy(db int, keys [][]byte) []bool {
	out := make([]bool, len(keys))
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, k := range keys {
		out[i] = f.keys[inflightKey{db, string(k)}] != nil
	}
	return out
}

// len is the number of keys with a write in flight.
func (f *inflight) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.keys)
}

// remove forgets pw for the keys it is still the latest write of.
func (f *inflight) remove(pw *pendingWrite) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range pw.changes {
		k := inflightKey{pw.changes[i].DB, string(pw.changes[i].Key)}
		if f.keys[k] == pw {
			delete(f.keys, k)
		}
	}
}
