package cluster

import (
	"sync"
	"time"
)

// Faults injects network faults between nodes for tests: per directed link
// (from node ID to node ID) a message can be dropped or delayed. Both the
// gossip transport and the peer RPC transport consult the same Faults on
// the sending side, so a partition cuts both. A nil *Faults injects nothing.
type Faults struct {
	mu     sync.Mutex
	links  map[link]Fault
	frozen map[string]bool
}

// Fault is what happens to messages on one directed link.
type Fault struct {
	Drop  bool          // messages are lost (connections cannot be made)
	Delay time.Duration // messages arrive this much later
	// GossipOnly limits the fault to gossip: peer RPC still flows, as when
	// a node's membership is stuck (a paused process) but its data path is not.
	GossipOnly bool
	// RPCOnly limits the fault to peer RPC: liveness is unaffected, so the
	// peer misses replication while every node believes it alive.
	RPCOnly bool
}

type link struct{ from, to string }

// NewFaults returns a Faults with every link healthy.
func NewFaults() *Faults { return &Faults{links: make(map[link]Fault), frozen: make(map[string]bool)} }

// Set sets the fault on the link from -> to (one direction).
func (f *Faults) Set(from, to string, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fault == (Fault{}) {
		delete(f.links, link{from, to})
		return
	}
	f.links[link{from, to}] = fault
}

// Partition drops every message between a and b, both directions.
func (f *Faults) Partition(a, b string) {
	f.Set(a, b, Fault{Drop: true})
	f.Set(b, a, Fault{Drop: true})
}

// Isolate partitions node id from every node in others.
func (f *Faults) Isolate(id string, others ...string) {
	for _, o := range others {
		if o != id {
			f.Partition(id, o)
		}
	}
}

// Heal removes every fault, frozen views included.
func (f *Faults) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.links)
	clear(f.frozen)
}

// FreezeView stops (or restarts) node id's view from following membership:
// the node keeps acting on the ring and liveness it last saw, like a
// process paused in the middle of its work.
func (f *Faults) FreezeView(id string, frozen bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frozen[id] = frozen
}

// ViewFrozen reports whether node id's view is frozen.
func (f *Faults) ViewFrozen(id string) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frozen[id]
}

// RPC is the fault on the link from -> to for peer RPC.
func (f *Faults) RPC(from, to string) Fault {
	if ft := f.Get(from, to); !ft.GossipOnly {
		return ft
	}
	return Fault{}
}

// Gossip is the fault on the link from -> to for gossip.
func (f *Faults) Gossip(from, to string) Fault {
	if ft := f.Get(from, to); !ft.RPCOnly {
		return ft
	}
	return Fault{}
}

// Get returns the fault on the link from -> to.
func (f *Faults) Get(from, to string) Fault {
	if f == nil {
		return Fault{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.links[link{from, to}]
}
