package commands

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"cairn/cluster"
	"cairn/store"
)

// Fault tests of an in-process cluster (3 nodes, N=3, W=2, R=2) driven by
// go-redis clients that never retry on their own: quorums with nodes down,
// read repair, hinted handoff, anti-entropy, the fencing of a deposed
// primary, membership changes under load, and commands spanning slots.

// faultClient returns a RESP2 client for addr that never retries, so every
// reply a test sees is the server's, and that sets each new connection's
// CONSISTENCY level ("" keeps DEFAULT).
func faultClient(t testing.TB, addr, level string) *redis.Client {
	t.Helper()
	o := &redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1,
		DialTimeout: 2 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 5 * time.Second}
	if level != "" {
		o.OnConnect = func(c context.Context, cn *redis.Conn) error { return cn.Do(c, "CONSISTENCY", level).Err() }
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// faultKind classifies a command's outcome: "" for success (redis.Nil
// included), the first word of a server error (TRYAGAIN, NOREPLICAS,
// UNCERTAIN, ...), or "conn" for a transport error.
func faultKind(err error) string {
	if err == nil || errors.Is(err, redis.Nil) {
		return ""
	}
	var re redis.Error
	if errors.As(err, &re) {
		word, _, _ := strings.Cut(re.Error(), " ")
		return word
	}
	return "conn"
}

// faultRetryable reports whether a reply kind means that nothing was applied
// and the command may be retried.
func faultRetryable(kind string) bool {
	return kind == "TRYAGAIN" || kind == "CLUSTERDOWN" || kind == "NOREPLICAS"
}

// faultExpect fails the test unless err is a reply of kind want.
func faultExpect(t testing.TB, err error, want, what string) {
	t.Helper()
	if got := faultKind(err); got != want {
		t.Fatalf("%s: got %v, want a %s reply", what, err, want)
	}
}

// faultInfo reads one integer field of INFO cluster through c.
func faultInfo(t testing.TB, c *redis.Client, field string) int64 {
	t.Helper()
	s, err := c.Info(ctx, "cluster").Result()
	if err != nil {
		t.Fatalf("INFO cluster: %v", err)
	}
	for _, line := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("INFO cluster %s: %q", field, v)
			}
			return n
		}
	}
	t.Fatalf("INFO cluster has no %s:\n%s", field, s)
	return 0
}

// faultInfoSum sums an INFO cluster field over clients.
func faultInfoSum(t testing.TB, cs []*redis.Client, field string) int64 {
	t.Helper()
	var n int64
	for _, c := range cs {
		n += faultInfo(t, c, field)
	}
	return n
}

// faultKeys returns n keys "prefix:i" whose slots satisfy keep.
func faultKeys(prefix string, n int, keep func(slot uint16) bool) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		k := prefix + ":" + strconv.Itoa(i)
		if keep(cluster.KeySlot([]byte(k))) {
			out = append(out, k)
		}
	}
	return out
}

// faultGet GETs key through c, retrying retryable errors for a while.
func faultGet(c *redis.Client, key string) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := c.Get(ctx, key).Result()
		if !faultRetryable(faultKind(err)) || time.Now().After(deadline) {
			return v, err
		}
		time.Sleep(20 * time.Millisecond) // retry backoff
	}
}

// faultCheck GETs every key of want through c and compares.
func faultCheck(t testing.TB, c *redis.Client, want map[string]string, what string) {
	t.Helper()
	for k, v := range want {
		if got, err := faultGet(c, k); err != nil || got != v {
			t.Fatalf("%s: GET %s = %q, %v; want %q", what, k, got, err, v)
		}
	}
}

// faultClients returns one client per node of tc at level.
func faultClients(t testing.TB, tc *testCluster, level string) []*redis.Client {
	out := make([]*redis.Client, len(tc.Nodes))
	for i, n := range tc.Nodes {
		out[i] = faultClient(t, n.Addr(), level)
	}
	return out
}

// faultSlots lists every hash slot.
func faultSlots() []uint16 {
	out := make([]uint16, store.SlotCount)
	for i := range out {
		out[i] = uint16(i)
	}
	return out
}

// TestClusterFault_Quorum: with one node of three down, writes through
// every live node succeed and QUORUM reads see them, while ALL is refused;
// with two down, a default write is refused with NOREPLICAS and leaves no
// trace anywhere, and writes at ONE still work on the slots the survivor
// held.
func TestClusterFault_Quorum(t *testing.T) {
	tc := startCluster(t, 3)
	id := []string{tc.ID(0), tc.ID(1), tc.ID(2)}

	tc.stop(2)
	tc.waitReady()
	def := []*redis.Client{faultClient(t, tc.Nodes[0].Addr(), ""), faultClient(t, tc.Nodes[1].Addr(), "")}
	values := map[string]string{}
	for i, c := range def {
		for k := range 30 {
			key := fmt.Sprintf("q:%d:%d", i, k)
			values[key] = fmt.Sprintf("v%d-%d", i, k)
			if err := c.Set(ctx, key, values[key], 0).Err(); err != nil {
				t.Fatalf("node %d SET %s with one node down: %v", i, key, err)
			}
		}
	}
	var incrs int64
	for round := range 3 {
		for i, c := range def {
			incrs++
			if n, err := c.Incr(ctx, "q:counter").Result(); err != nil || n != incrs {
				t.Fatalf("node %d INCR = %d, %v; want %d", i, n, err, incrs)
			}
			if s, err := c.ZIncrBy(ctx, "q:board", 1.5, fmt.Sprintf("m%d", i)).Result(); err != nil || s != 1.5*float64(round+1) {
				t.Fatalf("node %d ZINCRBY = %v, %v; want %v", i, s, err, 1.5*float64(round+1))
			}
		}
	}
	for i := range 2 {
		q := faultClient(t, tc.Nodes[i].Addr(), "QUORUM")
		faultCheck(t, q, values, fmt.Sprintf("QUORUM read through node %d", i))
		if n, err := q.Get(ctx, "q:counter").Int64(); err != nil || n != incrs {
			t.Fatalf("QUORUM GET counter through node %d = %d, %v; want %d", i, n, err, incrs)
		}
		for m := range 2 {
			if s, err := q.ZScore(ctx, "q:board", fmt.Sprintf("m%d", m)).Result(); err != nil || s != 4.5 {
				t.Fatalf("QUORUM ZSCORE m%d through node %d = %v, %v; want 4.5", m, i, s, err)
			}
		}
	}
	refused := []string{"q:all"}
	for i := range 2 {
		all := faultClient(t, tc.Nodes[i].Addr(), "ALL")
		faultExpect(t, all.Set(ctx, "q:all", "x", 0).Err(), "NOREPLICAS", "SET at ALL with one node down")
		faultExpect(t, all.Incr(ctx, "q:counter").Err(), "NOREPLICAS", "INCR at ALL with one node down")
		faultExpect(t, all.Get(ctx, "q:0:0").Err(), "NOREPLICAS", "GET at ALL with one node down")
	}

	// Node 0 holds every slot it is primary of now (waitReady): those are
	// the slots it can still serve alone.
	v := tc.Nodes[0].Cluster.View()
	held := func(slot uint16) bool { p, _ := v.Primary(slot); return p == id[0] }
	tc.stop(1)
	waitFor(t, 10*time.Second, "node 0 to see node 1 dead", func() bool {
		return !tc.Nodes[0].Cluster.View().Alive[id[1]]
	})
	for _, k := range faultKeys("q:refused", 40, func(uint16) bool { return true }) {
		faultExpect(t, def[0].Set(ctx, k, "x", 0).Err(), "NOREPLICAS", "SET "+k+" with two of three nodes down")
		refused = append(refused, k)
	}
	faultExpect(t, def[0].Incr(ctx, "q:counter").Err(), "NOREPLICAS", "INCR with two of three nodes down")
	one := faultClient(t, tc.Nodes[0].Addr(), "ONE")
	oneValues := map[string]string{}
	for _, k := range faultKeys("q:one", 20, held) {
		oneValues[k] = "one-" + k
		if err := one.Set(ctx, k, oneValues[k], 0).Err(); err != nil {
			t.Fatalf("SET %s at ONE with two nodes down: %v", k, err)
		}
	}
	faultCheck(t, one, oneValues, "ONE read with two nodes down")
	// The slots node 0 did not hold need a majority to get a primary: ONE
	// writes to them are refused, retryably, and apply nothing.
	for _, k := range faultKeys("q:unheld", 10, func(s uint16) bool { return !held(s) }) {
		if err := one.Set(ctx, k, "x", 0).Err(); !faultRetryable(faultKind(err)) {
			t.Fatalf("SET %s at ONE on a slot without a primary: %v; want a retryable error", k, err)
		}
		refused = append(refused, k)
	}
	for _, k := range refused {
		if st := tc.Nodes[0].Store.KeyState(0, []byte(k)); !st.Version.IsZero() {
			t.Fatalf("refused write of %s left %+v on node 0", k, st)
		}
	}

	tc.restart(1)
	tc.restart(2)
	tc.waitReady()
	maps.Copy(values, oneValues)
	for i := range 3 {
		all := faultClient(t, tc.Nodes[i].Addr(), "ALL")
		faultCheck(t, all, values, fmt.Sprintf("ALL read through node %d after restarts", i))
		if n, err := all.Get(ctx, "q:counter").Int64(); err != nil || n != incrs {
			t.Fatalf("counter through node %d = %d, %v; want %d", i, n, err, incrs)
		}
		for _, k := range refused {
			if n, err := all.Exists(ctx, k).Result(); err != nil || n != 0 {
				t.Fatalf("EXISTS %s (refused) through node %d = %d, %v", k, i, n, err)
			}
		}
	}
	for i, n := range tc.Nodes {
		for _, k := range refused {
			if st := n.Store.KeyState(0, []byte(k)); !st.Version.IsZero() {
				t.Fatalf("refused write of %s is on node %d: %+v", k, i, st)
			}
		}
	}
}

// TestClusterFault_ReadRepair: a replica made stale behind the cluster's
// back (a local tombstone of ballot 0, older than any primary's version) is
// repaired by a read at ALL before the reply, whether it is the slot's
// primary or another replica, and whichever node the read goes through.
func TestClusterFault_ReadRepair(t *testing.T) {
	// No anti-entropy: only the read may repair.
	tc := startCluster(t, 3, "cluster-anti-entropy-interval", "600000")
	def := faultClients(t, tc, "")
	all := faultClients(t, tc, "ALL")
	v := tc.Nodes[0].Cluster.View()
	index := map[string]int{}
	for i := range tc.Nodes {
		index[tc.ID(i)] = i
	}
	primaryOf := func(k string) int {
		p, _ := v.Primary(cluster.KeySlot([]byte(k)))
		return index[p]
	}
	cases := []struct {
		name           string
		primary, stale int // the key's slot primary; the node made stale
		via            int // the node the read goes through
	}{
		{"stale primary, read via a replica", 0, 0, 1},
		{"stale primary, read via itself", 1, 1, 1},
		{"stale replica, read via the primary", 2, 0, 2},
		{"stale replica, read via the other replica", 0, 1, 2},
	}
	for ci, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			key := faultKeys(fmt.Sprintf("rr%d", ci), 1, func(s uint16) bool {
				p, _ := v.Primary(s)
				return index[p] == tt.primary
			})[0]
			val := "value-" + key
			if err := def[tt.via].Set(ctx, key, val, 0).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
			if primaryOf(key) != tt.primary {
				t.Fatalf("key %s has primary %d", key, primaryOf(key))
			}
			want := tc.Nodes[tt.primary].Store.KeyState(0, []byte(key))
			waitFor(t, 5*time.Second, "every replica to hold the write", func() bool {
				for _, n := range tc.Nodes {
					if n.Store.KeyState(0, []byte(key)).Version != want.Version {
						return false
					}
				}
				return true
			})
			x := tc.Nodes[tt.stale].Store
			if _, err := x.Update(0, func(tx *store.Tx) { tx.Delete([]byte(key)) }); err != nil {
				t.Fatal(err)
			}
			if st := x.KeyState(0, []byte(key)); !st.Deleted || !st.Version.Less(want.Version) {
				t.Fatalf("local delete left %+v; want a tombstone older than %+v", st, want.Version)
			}
			before := faultInfoSum(t, def, "cluster_read_repairs")
			if got, err := all[tt.via].Get(ctx, key).Result(); err != nil || got != val {
				t.Fatalf("GET at ALL = %q, %v; want %q", got, err, val)
			}
			if st := x.KeyState(0, []byte(key)); st.Deleted || string(st.Str) != val || st.Version != want.Version {
				t.Fatalf("after the read, node %d holds %+v; want %q at %+v", tt.stale, st, val, want.Version)
			}
			if after := faultInfoSum(t, def, "cluster_read_repairs"); after <= before {
				t.Fatalf("cluster_read_repairs %d -> %d; want it to grow", before, after)
			}
		})
	}
}

// TestClusterFault_HintedHandoff: writes made while a node is down leave
// hints on their primaries, replayed once it is back, after which it holds
// every key at its primary's version.
func TestClusterFault_HintedHandoff(t *testing.T) {
	tc := startCluster(t, 3)
	const x = 2
	idX := tc.ID(x)
	tc.stop(x)
	tc.waitReady()
	live := []*redis.Client{faultClient(t, tc.Nodes[0].Addr(), ""), faultClient(t, tc.Nodes[1].Addr(), "")}
	values := map[string]string{}
	for i := range 200 {
		key := fmt.Sprintf("hh:%d", i)
		values[key] = strconv.Itoa(i * 7)
		if err := live[i%2].Set(ctx, key, values[key], 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
	}
	// Each key was missed by x once, and only its primary hints it.
	hints := 0
	for _, n := range tc.Nodes[:2] {
		hints += n.Cluster.Stats().HintBacklog[idX]
	}
	if hints != len(values) {
		t.Fatalf("hints for the stopped node: %d; want %d", hints, len(values))
	}
	if n := faultInfoSum(t, live, "cluster_hint_backlog"); n <= 0 {
		t.Fatalf("cluster_hint_backlog = %d with a node down", n)
	}
	replayed := faultInfoSum(t, live, "cluster_hints_replayed")

	tc.restart(x)
	tc.waitReady()
	all := faultClients(t, tc, "")
	waitFor(t, 15*time.Second, "every hint backlog to drain", func() bool {
		return faultInfoSum(t, all, "cluster_hint_backlog") == 0
	})
	if n := faultInfoSum(t, all[:2], "cluster_hints_replayed") - replayed; n < int64(len(values)) {
		t.Fatalf("cluster_hints_replayed grew by %d; want at least %d", n, len(values))
	}
	v := tc.Nodes[x].Cluster.View()
	for k, val := range values {
		p, _ := v.Primary(cluster.KeySlot([]byte(k)))
		var want store.State
		for i := range tc.Nodes {
			if tc.ID(i) == p {
				want = tc.Nodes[i].Store.KeyState(0, []byte(k))
			}
		}
		got := tc.Nodes[x].Store.KeyState(0, []byte(k))
		if string(want.Str) != val || got.Version != want.Version || string(got.Str) != val {
			t.Fatalf("%s: restarted node holds %q at %+v, primary %q at %+v; want %q", k, got.Str, got.Version, want.Str, want.Version, val)
		}
	}
}

// TestClusterFault_AntiEntropy: a node cut off from peer RPC (but alive in
// gossip) misses writes; with every hint dropped, anti-entropy alone makes
// all three stores equal once the link heals.
func TestClusterFault_AntiEntropy(t *testing.T) {
	tc := startCluster(t, 3)
	const x = 2
	idX := tc.ID(x)
	for _, o := range []int{0, 1} {
		tc.Faults.Set(idX, tc.ID(o), cluster.Fault{Drop: true, RPCOnly: true})
		tc.Faults.Set(tc.ID(o), idX, cluster.Fault{Drop: true, RPCOnly: true})
	}
	// Slots whose primary is x cannot be written through the others now.
	v := tc.Nodes[0].Cluster.View()
	keys := faultKeys("ae", 150, func(s uint16) bool { p, _ := v.Primary(s); return p != idX })
	live := []*redis.Client{faultClient(t, tc.Nodes[0].Addr(), ""), faultClient(t, tc.Nodes[1].Addr(), "")}
	for i, k := range keys {
		if err := live[i%2].Set(ctx, k, "ae-"+k, 0).Err(); err != nil {
			t.Fatalf("SET %s with node %d cut off: %v", k, x, err)
		}
	}
	hintsForX := func() int {
		n := 0
		for _, nd := range tc.Nodes {
			n += nd.Cluster.Stats().HintBacklog[idX]
		}
		return n
	}
	waitFor(t, 5*time.Second, "a hint for every key the cut-off node missed", func() bool { return hintsForX() == len(keys) })
	for _, nd := range tc.Nodes {
		for _, node := range nd.Store.HintedNodes() {
			if err := nd.Store.DropHints(node, nd.Store.Hints(node, 1<<30)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := hintsForX(); n != 0 {
		t.Fatalf("%d hints left after dropping them all", n)
	}
	for _, k := range keys {
		if st := tc.Nodes[x].Store.KeyState(0, []byte(k)); !st.Version.IsZero() {
			t.Fatalf("the cut-off node received %s: %+v", k, st)
		}
	}

	tc.Faults.Heal()
	slots := faultSlots()
	waitFor(t, 20*time.Second, "every slot digest to agree on all nodes", func() bool {
		d0 := tc.Nodes[0].Store.SlotDigests(slots)
		return slices.Equal(d0, tc.Nodes[1].Store.SlotDigests(slots)) && slices.Equal(d0, tc.Nodes[x].Store.SlotDigests(slots))
	})
	for _, k := range keys {
		if st := tc.Nodes[x].Store.KeyState(0, []byte(k)); string(st.Str) != "ae-"+k {
			t.Fatalf("after anti-entropy the cut-off node holds %s = %+v", k, st)
		}
	}
	all := faultClients(t, tc, "")
	if n := faultInfoSum(t, all, "cluster_slots_differed"); n <= 0 {
		t.Fatalf("cluster_slots_differed = %d", n)
	}
	if n := faultInfoSum(t, all, "cluster_keys_repaired"); n <= 0 {
		t.Fatalf("cluster_keys_repaired = %d", n)
	}
}

// faultIncrs records the outcomes of INCRs of one counter.
type faultIncrs struct {
	ok        []int64 // values returned by successful INCRs
	uncertain int     // UNCERTAIN or transport errors: outcome unknown
	refused   int     // retryable errors: not applied
	other     []string
}

func (l *faultIncrs) record(n int64, err error) {
	switch k := faultKind(err); {
	case k == "":
		l.ok = append(l.ok, n)
	case faultRetryable(k):
		l.refused++
	case k == "UNCERTAIN" || k == "conn":
		l.uncertain++
	default:
		l.other = append(l.other, err.Error())
	}
}

// TestClusterFault_PausedPrimaryFenced: a slot primary whose view is
// frozen and whose gossip is cut keeps believing it is primary while the
// others elect a new one. Its writes must never succeed (the replicas
// fence its old ballot), and after healing the counter holds exactly the
// acknowledged increments plus at most the uncertain ones.
func TestClusterFault_PausedPrimaryFenced(t *testing.T) {
	tc := startCluster(t, 3)
	const counter, probe = "{fence}counter", "{fence}probe"
	slot := cluster.KeySlot([]byte(counter))
	pid, _ := tc.Nodes[0].Cluster.View().Primary(slot)
	a := slices.IndexFunc(tc.Nodes, func(n *Node) bool { return n.Cluster.Self() == pid })
	b, c := (a+1)%3, (a+2)%3
	idA := tc.ID(a)
	tc.Faults.FreezeView(idA, true)
	for _, o := range []int{b, c} {
		tc.Faults.Set(idA, tc.ID(o), cluster.Fault{Drop: true, GossipOnly: true})
		tc.Faults.Set(tc.ID(o), idA, cluster.Fault{Drop: true, GossipOnly: true})
	}
	clientA := faultClient(t, tc.Nodes[a].Addr(), "")
	clientB := faultClient(t, tc.Nodes[b].Addr(), "")
	waitFor(t, 15*time.Second, "the others to see the old primary dead and elect a new one", func() bool {
		for _, o := range []int{b, c} {
			if tc.Nodes[o].Cluster.View().Alive[idA] {
				return false
			}
		}
		return clientB.Set(ctx, probe, "x", 0).Err() == nil
	})
	if p, _ := tc.Nodes[a].Cluster.View().Primary(slot); p != idA {
		t.Fatalf("the frozen node's view moved: primary %s", p)
	}

	var logA, logB faultIncrs
	var wg sync.WaitGroup
	stop := time.Now().Add(1500 * time.Millisecond)
	loop := func(c *redis.Client, l *faultIncrs) {
		defer wg.Done()
		for time.Now().Before(stop) {
			n, err := c.Incr(ctx, counter).Result()
			l.record(n, err)
			time.Sleep(5 * time.Millisecond) // pacing, not a wait
		}
	}
	wg.Add(2)
	go loop(clientA, &logA)
	go loop(clientB, &logB)
	wg.Wait()
	t.Logf("through the old primary: %d ok, %d uncertain, %d refused; through the new one: %d ok, %d uncertain, %d refused",
		len(logA.ok), logA.uncertain, logA.refused, len(logB.ok), logB.uncertain, logB.refused)

	tc.Faults.Heal()
	tc.waitReady()
	if len(logA.other)+len(logB.other) > 0 {
		t.Errorf("unexpected errors: %q %q", logA.other, logB.other)
	}
	if len(logA.ok) > 0 {
		t.Errorf("the deposed primary acknowledged %d INCRs (values %v)", len(logA.ok), logA.ok)
	}
	if len(logB.ok) == 0 {
		t.Errorf("no INCR succeeded through the new primary's side")
	}
	ok := append(slices.Clone(logA.ok), logB.ok...)
	slices.Sort(ok)
	if len(slices.Compact(slices.Clone(ok))) != len(ok) {
		t.Errorf("successful INCRs returned duplicate values: %v", ok)
	}
	uncertain := logA.uncertain + logB.uncertain
	for i, cl := range faultClients(t, tc, "ALL") {
		v, err := faultGet(cl, counter)
		n, _ := strconv.ParseInt(v, 10, 64)
		if err != nil || n < int64(len(ok)) || n > int64(len(ok)+uncertain) {
			t.Fatalf("counter through node %d = %d, %v; want between %d acknowledged and %d (+uncertain)", i, n, err, len(ok), len(ok)+uncertain)
		}
	}
}

// faultLoad runs workers that SET unique keys and INCR a few counters
// through a changing set of nodes, retrying retryable errors, and records
// every acknowledged result.
type faultLoad struct {
	targets atomic.Pointer[[]*redis.Client]
	stop    chan struct{}
	wg      sync.WaitGroup
	done    []atomic.Int64 // operations finished, per worker
	phase   atomic.Int32   // the test's current phase, for the report

	mu          sync.Mutex
	acked       map[string]string // SET key -> value
	incrAcked   map[string]int64  // counter -> acknowledged INCRs
	incrUnknown map[string]int64  // counter -> INCRs of unknown outcome
	uncertain   map[int32]int     // UNCERTAIN replies per phase
	retries     map[int32]int     // retryable errors per phase
	errs        []string          // errors that are neither retryable nor UNCERTAIN, and give-ups
}

const faultCounters = 8

func startFaultLoad(workers int, targets []*redis.Client) *faultLoad {
	l := &faultLoad{stop: make(chan struct{}), done: make([]atomic.Int64, workers),
		acked: map[string]string{}, incrAcked: map[string]int64{}, incrUnknown: map[string]int64{},
		uncertain: map[int32]int{}, retries: map[int32]int{}}
	l.setTargets(targets)
	for g := range workers {
		l.wg.Add(1)
		go l.worker(g)
	}
	return l
}

func (l *faultLoad) setTargets(cs []*redis.Client) { l.targets.Store(&cs) }

func (l *faultLoad) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// drain waits until every worker has finished the operation it was running.
func (l *faultLoad) drain(t testing.TB) {
	marks := make([]int64, len(l.done))
	for g := range l.done {
		marks[g] = l.done[g].Load()
	}
	waitFor(t, 15*time.Second, "the workers to finish their current operations", func() bool {
		for g := range l.done {
			if l.done[g].Load() <= marks[g] {
				return false
			}
		}
		return true
	})
}

func (l *faultLoad) halt() {
	close(l.stop)
	l.wg.Wait()
}

func (l *faultLoad) worker(g int) {
	defer l.wg.Done()
	for i := 0; ; i++ {
		select {
		case <-l.stop:
			return
		default:
		}
		if i%2 == 0 {
			key, val := fmt.Sprintf("load:%d:%d", g, i), fmt.Sprintf("%d-%d", g, i)
			if l.do(g+i, func(c *redis.Client) error { return c.Set(ctx, key, val, 0).Err() }) {
				l.mu.Lock()
				l.acked[key] = val
				l.mu.Unlock()
			}
		} else {
			ctr := fmt.Sprintf("load:ctr:%d", (i/2)%faultCounters)
			ok := l.do(g+i, func(c *redis.Client) error { return c.Incr(ctx, ctr).Err() })
			l.mu.Lock()
			if ok {
				l.incrAcked[ctr]++
			} else {
				l.incrUnknown[ctr]++ // refused ones count too: the bound stays an upper bound
			}
			l.mu.Unlock()
		}
		l.done[g].Add(1)
	}
}

// do runs op through the targets, starting at pick, until it succeeds or
// fails with an error that is not retryable; it reports success.
func (l *faultLoad) do(pick int, op func(*redis.Client) error) bool {
	deadline := time.Now().Add(10 * time.Second)
	for attempt := 0; ; attempt++ {
		ts := *l.targets.Load()
		err := op(ts[(pick+attempt)%len(ts)])
		k := faultKind(err)
		switch {
		case k == "":
			return true
		case faultRetryable(k) && time.Now().Before(deadline):
			l.mu.Lock()
			l.retries[l.phase.Load()]++
			l.mu.Unlock()
			time.Sleep(time.Duration(min(attempt+1, 10)) * 10 * time.Millisecond) // backoff
			continue
		}
		l.mu.Lock()
		if k == "UNCERTAIN" {
			l.uncertain[l.phase.Load()]++
		} else {
			l.errs = append(l.errs, err.Error())
		}
		l.mu.Unlock()
		return false
	}
}

// TestClusterFault_JoinRemoveUnderLoad: a node joins, and another is
// stopped and forgotten, while clients write through every node; no write
// is lost or left uncertain, and retryable refusals are the only errors.
func TestClusterFault_JoinRemoveUnderLoad(t *testing.T) {
	tc := startCluster(t, 3)
	cs := faultClients(t, tc, "")
	l := startFaultLoad(4, cs)
	defer func() {
		select {
		case <-l.stop:
		default:
			l.halt()
		}
	}()
	progress := func(n int, what string) {
		t.Helper()
		base := l.ackedCount()
		waitFor(t, 15*time.Second, what, func() bool { return l.ackedCount() >= base+n })
	}
	phases := []string{"before the join", "joining", "after the join", "removing", "after the removal"}
	progress(50, "load before the join")

	l.phase.Store(1)
	tc.grow(1)
	cs = append(cs, faultClient(t, tc.Nodes[3].Addr(), ""))
	l.setTargets(cs)
	l.phase.Store(2)
	progress(50, "load after the join")

	// Node 0 leaves as docs/cluster.md says to remove a node: clients stop
	// using it, it shuts down (its slots fail over: retryable refusals),
	// and then node 1 forgets it.
	l.setTargets(cs[1:])
	l.drain(t)
	l.phase.Store(3)
	id0 := tc.ID(0)
	tc.stop(0)
	tc.waitReady()
	if err := cs[1].Do(ctx, "CLUSTER", "FORGET", id0).Err(); err != nil {
		t.Fatalf("CLUSTER FORGET: %v", err)
	}
	waitFor(t, 10*time.Second, "every other node to drop the forgotten node from its ring", func() bool {
		for _, n := range tc.Nodes[1:] {
			if _, ok := n.Cluster.View().Members[id0]; ok {
				return false
			}
		}
		return true
	})
	tc.waitReady()
	l.phase.Store(4)
	progress(100, "load after the removal")
	l.halt()

	t.Logf("acknowledged: %d SETs, INCRs %v", len(l.acked), l.incrAcked)
	for i, name := range phases {
		t.Logf("%s: %d retryable errors, %d UNCERTAIN", name, l.retries[int32(i)], l.uncertain[int32(i)])
		if l.uncertain[int32(i)] != 0 {
			t.Errorf("%d UNCERTAIN replies %s", l.uncertain[int32(i)], name)
		}
	}
	if len(l.errs) != 0 {
		t.Errorf("%d errors neither retryable nor UNCERTAIN (first: %q)", len(l.errs), l.errs[:min(len(l.errs), 5)])
	}
	q := faultClient(t, tc.Nodes[1].Addr(), "QUORUM")
	faultCheck(t, q, l.acked, "acknowledged SET after join and removal")
	for i := range faultCounters {
		ctr := fmt.Sprintf("load:ctr:%d", i)
		v, err := faultGet(q, ctr)
		n, _ := strconv.ParseInt(v, 10, 64) // a missing counter is 0
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		if err != nil || n < l.incrAcked[ctr] || n > l.incrAcked[ctr]+l.incrUnknown[ctr] {
			t.Errorf("%s = %d, %v; want %d acknowledged INCRs (+ at most %d unacknowledged)", ctr, n, err, l.incrAcked[ctr], l.incrUnknown[ctr])
		}
	}
}

// TestClusterFault_CrossSlot: commands over keys of many slots through one
// node: split-and-merge for MGET/MSET/DEL/EXISTS, CROSSSLOT for the rest,
// single-slot transactions run at their primary, and the keyspace-wide
// commands count each key once.
func TestClusterFault_CrossSlot(t *testing.T) {
	tc := startCluster(t, 3)
	c := faultClient(t, tc.Nodes[0].Addr(), "")
	values := map[string]string{}
	var pairs []any
	var keys []string
	for i := range 60 {
		k := fmt.Sprintf("xs:%d", i)
		values[k] = "v" + strconv.Itoa(i)
		keys = append(keys, k)
		pairs = append(pairs, k, values[k])
	}
	slotsUsed := map[uint16]bool{}
	for _, k := range keys {
		slotsUsed[cluster.KeySlot([]byte(k))] = true
	}
	if len(slotsUsed) < 50 {
		t.Fatalf("the keys use only %d slots", len(slotsUsed))
	}
	if err := c.MSet(ctx, pairs...).Err(); err != nil {
		t.Fatalf("MSET over %d slots: %v", len(slotsUsed), err)
	}
	ask := append([]string{"xs:missing-1"}, keys...)
	ask = append(ask, "xs:missing-2", keys[3])
	got, err := c.MGet(ctx, ask...).Result()
	if err != nil || len(got) != len(ask) {
		t.Fatalf("MGET = %d values, %v", len(got), err)
	}
	for i, k := range ask {
		want, ok := values[k]
		if ok && got[i] != want || !ok && got[i] != nil {
			t.Fatalf("MGET[%d] (%s) = %v; want %q (present %v)", i, k, got[i], want, ok)
		}
	}
	if n, err := c.Exists(ctx, append(ask, keys[0])...).Result(); err != nil || n != int64(len(keys)+2) {
		t.Fatalf("EXISTS = %d, %v; want %d", n, err, len(keys)+2)
	}
	if n, err := c.Del(ctx, "xs:0", "xs:1", "xs:2", "xs:missing-1").Result(); err != nil || n != 3 {
		t.Fatalf("DEL = %d, %v; want 3", n, err)
	}
	for _, k := range []string{"xs:0", "xs:1", "xs:2"} {
		delete(values, k)
	}
	keys = keys[3:]
	if got, err := c.MGet(ctx, "xs:0", "xs:3").Result(); err != nil || got[0] != nil || got[1] != values["xs:3"] {
		t.Fatalf("MGET after DEL = %v, %v", got, err)
	}

	for _, k := range []string{"xs:z1", "xs:z2"} {
		if err := c.ZAdd(ctx, k, redis.Z{Score: 1, Member: "a"}).Err(); err != nil {
			t.Fatal(err)
		}
		values[k] = ""
	}
	if cluster.KeySlot([]byte("xs:z1")) == cluster.KeySlot([]byte("xs:z2")) {
		t.Fatal("the sorted sets share a slot")
	}
	if n, err := c.ZUnionStore(ctx, "xs:z1", &redis.ZStore{Keys: []string{"xs:z1", "xs:z2"}}).Result(); err != nil || n != 1 {
		t.Fatalf("ZUNIONSTORE over two slots = %d, %v; want 1", n, err)
	}
	if got, err := c.ZScore(ctx, "xs:z1", "a").Result(); err != nil || got != 2 {
		t.Fatalf("ZSCORE after ZUNIONSTORE over two slots = %v, %v; want 2", got, err)
	}
	faultExpect(t, c.ZRangeStore(ctx, "xs:z2", redis.ZRangeArgs{Key: "xs:z1", Start: 0, Stop: -1}).Err(), "CROSSSLOT", "ZRANGESTORE over two slots")

	// A transaction within one slot, through a node that is not its primary.
	v := tc.Nodes[0].Cluster.View()
	tag := faultKeys("tag", 1, func(s uint16) bool { p, _ := v.Primary(s); return p != tc.ID(0) })[0]
	ka, kb := "{"+tag+"}a", "{"+tag+"}b"
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, ka, "1", 0)
		p.Incr(ctx, kb)
		p.IncrBy(ctx, kb, 10)
		p.Get(ctx, ka)
		return nil
	})
	if err != nil || len(cmds) != 4 || cmds[2].(*redis.IntCmd).Val() != 11 || cmds[3].(*redis.StringCmd).Val() != "1" {
		t.Fatalf("MULTI/EXEC in one slot = %v, %v", cmds, err)
	}
	values[ka], values[kb] = "1", "11"
	q := faultClient(t, tc.Nodes[1].Addr(), "QUORUM")
	faultCheck(t, q, map[string]string{ka: "1", kb: "11"}, "after the transaction")

	raw := dialRaw(t, tc.Nodes[0].Addr())
	steps := [][2]string{
		{"MULTI", "+OK\r\n"},
		{"SET {x}a 1", "+QUEUED\r\n"},
		{"SET {y}b 1", "-" + errCrossSlot + "\r\n"},
		{"EXEC", "-" + errExecAbort + "\r\n"},
	}
	for _, s := range steps {
		if got := raw.do(strings.Fields(s[0])...); got != s[1] {
			t.Fatalf("%s: %q; want %q", s[0], got, s[1])
		}
	}
	if n, err := q.Exists(ctx, "{x}a", "{y}b").Result(); err != nil || n != 0 {
		t.Fatalf("the aborted transaction wrote %d keys (%v)", n, err)
	}

	// KEYS, DBSIZE and a full SCAN per node cover the slots it is primary
	// of: over the nodes, each key once.
	want := slices.Sorted(maps.Keys(values))
	var keysAll, scanned []string
	var size int64
	for i, n := range tc.Nodes {
		ci := faultClient(t, n.Addr(), "")
		ks, err := ci.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatalf("KEYS * through node %d: %v", i, err)
		}
		keysAll = append(keysAll, ks...)
		k, err := ci.DBSize(ctx).Result()
		if err != nil || k != int64(len(ks)) {
			t.Fatalf("DBSIZE through node %d = %d, %v; KEYS * has %d", i, k, err, len(ks))
		}
		size += k
		var cursor uint64
		for calls := 0; ; calls++ {
			ks, next, err := ci.Scan(ctx, cursor, "", 5).Result()
			if err != nil || calls > store.SlotCount {
				t.Fatalf("node %d SCAN %d: %v (call %d)", i, cursor, err, calls)
			}
			scanned = append(scanned, ks...)
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	slices.Sort(keysAll)
	slices.Sort(scanned)
	if !slices.Equal(keysAll, want) || !slices.Equal(scanned, want) || size != int64(len(want)) {
		t.Fatalf("over the nodes: KEYS * = %v, SCAN = %v, DBSIZE = %d; want each of %v once", keysAll, scanned, size, want)
	}

	if err := faultClient(t, tc.Nodes[1].Addr(), "").FlushAll(ctx).Err(); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
	for i, n := range tc.Nodes {
		for s := range store.SlotCount {
			if k := n.Store.SlotCount(uint16(s)); k != 0 {
				t.Fatalf("after FLUSHALL node %d has %d keys in slot %d", i, k, s)
			}
		}
		if k, err := faultClient(t, n.Addr(), "").DBSize(ctx).Result(); err != nil || k != 0 {
			t.Fatalf("DBSIZE through node %d after FLUSHALL = %d, %v", i, k, err)
		}
	}
}
