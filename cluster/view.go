package cluster

import (
	"maps"
	"slices"
	"strings"

	"cairn/store"
)

// View is an immutable snapshot of the ring and of liveness. Requests read
// the view once and act on it; a newer view replaces it whole.
type View struct {
	Self    string
	Epoch   uint64            // ring epoch
	Ring    *Ring             // current placement
	Prev    *Ring             // placement before the last ring change, or nil
	Members map[string]Member // active ring members by ID
	Alive   map[string]bool   // liveness of ring members (self is alive)
	// N, W, R are the configured values capped at the ring's size.
	N, W, R int
}

func newView(self string, rs RingState, alive func(string) bool, o Options, old *View) *View {
	v := &View{Self: self, Epoch: rs.Epoch, Members: map[string]Member{}, Alive: map[string]bool{}}
	ids := []string{}
	for _, m := range rs.Active() {
		v.Members[m.ID] = m
		v.Alive[m.ID] = m.ID == self || alive(m.ID)
		ids = append(ids, m.ID)
	}
	if old != nil && slices.Equal(old.Ring.Nodes(), ids) {
		v.Ring, v.Prev = old.Ring, old.Prev
	} else {
		v.Ring = NewRing(ids, o.VNodes, o.N)
		if old != nil {
			v.Prev = old.Ring
		}
	}
	v.N = v.Ring.N()
	v.W, v.R = min(o.W, v.N), min(o.R, v.N)
	return v
}

// sameAs reports whether o has the same ring, addresses and liveness as v.
func (v *View) sameAs(o *View) bool {
	return v.Epoch == o.Epoch && v.Ring == o.Ring && maps.Equal(v.Alive, o.Alive) && maps.Equal(v.Members, o.Members)
}

// Replicas is slot's preference list.
func (v *View) Replicas(slot uint16) []string { return v.Ring.Replicas(slot) }

// Primary is the first live node of slot's preference list; ok is false
// when none is alive.
func (v *View) Primary(slot uint16) (id string, ok bool) {
	for _, id := range v.Ring.Replicas(slot) {
		if v.Alive[id] {
			return id, true
		}
	}
	return "", false
}

// IsReplica reports whether id is in slot's preference list.
func (v *View) IsReplica(slot uint16, id string) bool {
	for _, r := range v.Ring.Replicas(slot) {
		if r == id {
			return true
		}
	}
	return false
}

// LiveReplicas is the live part of slot's preference list, in order.
func (v *View) LiveReplicas(slot uint16) []string {
	var out []string
	for _, id := range v.Ring.Replicas(slot) {
		if v.Alive[id] {
			out = append(out, id)
		}
	}
	return out
}

// Majority is the number of a slot's replicas that make a majority.
func (v *View) Majority() int { return v.N/2 + 1 }

// Level is a consistency level: how many replicas a read or write waits for.
type Level uint8

const (
	LevelDefault Level = iota // the server's R and W
	LevelOne                  // one replica
	LevelQuorum               // a majority of the replicas
	LevelAll                  // every replica
	// LevelReadYourWrites reads like ONE, but a connection's read of a key
	// it wrote sees that write or a newer one; writes wait for the server's W.
	LevelReadYourWrites
	// LevelPrimary reads from the slot primary alone, once it holds the
	// slot: it has every acknowledged write. Read-your-writes falls back to
	// it when the local replica is behind.
	LevelPrimary
)

var levelNames = [...]string{"DEFAULT", "ONE", "QUORUM", "ALL", "READYOURWRITES", "PRIMARY"}

func (l Level) String() string { return levelNames[l] }

// ParseLevel parses a level name, case-insensitively.
func ParseLevel(s string) (Level, bool) {
	for i, n := range levelNames {
		if strings.EqualFold(s, n) {
			return Level(i), true
		}
	}
	return 0, false
}

// Reads is the number of replicas a read at l consults under v.
func (l Level) Reads(v *View) int {
	switch l {
	case LevelOne, LevelReadYourWrites, LevelPrimary:
		return 1
	case LevelQuorum:
		return v.Majority()
	case LevelAll:
		return v.N
	}
	return v.R
}

// Writes is the number of replicas (the primary included) a write at l waits for.
func (l Level) Writes(v *View) int {
	switch l {
	case LevelOne:
		return 1
	case LevelQuorum:
		return v.Majority()
	case LevelAll:
		return v.N
	}
	return v.W
}

// KeySlot is the hash slot of key.
func KeySlot(key []byte) uint16 { return store.KeySlot(key) }
