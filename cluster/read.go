package cluster

import (
	"context"
	"strconv"

	"cairn/store"
)

// The read path. At ONE a replica answers from its own store. Above ONE
// the slot primary answers: it asks Reads-1 other replicas for the
// versions of the command's keys, pulls any newer state and repairs stale
// replicas before running the command, and holds the reply until every
// write the command observed is acknowledged. A replica that has promised a
// newer ballot tells the primary it was deposed.

// Read runs e as a replica of its slot at e.Level. Above ONE this node
// must hold the slot as primary (ErrTryAgain otherwise).
func (c *Cluster) Read(ctx context.Context, e Exec) (store.Ticket, error) {
	v := c.View()
	need := e.Level.Reads(v)
	if need <= 1 && e.Level != LevelPrimary {
		return c.st.UpdateAt(e.DB, e.Now, e.Run)
	}
	ballot, err := c.holding(v, e.Slot, len(v.LiveReplicas(e.Slot)))
	if err != nil {
		return 0, err
	}
	if need > 1 {
		if err := c.reconcile(ctx, v, e.Slot, ballot, e.Keys, need-1); err != nil {
			return 0, err
		}
	}
	var observed []*pendingWrite
	t, err := c.st.UpdateAt(e.DB, e.Now, func(tx *store.Tx) {
		observed = c.inflight.latest(e.DB, e.Keys, observed)
		e.Run(tx)
	})
	if err != nil {
		return t, err
	}
	return t, c.awaitObserved(ctx, observed)
}

// reconcile compares the versions of keys (database 0) here with need
// other live replicas (asking more only when one fails), installs newer
// states found there and pushes this node's state to replicas that are
// behind, except for keys with a write in flight: their replication is on
// its way and the reply waits for it anyway.
func (c *Cluster) reconcile(ctx context.Context, v *View, slot uint16, ballot uint64, keys [][]byte, need int) error {
	var others []string
	for _, id := range v.LiveReplicas(slot) {
		if id != c.self {
			others = append(others, id)
		}
	}
	if len(others) < need {
		c.stats.noReplicas.Add(1)
		return ErrNoReplicas
	}
	// The calls may outlive this function: they get their own copy of keys,
	// which alias the client's read buffer.
	args := [][]byte{[]byte(cmdVersions), []byte(strconv.Itoa(int(slot)))}
	for _, k := range keys {
		args = append(args, append([]byte(nil), k...))
	}
	keys = args[2:]
	type answer struct {
		node     string
		promised uint64
		versions []store.Version
		err      error
	}
	answers := make(chan answer, len(others))
	ask := func(id string) {
		go func() {
			r, err := c.call(ctx, id, args...)
			a := answer{node: id, err: err}
			if err == nil {
				a.promised, a.versions, a.err = parseVersions(r, len(keys))
			}
			answers <- a
		}()
	}
	for _, id := range others[:need] {
		ask(id)
	}
	spare := others[need:]
	local := make([]store.Version, len(keys))
	var busy []bool // a write of the key is in flight
	c.st.Update(0, func(tx *store.Tx) {
		for i, k := range keys {
			local[i] = tx.KeyVersion(k)
		}
		busy = c.inflight.busy(0, keys)
	})
	got, pending := 0, need
	for pending > 0 {
		a := <-answers
		pending--
		ok := a.err == nil
		if ok && a.promised > ballot {
			c.stepDown(slot, ballot, "a replica promised a newer ballot")
			return ErrTryAgain
		}
		if ok {
			ok = c.repairFrom(ctx, a.node, slot, ballot, keys, local, busy, a.versions)
		}
		if ok {
			if got++; got == need {
				return nil
			}
		} else if len(spare) > 0 {
			ask(spare[0])
			spare = spare[1:]
			pending++
		}
	}
	c.stats.noReplicas.Add(1)
	return ErrNoReplicas
}

// repairFrom brings this node and a replica that reported versions of
// keys to the newer state of each key, and reports whether it succeeded.
func (c *Cluster) repairFrom(ctx context.Context, node string, slot uint16, ballot uint64, keys [][]byte, local []store.Version, busy []bool, remote []store.Version) bool {
	var newer, stale [][]byte
	for i, rv := range remote {
		switch {
		case local[i].Less(rv):
			newer = append(newer, keys[i])
		case rv.Less(local[i]) && !busy[i]:
			stale = append(stale, keys[i])
		}
	}
	if len(newer) > 0 {
		if c.pullStates(ctx, node, newer) != nil {
			return false
		}
		c.stats.readRepairs.Add(int64(len(newer)))
	}
	if len(stale) > 0 {
		if c.pushKeys(ctx, node, slot, ballot, stale) != nil {
			return false
		}
		c.stats.readRepairs.Add(int64(len(stale)))
	}
	return true
}
