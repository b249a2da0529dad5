package cluster

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"cairn/store"
)

// Slot primaries. The first live node of a slot's preference list is its
// primary, but it serves the slot only once it holds a ballot: it promises
// a new ballot N to itself, asks the other replicas to promise it
// (CAIRN.PREPARE), and with a majority of promises it syncs the slot with
// the replicas that promised (and the slot's replicas before the last ring
// change) in both directions, newest version winning, so every write
// acknowledged under an older ballot, which reached a majority, is here
// and held by a majority before the slot serves again. A replica that
// promised N refuses older ballots, which fences a deposed primary.

// primaryLoop acquires the slots this node should hold and releases the
// others, on every view change and periodically for failed acquisitions.
func (c *Cluster) primaryLoop() {
	defer c.wg.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	tried := make([]uint64, store.SlotCount) // highest ballot N seen per slot
	for {
		c.settlePrimaries(tried)
		select {
		case <-c.stop:
			return
		case <-c.kick:
		case <-t.C:
		}
	}
}

// settlePrimaries releases slots this node is no longer primary of and
// acquires the ones it should hold.
func (c *Cluster) settlePrimaries(tried []uint64) {
	if c.leaving.Load() {
		return
	}
	v := c.View()
	var want []uint16
	for s := range store.SlotCount {
		slot := uint16(s)
		id, ok := v.Primary(slot)
		if ok && id == c.self {
			if c.held[slot].Load() == 0 {
				want = append(want, slot)
			}
		} else if c.held[slot].Load() != 0 {
			c.held[slot].Store(0)
		}
	}
	if len(want) > 0 {
		c.acquire(v, want, tried)
	}
}

// stepDown releases slot if this node still holds it with ballot; the
// primary loop then tries to acquire it again with a newer ballot.
func (c *Cluster) stepDown(slot uint16, ballot uint64, why string) {
	if c.held[slot].CompareAndSwap(ballot, 0) {
		c.stats.stepDowns.Add(1)
		c.log.Warn("stepped down as slot primary", "slot", slot, "ballot", ballot, "why", why)
		c.wakePrimary()
	}
}

// acquire runs the prepare and sync phases for slots and holds those that
// reach a majority.
func (c *Cluster) acquire(v *View, slots []uint16, tried []uint64) {
	ctx, cancel := context.WithTimeout(c.bg, 4*c.opts.ReplicationTimeout)
	defer cancel()
	bs := make([]store.SlotBallot, len(slots))
	for i, slot := range slots {
		n := max(tried[slot], c.st.Promised(slot).N) + 1
		tried[slot] = n
		bs[i] = store.SlotBallot{Slot: slot, Ballot: store.Ballot{N: n, Node: c.self}}
	}
	mine, err := c.st.Promise(bs)
	if err != nil {
		return
	}
	promises := make([]int, len(slots))     // replicas that promised, self included
	refused := make([]bool, len(slots))     // a replica holds a newer ballot: retry with a higher one
	sources := make([][]string, len(slots)) // peers to sync each slot with
	for i := range slots {
		if mine[i] == bs[i].Ballot {
			promises[i] = 1
		}
	}
	// One PREPARE per peer, for every slot that peer replicates.
	type ask struct {
		idx  []int
		body []byte
	}
	asks := map[string]*ask{}
	for i, slot := range slots {
		for _, id := range v.Replicas(slot) {
			if id == c.self || !v.Alive[id] {
				continue
			}
			a := asks[id]
			if a == nil {
				a = &ask{}
				asks[id] = a
			}
			a.idx = append(a.idx, i)
			a.body = binary.BigEndian.AppendUint16(a.body, slot)
			a.body = binary.BigEndian.AppendUint64(a.body, bs[i].Ballot.N)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	local := c.st.SlotDigests(slots)
	for id, a := range asks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.call(ctx, id, []byte(cmdPrepare), []byte(c.self), a.body)
			if err != nil {
				return
			}
			ps, err := parsePromises(r, len(a.idx))
			if err != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for j, i := range a.idx {
				if ps[j].ballot == bs[i].Ballot {
					promises[i]++
					if ps[j].digest != local[i] {
						sources[i] = append(sources[i], id)
					}
				} else {
					tried[slots[i]] = max(tried[slots[i]], ps[j].ballot.N)
					refused[i] = true
				}
			}
		}()
	}
	wg.Wait()
	// Replicas from before the last ring change may hold writes the new
	// replicas have not received yet.
	if v.Prev != nil {
		for i, slot := range slots {
			for _, id := range v.Prev.Replicas(slot) {
				if id != c.self && v.Alive[id] && !v.IsReplica(slot, id) {
					sources[i] = append(sources[i], id)
				}
			}
		}
	}
	need := v.Majority()
	acquired := 0
	for i, slot := range slots {
		if refused[i] {
			// Another node holds this ballot or a newer one, or the replica
			// sees another primary: the next round (after views settle)
			// tries a ballot above every one seen.
			continue
		}
		if promises[i] < need {
			continue
		}
		ok := true
		for _, id := range sources[i] {
			if _, _, err := c.syncSlot(ctx, id, slot, 0); err != nil {
				ok = false
				break
			}
		}
		if ok && !c.leaving.Load() {
			c.held[slot].Store(bs[i].Ballot.N)
			c.fresh[slot].Store(true)
			acquired++
		}
	}
	if acquired > 0 {
		c.stats.acquired.Add(int64(acquired))
		c.log.Debug("acquired slots", "slots", acquired, "wanted", len(slots))
	}
}

// syncSlot makes this node and peer agree on slot: for every key, the newer
// of the two states wins on both sides. With ballot != 0 this node is the
// slot's primary and the peer fences its pushes.
func (c *Cluster) syncSlot(ctx context.Context, peer string, slot uint16, ballot uint64) (pulled, pushed int, err error) {
	r, err := c.call(ctx, peer, []byte(cmdRecords), []byte(itoa(int(slot))))
	if err != nil {
		return 0, 0, err
	}
	remote, err := parseRecords(r)
	if err != nil {
		return 0, 0, err
	}
	var pull, push [][]byte
	err = c.st.SlotRecords(0, slot, func(rec store.Record) bool {
		k := string(rec.Key)
		rr, ok := remote[k]
		delete(remote, k)
		switch {
		case !ok || rr.version.Less(rec.Version):
			push = append(push, []byte(k))
		case rec.Version.Less(rr.version):
			pull = append(pull, []byte(k))
		}
		return true
	})
	if err != nil {
		return 0, 0, err
	}
	for k := range remote {
		pull = append(pull, []byte(k))
	}
	if len(pull) > 0 {
		if err := c.pullStates(ctx, peer, pull); err != nil {
			return 0, 0, err
		}
	}
	if len(push) > 0 {
		if err := c.pushKeys(ctx, peer, slot, ballot, push); err != nil {
			return len(pull), 0, err
		}
	}
	c.stats.keysRepaired.Add(int64(len(pull) + len(push)))
	return len(pull), len(push), nil
}
