package cluster

import "cairn/store"

// Stats are the cluster's figures for INFO cluster and metrics.
type Stats struct {
	Epoch          uint64
	Members, Alive int
	N, W, R        int
	SlotsHeld      int // slots this node serves as ready primary
	SlotsFresh     int // slots this node replicates and has synced
	// HintBacklog is the number of hinted keys held per node.
	HintBacklog map[string]int

	Replicated, Uncertain, NoReplicas, GapResends int64
	ReadRepairs, KeysRepaired, HintsReplayed      int64
	SlotsCompared, SlotsDiffered                  int64
	AntiEntropyRounds, SlotsAcquired, StepDowns   int64
	KeysDropped                                   int64 // keys of slots no longer replicated here, deleted
}

// Stats returns the current figures.
func (c *Cluster) Stats() Stats {
	v := c.View()
	st := Stats{
		Epoch: v.Epoch, Members: len(v.Members), N: v.N, W: v.W, R: v.R,
		HintBacklog: c.st.HintBacklog(),
		Replicated:  c.stats.replicated.Load(), Uncertain: c.stats.uncertain.Load(),
		NoReplicas: c.stats.noReplicas.Load(), GapResends: c.stats.gapResends.Load(),
		ReadRepairs: c.stats.readRepairs.Load(), KeysRepaired: c.stats.keysRepaired.Load(),
		HintsReplayed: c.stats.hintsReplayed.Load(), SlotsCompared: c.stats.slotsCompared.Load(),
		SlotsDiffered: c.stats.slotsDiffered.Load(), AntiEntropyRounds: c.stats.antiEntropyRounds.Load(),
		SlotsAcquired: c.stats.acquired.Load(), StepDowns: c.stats.stepDowns.Load(),
		KeysDropped: c.stats.keysDropped.Load(),
	}
	for _, alive := range v.Alive {
		if alive {
			st.Alive++
		}
	}
	for s := range store.SlotCount {
		if c.held[s].Load() != 0 {
			st.SlotsHeld++
		}
		if c.fresh[s].Load() && v.IsReplica(uint16(s), c.self) {
			st.SlotsFresh++
		}
	}
	return st
}

// Ready reports whether this node holds every slot it is primary of in
// its view (tests and readiness checks).
func (c *Cluster) Ready() bool {
	v := c.View()
	for s := range store.SlotCount {
		if id, ok := v.Primary(uint16(s)); ok && id == c.self && c.held[s].Load() == 0 {
			return false
		}
	}
	return true
}
