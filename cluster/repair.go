package cluster

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"cairn/store"
)

// Repair without reads: hinted handoff replays the keys a replica missed
// once it is alive again; anti-entropy has each primary compare slot
// digests with its replicas and sync the slots that differ; and a replica
// that is not fresh for a slot (restarted, or new to it after a ring
// change) syncs it with the primary before serving reads at ONE.

func (c *Cluster) repairLoop() {
	defer c.wg.Done()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			ctx, cancel := context.WithTimeout(c.bg, c.opts.AntiEntropyInterval+4*c.opts.ReplicationTimeout)
			c.replayHints(ctx)
			c.refresh(ctx)
			if now.Sub(last) >= c.opts.AntiEntropyInterval {
				c.antiEntropy(ctx)
				c.dropForeignSlots(ctx, now)
				last = now
			}
			cancel()
		}
	}
}

// onRingChange marks the slots this node newly replicates as not fresh.
func (c *Cluster) onRingChange(old, v *View) {
	c.ringChanged.Store(time.Now().UnixNano())
	for s := range store.SlotCount {
		slot := uint16(s)
		if v.IsReplica(slot, c.self) && !old.IsReplica(slot, c.self) {
			c.fresh[slot].Store(false)
		}
	}
}

// dropForeignSlots deletes the data of slots this node does not replicate
// any more, once the ring has been stable for two anti-entropy rounds: it
// first syncs each such slot with its primary, so nothing only this node
// holds is lost.
func (c *Cluster) dropForeignSlots(ctx context.Context, now time.Time) {
	if now.Sub(time.Unix(0, c.ringChanged.Load())) < 2*c.opts.AntiEntropyInterval {
		return
	}
	v := c.View()
	for s := range store.SlotCount {
		slot := uint16(s)
		if v.IsReplica(slot, c.self) || c.st.SlotCount(slot) == 0 {
			continue
		}
		p, ok := v.Primary(slot)
		if !ok {
			continue
		}
		if _, _, err := c.syncSlot(ctx, p, slot, 0); err != nil {
			continue
		}
		if n, err := c.st.DropSlot(slot); err == nil {
			c.stats.keysDropped.Add(int64(n))
		}
	}
}

// Fresh reports whether this node may answer reads of slot at ONE.
func (c *Cluster) Fresh(slot uint16) bool { return c.fresh[slot].Load() }

// replayHints sends each live node the current state of the keys it missed.
func (c *Cluster) replayHints(ctx context.Context) {
	v := c.View()
	for _, node := range c.st.HintedNodes() {
		if !v.Alive[node] || node == c.self {
			continue
		}
		if _, ok := v.Members[node]; !ok {
			c.st.DropHints(node, c.st.Hints(node, 1<<30)) // forgotten node
			continue
		}
		for range 16 { // bounded work per tick
			hs := c.st.Hints(node, 256)
			if len(hs) == 0 {
				break
			}
			cs := make([]store.Change, len(hs))
			for i, h := range hs {
				cs[i] = store.Change{DB: h.DB, Key: h.Key}
			}
			if err := c.pushStates(ctx, node, 0, 0, cs); err != nil {
				break
			}
			c.st.DropHints(node, hs)
			c.stats.hintsReplayed.Add(int64(len(hs)))
		}
	}
}

// refresh syncs the slots this node replicates but is not fresh for with
// their primaries: slots whose digests already match become fresh at once.
func (c *Cluster) refresh(ctx context.Context) {
	v := c.View()
	byPrimary := map[string][]uint16{}
	for s := range store.SlotCount {
		slot := uint16(s)
		if c.fresh[slot].Load() || !v.IsReplica(slot, c.self) {
			continue
		}
		p, ok := v.Primary(slot)
		if !ok {
			continue
		}
		if p == c.self {
			continue // acquisition makes it fresh
		}
		byPrimary[p] = append(byPrimary[p], slot)
	}
	for p, slots := range byPrimary {
		c.compare(ctx, p, slots, func(slot uint16, equal bool) {
			if equal {
				c.fresh[slot].Store(true)
				return
			}
			if _, _, err := c.syncSlot(ctx, p, slot, 0); err == nil {
				c.fresh[slot].Store(true)
			}
		})
	}
}

// compare fetches peer's digests of slots and calls fn with each slot and
// whether the digests match.
func (c *Cluster) compare(ctx context.Context, peer string, slots []uint16, fn func(slot uint16, equal bool)) {
	for len(slots) > 0 {
		batch := slots[:min(len(slots), 4096)]
		slots = slots[len(batch):]
		r, err := c.call(ctx, peer, []byte(cmdDigests), appendSlots(nil, batch))
		if err != nil {
			return
		}
		theirs, err := parseDigests(r, len(batch))
		if err != nil {
			return
		}
		mine := c.st.SlotDigests(batch)
		for i, slot := range batch {
			c.stats.slotsCompared.Add(1)
			fn(slot, mine[i] == theirs[i])
		}
	}
}

// antiEntropy has this node, as primary, sync every slot it holds whose
// digest differs from a live replica's.
func (c *Cluster) antiEntropy(ctx context.Context) {
	v := c.View()
	byPeer := map[string][]uint16{}
	for s := range store.SlotCount {
		slot := uint16(s)
		if c.held[slot].Load() == 0 {
			continue
		}
		for _, id := range v.LiveReplicas(slot) {
			if id != c.self {
				byPeer[id] = append(byPeer[id], slot)
			}
		}
	}
	for peer, slots := range byPeer {
		c.compare(ctx, peer, slots, func(slot uint16, equal bool) {
			if equal {
				return
			}
			c.stats.slotsDiffered.Add(1)
			if b := c.held[slot].Load(); b != 0 {
				c.syncSlot(ctx, peer, slot, b)
			}
		})
	}
	c.stats.antiEntropyRounds.Add(1)
}

// counters are the cluster's statistics for INFO.
type counters struct {
	replicated, uncertain, noReplicas, gapResends atomic.Int64
	readRepairs, keysRepaired, hintsReplayed      atomic.Int64
	slotsCompared, slotsDiffered                  atomic.Int64
	antiEntropyRounds, acquired, stepDowns        atomic.Int64
	keysDropped                                   atomic.Int64 // data of slots no longer replicated here
}

func itoa(i int) string { return strconv.Itoa(i) }
