package cluster

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/cespare/xxhash/v2"

	"cairn/store"
)

// DefaultVNodes is the number of ring tokens per node when NewRing is given
// vnodes <= 0.
const DefaultVNodes = 128

// Ring places the store.SlotCount Redis hash slots on a consistent-hash
// ring. Each node owns vnodes tokens at pseudo-random positions; a slot's
// preference list is the first N distinct nodes met walking the ring
// clockwise from the slot's position. Its first entry is the slot's
// primary, unless liveness says otherwise.
//
// Placement is a pure function of the membership (node IDs, vnodes, N): a
// slot's preference list changes only when ring membership changes. Liveness
// is not the ring's business; a dead node keeps its place and callers skip
// it. Every node must compute the same placement from the same membership,
// so the hash functions below are part of the cluster protocol
// (TestRing_placementIsPinned guards them).
//
// A Ring is immutable after NewRing and safe for concurrent use. All
// preference lists are computed by NewRing, so lookups do not allocate.
type Ring struct {
	nodes []string // distinct node IDs, ascending
	n     int      // effective replication factor: min(requested N, len(nodes))

	// prefs holds every preference list back to back: slot s's list is
	// prefs[s*n : (s+1)*n]. Empty when nodes is empty.
	prefs []string

	// Indexed like nodes, slots ascending.
	slotsOf [][]uint16 // slots whose preference list contains the node
	primary [][]uint16 // slots whose preference list starts with the node
}

// token is one virtual node: a position on the ring and the index of its
// node in Ring.nodes.
type token struct {
	pos  uint64
	node int
}

// NewRing builds the ring for the given node IDs (any order; duplicates are
// ignored) with vnodes tokens per node (vnodes <= 0 means DefaultVNodes) and
// replication factor n: preference lists hold min(n, number of distinct
// nodes) nodes. NewRing panics if n < 1. With no nodes it returns a ring
// whose Replicas is nil for every slot.
func NewRing(nodes []string, vnodes, n int) *Ring {
	if n < 1 {
		panic("cluster: NewRing: replication factor " + strconv.Itoa(n) + " < 1")
	}
	if vnodes <= 0 {
		vnodes = DefaultVNodes
	}
	r := &Ring{nodes: slices.Compact(slices.Sorted(slices.Values(nodes)))}
	r.n = min(n, len(r.nodes))
	r.slotsOf = make([][]uint16, len(r.nodes))
	r.primary = make([][]uint16, len(r.nodes))
	if len(r.nodes) == 0 {
		return r
	}
	tokens := ringTokens(r.nodes, vnodes)
	positions := make([]uint64, len(tokens))
	for i, t := range tokens {
		positions[i] = t.pos
	}
	r.prefs = make([]string, store.SlotCount*r.n)

	// seen[i] == slot+1 once node i is in slot's list, so seen never needs
	// clearing between slots.
	seen := make([]int, len(r.nodes))
	for slot := range store.SlotCount {
		i, _ := slices.BinarySearch(positions, slotPosition(uint16(slot)))
		list := r.prefs[slot*r.n : slot*r.n : (slot+1)*r.n]
		// Terminates within one lap: every node has a token and r.n <= len(r.nodes).
		for ; len(list) < r.n; i++ {
			t := tokens[i%len(tokens)]
			if seen[t.node] == slot+1 {
				continue
			}
			seen[t.node] = slot + 1
			list = append(list, r.nodes[t.node])
			r.slotsOf[t.node] = append(r.slotsOf[t.node], uint16(slot))
			if len(list) == 1 {
				r.primary[t.node] = append(r.primary[t.node], uint16(slot))
			}
		}
	}
	return r
}

// ringTokens returns vnodes tokens for each of nodes (distinct, ascending),
// sorted by position; equal positions are ordered by node ID, so the ring
// does not depend on the input order.
func ringTokens(nodes []string, vnodes int) []token {
	tokens := make([]token, 0, len(nodes)*vnodes)
	var buf []byte
	for ni, id := range nodes {
		for i := range vnodes {
			buf = strconv.AppendInt(append(append(buf[:0], id...), '#'), int64(i), 10)
			tokens = append(tokens, token{pos: xxhash.Sum64(buf), node: ni})
		}
	}
	slices.SortFunc(tokens, func(a, b token) int {
		if a.pos != b.pos {
			return cmp.Compare(a.pos, b.pos)
		}
		return a.node - b.node
	})
	return tokens
}

// slotPosition is the ring position of slot: the slots are spread evenly
// around the ring in slot order (slot * 2^64/16384). Keys already spread
// evenly over slots (CRC16), so this balances as well as hashing the slot
// number, and consecutive slots share a token arc and so a preference
// list: CLUSTER SLOTS has about one range per token instead of one per
// slot (13,559 ranges and 3.4 MB at 3 nodes with hashed positions).
func slotPosition(slot uint16) uint64 {
	return uint64(slot) << 50
}

// Nodes returns the distinct node IDs, ascending, in a new slice.
func (r *Ring) Nodes() []string { return slices.Clone(r.nodes) }

// N returns the effective replication factor: the length of every
// preference list, min(requested n, number of nodes).
func (r *Ring) N() int { return r.n }

// Replicas returns the preference list of slot: the first N distinct nodes
// met walking clockwise from the slot's position, primary first. It is nil
// for a ring without nodes. The slice is shared: callers must not modify
// it (appending is safe; its capacity is its length).
//
// REQUIRES: slot < store.SlotCount.
func (r *Ring) Replicas(slot uint16) []string {
	if r.n == 0 {
		return nil
	}
	s := int(slot)
	return r.prefs[s*r.n : (s+1)*r.n : (s+1)*r.n]
}

// SlotsOf returns, ascending in a new slice, the slots whose preference list
// contains node; nil if node is not in the ring.
func (r *Ring) SlotsOf(node string) []uint16 {
	if i, ok := slices.BinarySearch(r.nodes, node); ok {
		return slices.Clone(r.slotsOf[i])
	}
	return nil
}

// PrimarySlots returns, ascending in a new slice, the slots whose preference
// list starts with node; nil if node is not in the ring.
func (r *Ring) PrimarySlots(node string) []uint16 {
	if i, ok := slices.BinarySearch(r.nodes, node); ok {
		return slices.Clone(r.primary[i])
	}
	return nil
}
