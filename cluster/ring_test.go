package cluster

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cespare/xxhash/v2"

	"cairn/store"
)

// nodeIDs returns count node IDs "node-<first>" ... in ascending index order.
func nodeIDs(first, count int) []string {
	ids := make([]string, count)
	for i := range ids {
		ids[i] = fmt.Sprintf("node-%d", first+i)
	}
	return ids
}

// allLists returns every preference list of r, indexed by slot.
func allLists(r *Ring) [][]string {
	lists := make([][]string, store.SlotCount)
	for s := range lists {
		lists[s] = r.Replicas(uint16(s))
	}
	return lists
}

// isPrefix reports whether prefix is a prefix of list.
func isPrefix(prefix, list []string) bool {
	return len(prefix) <= len(list) && slices.Equal(prefix, list[:len(prefix)])
}

// without returns list minus every occurrence of node, in a new slice.
func without(list []string, node string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == node })
}

func TestRing_shape(t *testing.T) {
	tests := []struct {
		name   string
		nodes  []string
		vnodes int
		n      int
		wantN  int
	}{
		{name: "one node", nodes: nodeIDs(0, 1), vnodes: 128, n: 3, wantN: 1},
		{name: "two nodes n=3", nodes: nodeIDs(0, 2), vnodes: 128, n: 3, wantN: 2},
		{name: "three nodes n=3", nodes: nodeIDs(0, 3), vnodes: 128, n: 3, wantN: 3},
		{name: "five nodes n=1", nodes: nodeIDs(0, 5), vnodes: 128, n: 1, wantN: 1},
		{name: "five nodes n=5", nodes: nodeIDs(0, 5), vnodes: 128, n: 5, wantN: 5},
		{name: "ten nodes n=3 one token", nodes: nodeIDs(0, 10), vnodes: 1, n: 3, wantN: 3},
		{name: "duplicates", nodes: []string{"b", "a", "b", "c", "a"}, vnodes: 16, n: 4, wantN: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRing(tc.nodes, tc.vnodes, tc.n)
			wantNodes := slices.Compact(slices.Sorted(slices.Values(tc.nodes)))
			if got := r.Nodes(); !slices.Equal(got, wantNodes) {
				t.Fatalf("Nodes() = %v, want %v", got, wantNodes)
			}
			if r.N() != tc.wantN {
				t.Fatalf("N() = %d, want %d", r.N(), tc.wantN)
			}
			slotsOf := make(map[string][]uint16)
			primary := make(map[string][]uint16)
			for s, list := range allLists(r) {
				if len(list) != tc.wantN {
					t.Fatalf("slot %d: list %v has length %d, want %d", s, list, len(list), tc.wantN)
				}
				if d := slices.Compact(slices.Sorted(slices.Values(list))); len(d) != len(list) {
					t.Fatalf("slot %d: list %v repeats a node", s, list)
				}
				for _, node := range list {
					if _, ok := slices.BinarySearch(wantNodes, node); !ok {
						t.Fatalf("slot %d: list %v holds unknown node %q", s, list, node)
					}
					slotsOf[node] = append(slotsOf[node], uint16(s))
				}
				primary[list[0]] = append(primary[list[0]], uint16(s))
			}
			for _, node := range wantNodes {
				if len(slotsOf[node]) == 0 {
					t.Errorf("node %q is in no preference list", node)
				}
				if got := r.SlotsOf(node); !slices.Equal(got, slotsOf[node]) {
					t.Errorf("SlotsOf(%q) has %d slots, want %d (from Replicas)", node, len(got), len(slotsOf[node]))
				}
				if got := r.PrimarySlots(node); !slices.Equal(got, primary[node]) {
					t.Errorf("PrimarySlots(%q) has %d slots, want %d (from Replicas)", node, len(got), len(primary[node]))
				}
			}
		})
	}
}

func TestRing_everyNodeIsPrimary(t *testing.T) {
	for _, count := range []int{3, 10, 100} {
		t.Run(fmt.Sprint(count, " nodes"), func(t *testing.T) {
			r := NewRing(nodeIDs(0, count), DefaultVNodes, 3)
			for _, node := range r.Nodes() {
				if len(r.PrimarySlots(node)) == 0 {
					t.Errorf("node %q is primary of no slot", node)
				}
			}
		})
	}
}

func TestRing_empty(t *testing.T) {
	r := NewRing(nil, 0, 3)
	if r.N() != 0 || len(r.Nodes()) != 0 {
		t.Fatalf("empty ring: N() = %d, Nodes() = %v", r.N(), r.Nodes())
	}
	for _, slot := range []uint16{0, 1, store.SlotCount - 1} {
		if got := r.Replicas(slot); got != nil {
			t.Errorf("Replicas(%d) = %v, want nil", slot, got)
		}
	}
	if got := r.SlotsOf("a"); got != nil {
		t.Errorf("SlotsOf(a) = %v, want nil", got)
	}
	if got := r.PrimarySlots("a"); got != nil {
		t.Errorf("PrimarySlots(a) = %v, want nil", got)
	}
}

func TestRing_unknownNode(t *testing.T) {
	r := NewRing([]string{"a", "b"}, 8, 2)
	if got := r.SlotsOf("c"); got != nil {
		t.Errorf("SlotsOf(c) = %v, want nil", got)
	}
	if got := r.PrimarySlots("c"); got != nil {
		t.Errorf("PrimarySlots(c) = %v, want nil", got)
	}
}

func TestRing_panicsOnZeroReplicationFactor(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewRing with n=0 did not panic")
		}
	}()
	NewRing([]string{"a"}, 8, 0)
}

func TestRing_defaultVNodes(t *testing.T) {
	nodes := nodeIDs(0, 5)
	want := allLists(NewRing(nodes, DefaultVNodes, 3))
	for _, vnodes := range []int{0, -1} {
		if got := allLists(NewRing(nodes, vnodes, 3)); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("vnodes=%d differs from vnodes=DefaultVNodes", vnodes)
		}
	}
	if got := allLists(NewRing(nodes, 64, 3)); slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("vnodes=64 gives the same placement as vnodes=%d", DefaultVNodes)
	}
}

func TestRing_deterministic(t *testing.T) {
	nodes := nodeIDs(0, 20)
	want := allLists(NewRing(nodes, DefaultVNodes, 3))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5 {
		shuffled := slices.Clone(nodes)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		shuffled = append(shuffled, shuffled[:i]...) // duplicates must not matter either
		if got := allLists(NewRing(shuffled, DefaultVNodes, 3)); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("order %v gives a different placement", shuffled)
		}
	}
}

// TestRing_placementIsPinned fails when the placement function changes.
// Nodes of different versions must agree on placement, so a change here is
// a cluster protocol change, not a refactoring.
func TestRing_placementIsPinned(t *testing.T) {
	r := NewRing([]string{"a", "b", "c", "d", "e"}, DefaultVNodes, 3)
	tests := []struct {
		slot uint16
		want []string
	}{
		{slot: 0, want: []string{"a", "c", "b"}},
		{slot: 1, want: []string{"c", "b", "a"}},
		{slot: 12182, want: []string{"d", "c", "e"}}, // store.KeySlot("foo")
		{slot: store.SlotCount - 1, want: []string{"a", "c", "b"}},
	}
	for _, tc := range tests {
		if got := r.Replicas(tc.slot); !slices.Equal(got, tc.want) {
			t.Errorf("Replicas(%d) = %q, want %q", tc.slot, got, tc.want)
		}
	}
	d := xxhash.New()
	for _, list := range allLists(r) {
		for _, node := range list {
			d.WriteString(node)
			d.WriteString(",")
		}
	}
	const want uint64 = 0xd596248645138c38
	if got := d.Sum64(); got != want {
		t.Errorf("digest of all preference lists = %#x, want %#x", got, want)
	}
}

func TestRing_replicasAreNotAliased(t *testing.T) {
	r := NewRing(nodeIDs(0, 5), 16, 3)
	next := slices.Clone(r.Replicas(1))
	_ = append(r.Replicas(0), "intruder")
	if got := r.Replicas(1); !slices.Equal(got, next) {
		t.Fatalf("appending to Replicas(0) changed Replicas(1): %v, was %v", got, next)
	}
	r.SlotsOf("node-0")[0] = 9999
	r.PrimarySlots("node-0")[0] = 9999
	if r.SlotsOf("node-0")[0] == 9999 || r.PrimarySlots("node-0")[0] == 9999 {
		t.Fatal("SlotsOf or PrimarySlots returned the ring's own slice")
	}
}

// TestRing_joinMovesSlotsOnlyToNewNode checks the consistent-hashing
// promise: after a join, a slot's list is its old list with the new node
// inserted (and the last entry dropped when the list was full), so slots
// move only to the new node and a primary changes only to the new node.
func TestRing_joinMovesSlotsOnlyToNewNode(t *testing.T) {
	tests := []struct {
		name  string
		count int
		n     int
	}{
		{name: "1 to 2 nodes n=3", count: 1, n: 3},
		{name: "3 to 4 nodes n=3", count: 3, n: 3},
		{name: "10 to 11 nodes n=3", count: 10, n: 3},
		{name: "10 to 11 nodes n=1", count: 10, n: 1},
		{name: "30 to 31 nodes n=5", count: 30, n: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const joiner = "joiner"
			before := allLists(NewRing(nodeIDs(0, tc.count), 64, tc.n))
			after := allLists(NewRing(append(nodeIDs(0, tc.count), joiner), 64, tc.n))
			changed := 0
			for s := range before {
				if slices.Equal(before[s], after[s]) {
					continue
				}
				changed++
				if !slices.Contains(after[s], joiner) {
					t.Fatalf("slot %d: list changed from %v to %v without the new node", s, before[s], after[s])
				}
				if rest := without(after[s], joiner); !isPrefix(rest, before[s]) {
					t.Fatalf("slot %d: list %v is not %v with %q inserted", s, after[s], before[s], joiner)
				}
				if after[s][0] != before[s][0] && after[s][0] != joiner {
					t.Fatalf("slot %d: primary changed from %q to %q", s, before[s][0], after[s][0])
				}
			}
			if changed == 0 {
				t.Fatal("no slot moved to the new node")
			}
		})
	}
}

// TestRing_leaveAffectsOnlyItsSlots checks that removing a node changes
// only the lists that held it: each loses the node and gains the next
// distinct node at its end.
func TestRing_leaveAffectsOnlyItsSlots(t *testing.T) {
	tests := []struct {
		name  string
		count int
		n     int
		leave string
	}{
		{name: "2 to 1 nodes n=3", count: 2, n: 3, leave: "node-1"},
		{name: "4 to 3 nodes n=3", count: 4, n: 3, leave: "node-2"},
		{name: "11 to 10 nodes n=3", count: 11, n: 3, leave: "node-0"},
		{name: "11 to 10 nodes n=1", count: 11, n: 1, leave: "node-7"},
		{name: "31 to 30 nodes n=5", count: 31, n: 5, leave: "node-30"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nodes := nodeIDs(0, tc.count)
			before := allLists(NewRing(nodes, 64, tc.n))
			after := allLists(NewRing(without(nodes, tc.leave), 64, tc.n))
			affected := 0
			for s := range before {
				if !slices.Contains(before[s], tc.leave) {
					if !slices.Equal(before[s], after[s]) {
						t.Fatalf("slot %d: list changed from %v to %v without holding %q", s, before[s], after[s], tc.leave)
					}
					continue
				}
				affected++
				if slices.Contains(after[s], tc.leave) {
					t.Fatalf("slot %d: list %v still holds the removed node", s, after[s])
				}
				if rest := without(before[s], tc.leave); !isPrefix(rest, after[s]) {
					t.Fatalf("slot %d: list %v does not start with %v minus %q", s, after[s], before[s], tc.leave)
				}
			}
			if affected == 0 {
				t.Fatalf("%q was in no preference list", tc.leave)
			}
		})
	}
}

// TestRing_matchesReference compares NewRing with a direct reading of the
// definition: order the nodes by the clockwise distance from the slot's
// position to their nearest token (ties by node ID) and take the first N.
func TestRing_matchesReference(t *testing.T) {
	tests := []struct {
		name   string
		count  int
		vnodes int
		n      int
	}{
		{name: "3 nodes 1 token n=2", count: 3, vnodes: 1, n: 2},
		{name: "5 nodes 16 tokens n=3", count: 5, vnodes: 16, n: 3},
		{name: "12 nodes 8 tokens n=4", count: 12, vnodes: 8, n: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nodes := nodeIDs(0, tc.count)
			r := NewRing(nodes, tc.vnodes, tc.n)
			slices.Sort(nodes)
			tokens := make(map[string][]uint64)
			for _, node := range nodes {
				for i := range tc.vnodes {
					tokens[node] = append(tokens[node], xxhash.Sum64String(node+"#"+fmt.Sprint(i)))
				}
			}
			for s := range store.SlotCount {
				pos := slotPosition(uint16(s))
				dist := make(map[string]uint64)
				for _, node := range nodes {
					dist[node] = ^uint64(0)
					for _, tok := range tokens[node] {
						dist[node] = min(dist[node], tok-pos) // wraps: clockwise distance
					}
				}
				want := slices.SortedStableFunc(slices.Values(nodes), func(a, b string) int {
					return cmp.Compare(dist[a], dist[b])
				})[:tc.n]
				if got := r.Replicas(uint16(s)); !slices.Equal(got, want) {
					t.Fatalf("slot %d: Replicas = %v, want %v", s, got, want)
				}
			}
		})
	}
}
