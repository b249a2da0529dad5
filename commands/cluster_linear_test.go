package commands

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"cairn/cluster"
)

// Linearizability of single-key operations under faults. Clients bound to
// the nodes of an in-process cluster issue GET, SET, SET ... IFEQ and INCR
// at the default consistency while a fault schedule delays and cuts peer
// RPC and pauses a slot primary; every operation is recorded with its
// invocation and response times and the history is checked with porcupine
// against a register per key.
//
// Outcomes: a reply is an observed result. TRYAGAIN, CLUSTERDOWN and
// NOREPLICAS promise that nothing was applied, so those operations are left
// out. A write answered UNCERTAIN, or whose reply never came (timeout,
// broken connection), may or may not have taken effect: it is recorded as
// pending, with a response time after every other operation and an output
// the model accepts whatever the state, which lets porcupine place it
// anywhere after its invocation (placing it last is the same as it never
// happening). A read without a reply has no effect and is left out.
//
// Set CAIRN_LIN_OUT to a directory to keep the visualization of a failed
// check (and of the negative control's expected violation).

// linKind is the kind of a recorded operation.
type linKind uint8

const (
	linGet     linKind = iota // GET key
	linSet                    // SET key val
	linSetIfEq                // SET key val IFEQ old
	linIncr                   // INCR key
)

// linInput is one operation on one key.
type linInput struct {
	kind linKind
	key  string
	val  string // SET's value
	old  string // IFEQ's comparand
}

// linOutput is an operation's result: val is GET's value ("" for a missing
// key) or INCR's result, ok is whether SET IFEQ set. unknown marks a write
// whose outcome the client could not learn.
type linOutput struct {
	val     string
	ok      bool
	unknown bool
}

// linModel is a string register per key; "" is a missing key (the tests
// never SET an empty string, and SET only writes numbers, so INCR never
// meets a non-integer).
var linModel = porcupine.Model{
	Partition: linPartition,
	Init:      func() any { return "" },
	Step:      linStep,
	Hash: func(state any) uint64 {
		h := fnv.New64a()
		h.Write([]byte(state.(string)))
		return h.Sum64()
	},
	DescribeOperation: linDescribe,
	DescribeState: func(state any) string {
		if state == "" {
			return "(missing)"
		}
		return state.(string)
	},
	DescribeOperationMetadata: func(info any) string { return info.(string) },
}

// linPartition splits a history by key, in key order.
func linPartition(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := op.Input.(linInput).key
		byKey[k] = append(byKey[k], op)
	}
	out := make([][]porcupine.Operation, 0, len(byKey))
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		out = append(out, byKey[k])
	}
	return out
}

// linStep is the register's sequential specification.
func linStep(state, input, output any) (bool, any) {
	st, in, out := state.(string), input.(linInput), output.(linOutput)
	switch in.kind {
	case linGet:
		return out.val == st, st
	case linSet:
		return true, in.val
	case linSetIfEq:
		applies := st != "" && st == in.old // IFEQ fails on a missing key
		next := st
		if applies {
			next = in.val
		}
		return out.unknown || out.ok == applies, next
	default: // linIncr
		var n int64
		if st != "" {
			var err error
			if n, err = strconv.ParseInt(st, 10, 64); err != nil {
				return out.unknown, st // INCR fails on a non-integer
			}
		}
		next := strconv.FormatInt(n+1, 10)
		return out.unknown || out.val == next, next
	}
}

func linDescribe(input, output any) string {
	in, out := input.(linInput), output.(linOutput)
	res := "?"
	switch {
	case out.unknown:
	case in.kind == linSetIfEq:
		res = strconv.FormatBool(out.ok)
	case in.kind == linGet && out.val == "":
		res = "(missing)"
	default:
		res = out.val
	}
	switch in.kind {
	case linGet:
		return fmt.Sprintf("get(%s) -> %s", in.key, res)
	case linSet:
		if out.unknown {
			return fmt.Sprintf("set(%s, %s) ?", in.key, in.val)
		}
		return fmt.Sprintf("set(%s, %s)", in.key, in.val)
	case linSetIfEq:
		return fmt.Sprintf("set(%s, %s) ifeq %s -> %s", in.key, in.val, in.old, res)
	default:
		return fmt.Sprintf("incr(%s) -> %s", in.key, res)
	}
}

// linFate is what an operation's error says about its effect.
type linFate uint8

const (
	linDone       linFate = iota // a reply: the result is known
	linNotApplied                // TRYAGAIN, CLUSTERDOWN, NOREPLICAS
	linUnknown                   // UNCERTAIN, no reply, or an unexpected error
)

// errLinReply marks a reply of the wrong shape.
var errLinReply = errors.New("unexpected reply")

// linClassify returns err's fate and a short class name for the counts.
func linClassify(err error) (linFate, string) {
	if err == nil {
		return linDone, "ok"
	}
	if errors.Is(err, errLinReply) {
		return linUnknown, "unexpected"
	}
	var re redis.Error
	if !errors.As(err, &re) {
		return linUnknown, "no reply" // timeout or connection error
	}
	code, _, _ := strings.Cut(err.Error(), " ")
	switch code {
	case "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS":
		return linNotApplied, code
	case "UNCERTAIN":
		return linUnknown, code
	}
	return linUnknown, "unexpected"
}

// linHistory collects the operations of many clients, with times in
// nanoseconds since its start, and fault annotations for the visualization.
type linHistory struct {
	t0 time.Time

	mu         sync.Mutex
	ops        []porcupine.Operation
	pending    []int          // indexes in ops of writes with unknown outcome
	fates      map[string]int // operations by outcome class
	unexpected []string       // unexpected error replies
	notes      []porcupine.Annotation
}

func newLinHistory() *linHistory {
	return &linHistory{t0: time.Now(), fates: map[string]int{}}
}

func (h *linHistory) now() int64 { return int64(time.Since(h.t0)) }

// record files one finished operation by its error's fate.
func (h *linHistory) record(client int, node string, in linInput, out linOutput, call, ret int64, err error) {
	fate, class := linClassify(err)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fates[class]++
	if class == "unexpected" {
		h.unexpected = append(h.unexpected, fmt.Sprintf("%s: %v", linDescribe(in, linOutput{unknown: true}), err))
	}
	if fate == linNotApplied || (fate == linUnknown && in.kind == linGet) {
		return
	}
	out.unknown = fate == linUnknown
	if out.unknown {
		h.pending = append(h.pending, len(h.ops))
	}
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret, Metadata: node})
}

// checkReplies fails t for every unexpected error reply recorded.
func (h *linHistory) checkReplies(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, u := range h.unexpected {
		t.Errorf("unexpected error reply: %s", u)
	}
}

// note adds a fault annotation spanning [start, now].
func (h *linHistory) note(start int64, what string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.notes = append(h.notes, porcupine.Annotation{Tag: "faults", Start: start, End: h.now(), Description: what})
}

// finish returns the history with every pending write's response time
// after all other operations.
func (h *linHistory) finish() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	var end int64
	for _, op := range h.ops {
		end = max(end, op.Return)
	}
	for _, i := range h.pending {
		h.ops[i].Return = end + 1
	}
	return slices.Clone(h.ops)
}

// linClient is a plain client without hidden retries.
func linClient(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1, PoolSize: 1, DisableIdentity: true,
		DialTimeout: time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// linDo runs in through c.
func linDo(c *redis.Client, in linInput) (linOutput, error) {
	switch in.kind {
	case linGet:
		v, err := c.Get(ctx, in.key).Result()
		if err == redis.Nil {
			return linOutput{}, nil
		}
		return linOutput{val: v}, err
	case linSet:
		return linOutput{}, c.Set(ctx, in.key, in.val, 0).Err()
	case linSetIfEq:
		v, err := c.Do(ctx, "SET", in.key, in.val, "IFEQ", in.old).Result()
		if err == redis.Nil {
			return linOutput{}, nil
		}
		if err == nil && v != "OK" {
			err = fmt.Errorf("%w: %v", errLinReply, v)
		}
		return linOutput{ok: true}, err
	default:
		n, err := c.Incr(ctx, in.key).Result()
		return linOutput{val: strconv.FormatInt(n, 10)}, err
	}
}

// linPicker chooses a worker's next operation; last holds the values the
// worker last saw per key (for IFEQ comparands).
type linPicker func(r *rand.Rand, last map[string]string) linInput

// linLoad runs one worker per entry of nodes (the index of the node its
// client is bound to) until the returned stop function is called; stop
// waits for the operations in flight.
func linLoad(t *testing.T, tc *testCluster, h *linHistory, nodes []int, seed uint64, pick func(worker int) linPicker) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w, n := range nodes {
		c := linClient(t, tc.Nodes[n].Addr())
		next := pick(w)
		node := "node " + strconv.Itoa(n)
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			last := map[string]string{}
			for {
				select {
				case <-done:
					return
				default:
				}
				in := next(r, last)
				call := h.now()
				out, err := linDo(c, in)
				h.record(w, node, in, out, call, h.now(), err)
				switch {
				case err != nil:
				case in.kind == linGet || in.kind == linIncr:
					last[in.key] = out.val
				case in.kind == linSet || out.ok:
					last[in.key] = in.val
				}
			}
		})
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
	t.Cleanup(stop)
	return stop
}

// linMixed picks a random key of keys and a random operation kind.
func linMixed(keys []string) linPicker {
	return func(r *rand.Rand, last map[string]string) linInput {
		in := linInput{key: keys[r.IntN(len(keys))]}
		switch p := r.IntN(100); {
		case p < 35:
			in.kind = linGet
		case p < 55:
			in.kind, in.val = linSet, strconv.Itoa(r.IntN(1000))
		case p < 70:
			in.kind, in.val, in.old = linSetIfEq, strconv.Itoa(r.IntN(1000)), last[in.key]
			if in.old == "" || r.IntN(4) == 0 {
				in.old = strconv.Itoa(r.IntN(1000))
			}
		default:
			in.kind = linIncr
		}
		return in
	}
}

// linPrimary is the index of the node that node 0 sees as key's primary.
func linPrimary(t *testing.T, tc *testCluster, key string) int {
	id, ok := tc.Nodes[0].Cluster.View().Primary(cluster.KeySlot([]byte(key)))
	if !ok {
		t.Fatalf("no primary for %s", key)
	}
	for i := range tc.Nodes {
		if tc.ID(i) == id {
			return i
		}
	}
	t.Fatalf("primary %s of %s is not a node", id, key)
	return -1
}

// linPause freezes node a's view and cuts the gossip between it and the
// others, like a primary whose process stops while its connections stay
// up; it waits until the others see it dead, keeps the fault for hold
// longer, then heals everything and has node a re-join the gossip at once
// (instead of at the next periodic re-join).
func linPause(t *testing.T, tc *testCluster, h *linHistory, a int, hold time.Duration) {
	start := h.now()
	ida := tc.ID(a)
	tc.Faults.FreezeView(ida, true)
	var others []string
	for j := range tc.Nodes {
		if j != a {
			tc.Faults.Set(ida, tc.ID(j), cluster.Fault{Drop: true, GossipOnly: true})
			tc.Faults.Set(tc.ID(j), ida, cluster.Fault{Drop: true, GossipOnly: true})
			others = append(others, tc.Nodes[j].Cluster.Membership().Self().Bus)
		}
	}
	waitFor(t, 5*time.Second, fmt.Sprintf("the others to see paused node %d dead", a), func() bool {
		for j, n := range tc.Nodes {
			if j != a && n.Cluster.View().Alive[ida] {
				return false
			}
		}
		return true
	})
	dead := h.now()
	time.Sleep(hold)
	tc.Faults.Heal()
	h.note(start, fmt.Sprintf("node %d paused (view frozen, gossip cut)", a))
	h.note(dead, fmt.Sprintf("others see node %d dead", a))
	if err := tc.Nodes[a].Cluster.Membership().Join(others); err != nil {
		t.Logf("re-join of node %d: %v (the periodic re-join will retry)", a, err)
	}
}

// linDelays delays peer RPC on two random directed links by 20-200 ms for
// d, then heals.
func linDelays(tc *testCluster, h *linHistory, r *rand.Rand, d time.Duration) {
	start := h.now()
	var what []string
	links := [][2]int{{0, 1}, {0, 2}, {1, 0}, {1, 2}, {2, 0}, {2, 1}}
	r.Shuffle(len(links), func(i, j int) { links[i], links[j] = links[j], links[i] })
	for _, l := range links[:2] {
		from, to := l[0], l[1]
		delay := time.Duration(20+r.IntN(181)) * time.Millisecond
		tc.Faults.Set(tc.ID(from), tc.ID(to), cluster.Fault{Delay: delay, RPCOnly: true})
		what = append(what, fmt.Sprintf("%d->%d %v", from, to, delay))
	}
	time.Sleep(d)
	tc.Faults.Heal()
	h.note(start, "RPC delay "+strings.Join(what, ", "))
}

// linCutRPC drops peer RPC between a random node and the others for d
// (gossip still flows, so every node believes it alive), then heals.
func linCutRPC(tc *testCluster, h *linHistory, r *rand.Rand, d time.Duration) {
	start := h.now()
	x := r.IntN(3)
	for j := range tc.Nodes {
		if j != x {
			tc.Faults.Set(tc.ID(x), tc.ID(j), cluster.Fault{Drop: true, RPCOnly: true})
			tc.Faults.Set(tc.ID(j), tc.ID(x), cluster.Fault{Drop: true, RPCOnly: true})
		}
	}
	time.Sleep(d)
	tc.Faults.Heal()
	h.note(start, fmt.Sprintf("RPC of node %d cut", x))
}

// linFinalReads reads every key through every node once the cluster is
// ready again, retrying the retryable errors, and records the reads.
func linFinalReads(t *testing.T, tc *testCluster, h *linHistory, keys []string, client int) {
	for i, n := range tc.Nodes {
		c := linClient(t, n.Addr())
		for _, k := range keys {
			waitFor(t, 5*time.Second, "a final read of "+k, func() bool {
				in := linInput{kind: linGet, key: k}
				call := h.now()
				out, err := linDo(c, in)
				h.record(client, "node "+strconv.Itoa(i), in, out, call, h.now(), err)
				fate, _ := linClassify(err)
				return fate == linDone
			})
		}
	}
}

// linCheck checks ops with porcupine. On any result but Ok, or when
// CAIRN_LIN_OUT is set, it writes the visualization; on a violation it also
// logs the operations around the first one that cannot be linearized.
func linCheck(t *testing.T, h *linHistory, ops []porcupine.Operation) porcupine.CheckResult {
	t.Helper()
	parts := linPartition(ops)
	var sizes []string
	for _, p := range parts {
		sizes = append(sizes, fmt.Sprintf("%s:%d", p[0].Input.(linInput).key, len(p)))
	}
	h.mu.Lock()
	t.Logf("history: %d operations (%s), %d pending writes; outcomes %v", len(ops), strings.Join(sizes, " "), len(h.pending), h.fates)
	notes := slices.Clone(h.notes)
	h.mu.Unlock()
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(linModel, ops, 20*time.Second)
	t.Logf("porcupine: %s in %v", linResult(res), time.Since(start).Round(time.Millisecond))
	dir := os.Getenv("CAIRN_LIN_OUT")
	if res == porcupine.Ok && dir == "" {
		return res
	}
	if dir == "" {
		dir = t.TempDir()
		t.Log("set CAIRN_LIN_OUT to a directory to keep the visualization")
	}
	info.AddAnnotations(notes)
	path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".html")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("visualization: %v", err)
	} else if err := porcupine.VisualizePath(linModel, info, path); err != nil {
		t.Errorf("visualization: %v", err)
	} else {
		t.Logf("visualization: %s", path)
	}
	if res == porcupine.Illegal {
		linTrace(t, parts, info)
	}
	return res
}

func linResult(r porcupine.CheckResult) string {
	switch r {
	case porcupine.Ok:
		return "linearizable"
	case porcupine.Illegal:
		return "NOT linearizable"
	}
	return "unknown (timed out)"
}

// linTrace logs, for each key whose history is not linearizable, the end of
// the longest linearizable prefix porcupine found and the operations that
// could come next, none of which fits.
func linTrace(t *testing.T, parts [][]porcupine.Operation, info porcupine.LinearizationInfo) {
	t.Helper()
	ms := func(ns int64) string { return fmt.Sprintf("%.3fms", float64(ns)/1e6) }
	line := func(op porcupine.Operation) string {
		return fmt.Sprintf("[%s, %s] client %d %s: %s", ms(op.Call), ms(op.Return), op.ClientId, op.Metadata, linDescribe(op.Input, op.Output))
	}
	for i, partials := range info.PartialLinearizations() {
		p := parts[i]
		var longest []int
		for _, l := range partials {
			if len(l) > len(longest) {
				longest = l
			}
		}
		if len(longest) == len(p) {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "key %s: %d of %d operations linearize; the prefix ends with\n", p[0].Input.(linInput).key, len(longest), len(p))
		state := linModel.Init()
		in := make([]bool, len(p))
		for j, id := range longest {
			_, state = linStep(state, p[id].Input, p[id].Output)
			in[id] = true
			if j >= len(longest)-10 {
				fmt.Fprintf(&b, "  %s  => %v\n", line(p[id]), state)
			}
		}
		first := int64(-1) // earliest response among the remaining operations
		for j, op := range p {
			if !in[j] && (first < 0 || op.Return < first) {
				first = op.Return
			}
		}
		b.WriteString("none of these can come next:\n")
		for j, op := range p {
			if !in[j] && op.Call <= first {
				fmt.Fprintf(&b, "  %s\n", line(op))
			}
		}
		t.Log(b.String())
	}
}

// TestClusterLinearizable records single-key histories under QUORUM with
// RPC delays, RPC cuts and a paused primary, and checks them.
func TestClusterLinearizable(t *testing.T) {
	tc := startCluster(t, 3)
	keys := []string{"lin:a", "lin:b", "lin:c", "lin:d"}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	h := newLinHistory()
	const workers = 8
	nodes := make([]int, workers) // spread evenly from a random node
	off := r.IntN(3)
	for w := range nodes {
		nodes[w] = (w + off) % 3
	}
	stop := linLoad(t, tc, h, nodes, seed, func(int) linPicker { return linMixed(keys) })

	time.Sleep(300 * time.Millisecond)
	for range 2 {
		linDelays(tc, h, r, 250*time.Millisecond)
	}
	linCutRPC(tc, h, r, 300*time.Millisecond)
	linPause(t, tc, h, linPrimary(t, tc, keys[0]), time.Second)
	linDelays(tc, h, r, 250*time.Millisecond)
	linCutRPC(tc, h, r, 300*time.Millisecond)
	linDelays(tc, h, r, 250*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	stop()

	tc.waitReady()
	linFinalReads(t, tc, h, keys, workers)
	h.checkReplies(t)
	if res := linCheck(t, h, h.finish()); res != porcupine.Ok {
		t.Fatalf("history is %s", linResult(res))
	}
}

// TestClusterLinearizableCatchesUnfencedPrimary is the checker's negative
// control: without the replicas' ballot check, a paused primary that still
// believes it holds its slot keeps acknowledging INCRs computed on its
// stale copy while the new primary serves the same key, and porcupine must
// find the resulting history not linearizable. The clients bound to the
// paused primary only INCR: a read there is still refused (its quorum read
// learns of the newer promise), which would make it step down.
func TestClusterLinearizableCatchesUnfencedPrimary(t *testing.T) {
	tc := newTestCluster(t)
	tc.Unfenced = true
	tc.grow(3)
	const key = "lin:neg"
	a := linPrimary(t, tc, key)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	h := newLinHistory()
	nodes := []int{0, 0, 1, 1, 2, 2}
	incrs := func(*rand.Rand, map[string]string) linInput { return linInput{kind: linIncr, key: key} }
	mixed := func(r *rand.Rand, _ map[string]string) linInput {
		if r.IntN(10) < 3 {
			return linInput{kind: linGet, key: key}
		}
		return linInput{kind: linIncr, key: key}
	}
	stop := linLoad(t, tc, h, nodes, seed, func(w int) linPicker {
		if nodes[w] == a {
			return incrs
		}
		return mixed
	})

	for range 2 {
		time.Sleep(200 * time.Millisecond)
		linPause(t, tc, h, a, 700*time.Millisecond)
		tc.waitReady()
	}
	time.Sleep(200 * time.Millisecond)
	stop()

	h.checkReplies(t)
	if res := linCheck(t, h, h.finish()); res != porcupine.Illegal {
		t.Fatalf("porcupine found the history %s; want a violation from the unfenced paused primary", linResult(res))
	}
}
