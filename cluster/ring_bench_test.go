package cluster

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"cairn/store"
)

func BenchmarkNewRing(b *testing.B) {
	for _, count := range []int{10, 100} {
		b.Run(fmt.Sprint(count, "nodes"), func(b *testing.B) {
			nodes := nodeIDs(0, count)
			b.ReportAllocs()
			for b.Loop() {
				NewRing(nodes, DefaultVNodes, 3)
			}
		})
	}
}

// Parameters of the balance report (docs/ring-balance.md).
const (
	reportKeys     = 1_000_000 // keys "key:<i>", placed through store.KeySlot
	reportN        = 3         // replication factor
	reportMoveRuns = 5         // joins (and leaves) averaged per configuration
)

// spread is the largest and smallest per-node count divided by the mean.
type spread struct{ max, min float64 }

func spreadOf(counts []int) spread {
	total := 0
	for _, c := range counts {
		total += c
	}
	mean := float64(total) / float64(len(counts))
	return spread{max: float64(slices.Max(counts)) / mean, min: float64(slices.Min(counts)) / mean}
}

func (s spread) String() string { return fmt.Sprintf("%.2f / %.2f", s.max, s.min) }

// balance is how evenly one ring spreads slots and keys over its nodes.
type balance struct {
	primarySlots, replicaSlots spread
	primaryKeys, replicaKeys   spread
}

// balanceOf measures r, given the number of keys in each slot.
func balanceOf(r *Ring, keysPerSlot []int) balance {
	var primarySlots, replicaSlots, primaryKeys, replicaKeys []int
	for _, node := range r.Nodes() {
		primarySlots = append(primarySlots, len(r.PrimarySlots(node)))
		replicaSlots = append(replicaSlots, len(r.SlotsOf(node)))
		primaryKeys = append(primaryKeys, sumKeys(r.PrimarySlots(node), keysPerSlot))
		replicaKeys = append(replicaKeys, sumKeys(r.SlotsOf(node), keysPerSlot))
	}
	return balance{
		primarySlots: spreadOf(primarySlots), replicaSlots: spreadOf(replicaSlots),
		primaryKeys: spreadOf(primaryKeys), replicaKeys: spreadOf(replicaKeys),
	}
}

func sumKeys(slots []uint16, keysPerSlot []int) int {
	sum := 0
	for _, s := range slots {
		sum += keysPerSlot[s]
	}
	return sum
}

// movement is what a membership change moves, as fractions of the keys
// (primary, list) or of the key copies held after the change (copies).
type movement struct {
	primary float64 // keys whose primary changed
	list    float64 // keys whose preference list changed at all
	copies  float64 // key copies on a node that did not hold them before
}

// movementOf compares the placements before and after a membership change.
func movementOf(before, after *Ring, keysPerSlot []int) movement {
	var primary, list, copies, total int
	for s, keys := range keysPerSlot {
		b, a := before.Replicas(uint16(s)), after.Replicas(uint16(s))
		total += keys
		if a[0] != b[0] {
			primary += keys
		}
		if !slices.Equal(a, b) {
			list += keys
		}
		for _, node := range a {
			if !slices.Contains(b, node) {
				copies += keys
			}
		}
	}
	return movement{
		primary: float64(primary) / float64(total),
		list:    float64(list) / float64(total),
		copies:  float64(copies) / float64(total*after.N()),
	}
}

// meanMovement averages movements field by field.
func meanMovement(ms []movement) movement {
	var sum movement
	for _, m := range ms {
		sum.primary += m.primary
		sum.list += m.list
		sum.copies += m.copies
	}
	k := float64(len(ms))
	return movement{primary: sum.primary / k, list: sum.list / k, copies: sum.copies / k}
}

// maxMovement is the largest of movements field by field.
func maxMovement(ms []movement) movement {
	var top movement
	for _, m := range ms {
		top = movement{primary: max(top.primary, m.primary), list: max(top.list, m.list), copies: max(top.copies, m.copies)}
	}
	return top
}

// idealJoin is the least a join from count to count+1 nodes can move: the
// new node's fair share and nothing else.
func idealJoin(count, n int) movement {
	after := float64(count + 1)
	return movement{primary: 1 / after, list: float64(min(n, count+1)) / after, copies: 1 / after}
}

// idealLeave is the least a leave from count to count-1 nodes can move: the
// leaving node's share, whose copies need a new home only if enough nodes
// remain to hold n copies.
func idealLeave(count, n int) movement {
	m := movement{primary: 1 / float64(count), list: float64(min(n, count)) / float64(count)}
	if count-1 >= n {
		m.copies = 1 / float64(count)
	}
	return m
}

// ringReport is one line of the balance report.
type ringReport struct {
	count, vnodes int
	balance       balance
	joins, leaves []movement // one per join or leave, reportMoveRuns each
}

// reportRing measures a ring of count nodes "node-0"... with vnodes tokens:
// its balance, and the movement of joining "node-<count>"... one at a time
// and of removing "node-0"... one at a time.
func reportRing(count, vnodes int, keysPerSlot []int) ringReport {
	nodes := nodeIDs(0, count)
	base := NewRing(nodes, vnodes, reportN)
	rep := ringReport{count: count, vnodes: vnodes, balance: balanceOf(base, keysPerSlot)}
	for i := range reportMoveRuns {
		joined := NewRing(append(slices.Clip(nodes), fmt.Sprintf("node-%d", count+i)), vnodes, reportN)
		rep.joins = append(rep.joins, movementOf(base, joined, keysPerSlot))
		left := NewRing(without(nodes, nodes[i%count]), vnodes, reportN)
		rep.leaves = append(rep.leaves, movementOf(base, left, keysPerSlot))
	}
	return rep
}

// keysPerSlot returns how many of the keys "key:0" ... "key:<count-1>"
// fall in each hash slot.
func keysPerSlot(count int) []int {
	perSlot := make([]int, store.SlotCount)
	var buf []byte
	for i := range count {
		buf = strconv.AppendInt(append(buf[:0], "key:"...), int64(i), 10)
		perSlot[store.KeySlot(buf)]++
	}
	return perSlot
}

// TestRingBalanceReport measures placement quality and asserts loose
// bounds; with -v it logs the tables kept in docs/ring-balance.md.
func TestRingBalanceReport(t *testing.T) {
	perSlot := keysPerSlot(reportKeys)
	configs := []struct{ count, vnodes int }{
		{3, 128}, {10, 128}, {100, 128}, {10, 16}, {10, 64}, {10, 256},
	}
	var reports []ringReport
	for _, c := range configs {
		rep := reportRing(c.count, c.vnodes, perSlot)
		reports = append(reports, rep)
		name := fmt.Sprintf("%d nodes V=%d", c.count, c.vnodes)
		if c.vnodes >= DefaultVNodes {
			b := rep.balance
			if b.primarySlots.max >= 1.5 || b.primarySlots.min <= 0.5 {
				t.Errorf("%s: primary slots max/mean, min/mean = %v, want < 1.5, > 0.5", name, b.primarySlots)
			}
			if b.replicaSlots.max >= 1.5 || b.replicaSlots.min <= 0.5 {
				t.Errorf("%s: replica slots max/mean, min/mean = %v, want < 1.5, > 0.5", name, b.replicaSlots)
			}
		}
		for i, m := range rep.joins {
			checkMovement(t, fmt.Sprintf("%s join %d", name, i), m, idealJoin(c.count, reportN))
		}
		for i, m := range rep.leaves {
			checkMovement(t, fmt.Sprintf("%s leave %d", name, i), m, idealLeave(c.count, reportN))
		}
	}
	if testing.Verbose() {
		t.Log("\n" + formatReport(reports))
	}
}

// checkMovement fails if m moves more than twice the ideal of any measure.
func checkMovement(t *testing.T, name string, m, ideal movement) {
	t.Helper()
	if m.primary > 2*ideal.primary || m.list > 2*ideal.list || m.copies > 2*ideal.copies {
		t.Errorf("%s: moved %+v, more than twice the ideal %+v", name, m, ideal)
	}
}

func formatReport(reports []ringReport) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Balance, N=%d, %d keys: max/mean / min/mean per node\n\n", reportN, reportKeys)
	sb.WriteString("| nodes | V | primary slots | replica slots | keys (primary) | keys (all replicas) |\n")
	sb.WriteString("|---:|---:|---|---|---|---|\n")
	for _, r := range reports {
		b := r.balance
		fmt.Fprintf(&sb, "| %d | %d | %v | %v | %v | %v |\n",
			r.count, r.vnodes, b.primarySlots, b.replicaSlots, b.primaryKeys, b.replicaKeys)
	}
	fmt.Fprintf(&sb, "\nMovement over %d joins and %d leaves: mean, max (ideal)\n\n", reportMoveRuns, reportMoveRuns)
	sb.WriteString("| nodes | V | change | primary changed | list changed | copies moved |\n")
	sb.WriteString("|---:|---:|---|---|---|---|\n")
	for _, r := range reports {
		for _, ch := range []struct {
			name  string
			runs  []movement
			ideal movement
		}{
			{fmt.Sprintf("join %d→%d", r.count, r.count+1), r.joins, idealJoin(r.count, reportN)},
			{fmt.Sprintf("leave %d→%d", r.count, r.count-1), r.leaves, idealLeave(r.count, reportN)},
		} {
			avg, top := meanMovement(ch.runs), maxMovement(ch.runs)
			fmt.Fprintf(&sb, "| %d | %d | %s | %.3f, %.3f (%.3f) | %.3f, %.3f (%.3f) | %.3f, %.3f (%.3f) |\n",
				r.count, r.vnodes, ch.name, avg.primary, top.primary, ch.ideal.primary,
				avg.list, top.list, ch.ideal.list, avg.copies, top.copies, ch.ideal.copies)
		}
	}
	return sb.String()
}
