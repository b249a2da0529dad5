package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cairn/cluster"
	"cairn/resp"
)

// Read-your-writes in a 3-node cluster (docs/consistency.md). With N=3
// every node replicates every slot; W=2 lets a write be acknowledged by
// its primary and one other replica while the third still waits for it.
// rywLag delays peer RPC (not gossip) on the links 0->1, 1->2 and 2->0, so
// for the slots whose primary is node i, node i+1 receives replication
// late while node i+2 acknowledges at once: every primary still meets W
// without waiting, and node E lags behind the primary E-1. The tests send
// commands through node E only for keys whose primary is E or E-1: a
// command forwarded to E+1 would itself take the delayed link.

const rywDelay = 300 * time.Millisecond

// rywLag sets the delays described above.
func rywLag(tc *testCluster) {
	for i := range 3 {
		tc.Faults.Set(tc.ID(i), tc.ID((i+1)%3), cluster.Fault{Delay: rywDelay, RPCOnly: true})
	}
}

// rywKey returns a hash tag "{prefix:n}" whose slot's preference list
// starts with nodes, in that order.
func rywKey(t testing.TB, tc *testCluster, prefix string, nodes ...int) string {
	t.Helper()
	k, ok := findKey(tc, prefix, func(reps []string) bool {
		match := len(reps) >= len(nodes)
		for j, i := range nodes {
			match = match && reps[j] == tc.ID(i)
		}
		return match
	})
	if !ok {
		t.Fatalf("no key for preference list %v", nodes)
	}
	return k
}

// findKey returns the first hash tag "{prefix:n}" whose slot's preference
// list (node 0's view) satisfies ok.
func findKey(tc *testCluster, prefix string, ok func(reps []string) bool) (string, bool) {
	v := tc.Nodes[0].Cluster.View()
	for n := range 100000 {
		k := fmt.Sprintf("{%s:%d}", prefix, n)
		if ok(v.Replicas(cluster.KeySlot([]byte(k)))) {
			return k, true
		}
	}
	return "", false
}

// waitFresh waits until every live node may serve reads of keys' slots at
// ONE: otherwise its reads would go to the primary and could not be stale.
func waitFresh(t testing.TB, tc *testCluster, keys ...string) {
	t.Helper()
	waitFor(t, 10*time.Second, "fresh replicas", func() bool {
		for _, n := range tc.live() {
			for _, k := range keys {
				if !n.Cluster.Fresh(cluster.KeySlot([]byte(k))) {
					return false
				}
			}
		}
		return true
	})
}

// rywConn is one client connection: read-your-writes is a property of a
// connection, so the tests do not use a client with a pool.
type rywConn struct {
	nc net.Conn
	rr *resp.ReplyReader
}

// dialLevel connects to addr and sets the connection's consistency level.
func dialLevel(t testing.TB, addr, level string) *rywConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rywConn{nc: nc, rr: resp.NewReplyReader(nc, 0)}
	if v, err := c.do("CONSISTENCY", level); err != nil || string(v.Str) != "OK" {
		t.Fatalf("CONSISTENCY %s = %q, %v", level, v.Str, err)
	}
	return c
}

// pipeline sends cmds in one write and reads their replies. The error is a
// network or protocol error; error replies are values.
func (c *rywConn) pipeline(cmds ...[]string) ([]resp.Value, error) {
	var b []byte
	for _, args := range cmds {
		bs := make([][]byte, len(args))
		for i, a := range args {
			bs[i] = []byte(a)
		}
		b = resp.AppendCommand(b, bs...)
	}
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(b); err != nil {
		return nil, err
	}
	out := make([]resp.Value, len(cmds))
	for i := range out {
		v, err := c.rr.Read()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (c *rywConn) do(args ...string) (resp.Value, error) {
	vs, err := c.pipeline(args)
	if err != nil {
		return resp.Value{}, err
	}
	return vs[0], nil
}

// retryable reports whether an error reply leaves a write's outcome to be
// retried: nothing applied (TRYAGAIN, CLUSTERDOWN, NOREPLICAS) or unknown
// (UNCERTAIN).
func retryable(err error) bool {
	var re *resp.ReplyError
	if !errors.As(err, &re) {
		return false
	}
	for _, code := range []string{"TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "UNCERTAIN"} {
		if strings.HasPrefix(re.Text, code+" ") {
			return true
		}
	}
	return false
}

// bulkInt is a bulk reply as an integer; a null reply is -1.
func bulkInt(v resp.Value) (int64, error) {
	if v.Null {
		return -1, nil
	}
	if v.Kind != '$' {
		return 0, fmt.Errorf("not a bulk string: %c %q", v.Kind, v.Str)
	}
	f, err := strconv.ParseFloat(string(v.Str), 64)
	return int64(f), err
}

// TestClusterRYW_StaleAtOne shows that the setup makes reads at ONE stale:
// a connection that writes a key through a lagging replica and reads it
// back there sees its old value. Without this the never-stale test below
// could pass for want of lag.
func TestClusterRYW_StaleAtOne(t *testing.T) {
	tc := startCluster(t, 3)
	rywLag(tc)
	for e := range 3 {
		p := (e + 2) % 3 // the link p -> e is delayed
		key := rywKey(t, tc, fmt.Sprintf("one%d", e), p)
		waitFresh(t, tc, key)
		c := dialLevel(t, tc.Nodes[e].Addr(), "ONE")
		stale := 0
		const pairs = 200
		deadline := time.Now().Add(10 * time.Second)
		for i := 1; i <= pairs; i++ {
			vs, err := c.pipeline([]string{"SET", key, strconv.Itoa(i)}, []string{"GET", key})
			if err != nil {
				t.Fatal(err)
			}
			if err := vs[0].Err(); retryable(err) && time.Now().Before(deadline) {
				i-- // the slot's primary is changing: write again
				time.Sleep(5 * time.Millisecond)
				continue
			} else if err != nil {
				t.Fatalf("node %d SET: %v", e, err)
			}
			got, err := bulkInt(vs[1])
			if err != nil {
				t.Fatalf("node %d GET: %v", e, err)
			}
			if got < int64(i) {
				stale++
			}
		}
		t.Logf("node %d at ONE: %d of %d reads after the connection's own write were stale", e, stale, pairs)
		if stale == 0 {
			t.Errorf("node %d: no stale read at ONE although replication to it lags %v", e, rywDelay)
		}
	}
}

// checkLevel checks that CONSISTENCY and CLIENT INFO report level for c.
func checkLevel(t testing.TB, c *rywConn, level string) {
	t.Helper()
	vs, err := c.pipeline([]string{"CONSISTENCY"}, []string{"CLIENT", "INFO"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(vs[0].Str); vs[0].Kind != '+' || got != level {
		t.Errorf("CONSISTENCY = %c %q, want +%s", vs[0].Kind, got, level)
	}
	if info := string(vs[1].Str); !strings.Contains(info, " consistency="+level+"\n") {
		t.Errorf("CLIENT INFO = %q, want consistency=%s at its end", info, level)
	}
}

// rywWorker writes and reads back keys over one READYOURWRITES connection
// and checks that every read sees the latest acknowledged write or a newer
// one. Each key has one writer (the worker), so a newer value can only
// come from a write whose outcome was unknown (UNCERTAIN).
type rywWorker struct {
	entry int    // the node the connection is to
	kind  string // "set": SET/GET, "incr": INCR/GET, "zset": ZADD/ZSCORE or ZREVRANK
	conn  *rywConn
	keys  []string
	acked []int64 // per key: the latest acknowledged value (SET value, INCR result, ZADD score)
	doubt []bool  // per key: a later write failed and may have applied
	next  int64   // the latest value written (SET, ZADD score and member m<value>)
	round int

	pairs  atomic.Int64 // write-then-read pairs whose write was acknowledged
	reads  int          // reads checked
	failed int          // writes refused or of unknown outcome
}

func newRYWWorker(t testing.TB, tc *testCluster, entry int, kind string, keys []string) *rywWorker {
	return &rywWorker{
		entry: entry, kind: kind, keys: keys,
		conn:  dialLevel(t, tc.Nodes[entry].Addr(), "READYOURWRITES"),
		acked: make([]int64, len(keys)), doubt: make([]bool, len(keys)),
	}
}

// writeCmd writes value n to key i.
func (w *rywWorker) writeCmd(i int, n int64) []string {
	v := strconv.FormatInt(n, 10)
	switch w.kind {
	case "incr":
		return []string{"INCR", w.keys[i]}
	case "zset":
		return []string{"ZADD", w.keys[i], v, "m" + v}
	}
	return []string{"SET", w.keys[i], v}
}

// readCmd reads key i back; for a sorted set, the member of value n, with
// ZSCORE and ZREVRANK in turn.
func (w *rywWorker) readCmd(i int, n int64) []string {
	if w.kind != "zset" {
		return []string{"GET", w.keys[i]}
	}
	m := "m" + strconv.FormatInt(n, 10)
	if w.round%2 == 0 {
		return []string{"ZSCORE", w.keys[i], m}
	}
	return []string{"ZREVRANK", w.keys[i], m}
}

// wrote records the acknowledged write of value n to key i.
func (w *rywWorker) wrote(i int, n int64, v resp.Value) error {
	switch {
	case w.kind == "incr" && v.Kind == ':':
		w.acked[i] = v.Int
	case w.kind == "zset" && v.Kind == ':', w.kind == "set" && string(v.Str) == "OK":
		w.acked[i] = n
	default:
		return fmt.Errorf("%s: unexpected reply %c %q", w.kind, v.Kind, v.Str)
	}
	w.doubt[i] = false
	return nil
}

// check judges the reply v to cmd, a read of key i (for a sorted set, of
// the member last acknowledged), against the latest acknowledged write. It
// returns a description of a stale read, or "".
func (w *rywWorker) check(i int, cmd []string, v resp.Value) string {
	w.reads++
	want := w.acked[i]
	if want == 0 { // nothing acknowledged yet
		return ""
	}
	var stale bool
	switch cmd[0] {
	case "GET":
		got, err := bulkInt(v)
		stale = err != nil || got < want
	case "ZSCORE":
		got, err := bulkInt(v)
		stale = err != nil || got != want
	default: // ZREVRANK: the member last written has the highest score
		stale = v.Kind != ':' || v.Int != 0 && !w.doubt[i]
	}
	if !stale {
		return ""
	}
	return fmt.Sprintf("node %d: %v after the acknowledged write of %d = %c %q %d null=%v",
		w.entry, cmd, want, v.Kind, v.Str, v.Int, v.Null)
}

// readChecked reads key i back, retrying while its slot has no primary.
func (w *rywWorker) readChecked(ctx context.Context, i int) (string, error) {
	for {
		cmd := w.readCmd(i, w.acked[i])
		v, err := w.conn.do(cmd...)
		if err != nil {
			return "", err
		}
		if err := v.Err(); err == nil {
			return w.check(i, cmd, v), nil
		} else if !retryable(err) {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// run writes the keys in turn, each write sent together with a read of
// the same key, until ctx ends. After a failed write it reads every key
// back: a primary change, which makes writes fail for a while, is when a
// replica may lack acknowledged writes. It returns the stale reads seen,
// and an error if the connection failed or a reply was unexpected.
func (w *rywWorker) run(ctx context.Context) (stale []string, err error) {
	note := func(s string) {
		if s != "" {
			stale = append(stale, s)
		}
	}
	for ; ctx.Err() == nil; w.round++ {
		i := w.round % len(w.keys)
		w.next++
		n := w.next
		read := w.readCmd(i, n)
		vs, err := w.conn.pipeline(w.writeCmd(i, n), read)
		if err != nil {
			return stale, err
		}
		werr := vs[0].Err()
		switch {
		case werr == nil:
			if err := w.wrote(i, n, vs[0]); err != nil {
				return stale, err
			}
			w.pairs.Add(1)
		case retryable(werr):
			w.failed++
			w.doubt[i] = true
		default:
			return stale, fmt.Errorf("%v: %w", w.writeCmd(i, n), werr)
		}
		rerr := vs[1].Err()
		switch {
		case rerr != nil && !retryable(rerr):
			return stale, fmt.Errorf("%v: %w", read, rerr)
		case rerr == nil && (werr == nil || w.kind != "zset"):
			// (A sorted-set read of a member whose write failed proves nothing.)
			note(w.check(i, read, vs[1]))
		case rerr != nil && werr == nil:
			s, err := w.readChecked(ctx, i)
			if err != nil {
				return stale, err
			}
			note(s)
		}
		if werr != nil {
			for j := range w.keys {
				s, err := w.readChecked(ctx, j)
				if err != nil {
					return stale, err
				}
				note(s)
			}
		}
	}
	return stale, nil
}

// rywCounts sums the READYOURWRITES reads served locally and sent to the
// primary over every node.
func rywCounts(tc *testCluster) (local, forwarded int64) {
	for _, n := range tc.Nodes {
		local += n.Cmd.rywLocal.Load()
		forwarded += n.Cmd.rywForwarded.Load()
	}
	return local, forwarded
}

// TestClusterRYW_NeverStale runs write-then-read pairs at READYOURWRITES
// through every node, on keys whose primary is the entry node and keys
// whose primary is another (the write is forwarded), with replication to
// the entry node lagging for some of them; midway the primary of a third
// of the keys stops. No read may miss the connection's acknowledged write.
func TestClusterRYW_NeverStale(t *testing.T) {
	tc := startCluster(t, 3)
	rywLag(tc)
	const victim = 2 // stopped midway
	var workers []*rywWorker
	var all []string
	for e := range 3 {
		for _, kind := range []string{"set", "incr", "zset"} {
			var keys []string
			for _, p := range []int{e, (e + 2) % 3} { // e lags behind e-1
				pref := []int{p}
				if p == victim && e != victim {
					// e becomes the slot's primary when the victim stops.
					pref = append(pref, e)
				}
				keys = append(keys, rywKey(t, tc, fmt.Sprintf("%s%d-%d", kind, e, p), pref...))
			}
			workers = append(workers, newRYWWorker(t, tc, e, kind, keys))
			all = append(all, keys...)
		}
	}
	waitFresh(t, tc, all...)

	ctx, cancel := context.WithCancel(context.Background())
	var stopped atomic.Bool
	var mu sync.Mutex
	var problems []string
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stale, err := w.run(ctx)
			mu.Lock()
			defer mu.Unlock()
			problems = append(problems, stale...)
			if err != nil && ctx.Err() == nil && !(w.entry == victim && stopped.Load()) {
				problems = append(problems, fmt.Sprintf("node %d %s worker: %v", w.entry, w.kind, err))
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }()
	// progress waits until every worker in ws has made pairs more write-then-read pairs than base.
	progress := func(what string, ws []*rywWorker, base []int64, pairs int64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			done := true
			for j, w := range ws {
				done = done && w.pairs.Load() >= base[j]+pairs
			}
			mu.Lock()
			failed := len(problems) > 0
			mu.Unlock()
			if done || failed {
				return
			}
			if time.Now().After(deadline) {
				var counts []int64
				for _, w := range ws {
					counts = append(counts, w.pairs.Load())
				}
				t.Fatalf("timed out waiting for %s: pairs per worker %v", what, counts)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	const pairs = 300
	start := time.Now()
	progress("the first pairs", workers, make([]int64, len(workers)), pairs)
	t.Logf("first phase: %v", time.Since(start))

	var survivors []*rywWorker
	var base []int64
	for _, w := range workers {
		if w.entry != victim {
			survivors = append(survivors, w)
			base = append(base, w.pairs.Load())
		}
	}
	stopped.Store(true)
	stopAt := time.Now()
	tc.stop(victim)
	tc.Faults.Heal() // the lag that matters now is what the victim never sent
	progress("writes to succeed again", survivors, base, 1)
	t.Logf("every surviving connection wrote again %v after the stop", time.Since(stopAt))
	progress("the pairs after the stop", survivors, base, pairs)
	cancel()
	wg.Wait()

	// A last read of every key through each surviving connection.
	vctx, vcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer vcancel()
	for _, w := range survivors {
		for i := range w.keys {
			s, err := w.readChecked(vctx, i)
			if err != nil {
				t.Errorf("node %d final read of %s: %v", w.entry, w.keys[i], err)
			} else if s != "" {
				problems = append(problems, s)
			}
		}
	}
	for i, p := range problems {
		if i == 20 {
			t.Errorf("... and %d more", len(problems)-i)
			break
		}
		t.Error(p)
	}

	var total, reads, failed int64
	for _, w := range workers {
		total += w.pairs.Load()
		reads += int64(w.reads)
		failed += int64(w.failed)
	}
	local, forwarded := rywCounts(tc)
	t.Logf("%d acknowledged write-then-read pairs, %d reads checked, %d writes refused or uncertain, %v in all",
		total, reads, failed, time.Since(start))
	t.Logf("READYOURWRITES reads served by the entry node's replica: %d, sent to the primary: %d (%.1f%%)",
		local, forwarded, 100*float64(forwarded)/float64(max(local+forwarded, 1)))
	if local == 0 || forwarded == 0 {
		t.Errorf("reads served locally %d and by the primary %d: both paths should be taken", local, forwarded)
	}
}

// rywTxRound writes a string and a sorted-set member under tag (plainly or
// in a transaction) and reads both back in a read-only transaction, all
// sent at once on c, again while the slot's primary is changing. It
// reports whether the transaction missed the write.
func rywTxRound(t testing.TB, c *rywConn, tag string, n int, inTx bool) bool {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		stale, err := rywTxTry(t, c, tag, n, inTx)
		if err == nil {
			return stale
		}
		if !retryable(err) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rywTxTry is one attempt of rywTxRound; it returns the first error reply.
func rywTxTry(t testing.TB, c *rywConn, tag string, n int, inTx bool) (bool, error) {
	t.Helper()
	s, z, v := tag+"s", tag+"z", strconv.Itoa(n)
	cmds := [][]string{{"SET", s, v}, {"ZADD", z, v, "m" + v}}
	if inTx {
		cmds = append([][]string{{"MULTI"}}, append(cmds, []string{"EXEC"})...)
	}
	cmds = append(cmds, []string{"MULTI"}, []string{"GET", s}, []string{"ZSCORE", z, "m" + v}, []string{"EXEC"})
	vs, err := c.pipeline(cmds...)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range vs {
		if err := r.Err(); err != nil {
			return false, fmt.Errorf("%v: %w", cmds[i], err)
		}
		if cmds[i][0] == "EXEC" {
			if r.Kind != '*' || len(r.Array) != 2 {
				t.Fatalf("EXEC = %c %v", r.Kind, r.Array)
			}
			for _, e := range r.Array {
				if err := e.Err(); err != nil {
					return false, fmt.Errorf("EXEC element: %w", err)
				}
			}
		}
	}
	exec := vs[len(vs)-1].Array
	got, err1 := bulkInt(exec[0])
	score, err2 := bulkInt(exec[1])
	return err1 != nil || err2 != nil || got != int64(n) || score != int64(n), nil
}

// TestClusterRYW_MultiExec checks that a read-only transaction at
// READYOURWRITES sees the connection's earlier writes, made plainly or in
// a transaction, forwarded to the primary or run on the entry node, and
// that the same transaction at ONE does not. It also checks that
// CONSISTENCY and CLIENT INFO report each connection's level.
func TestClusterRYW_MultiExec(t *testing.T) {
	tc := startCluster(t, 3)
	rywLag(tc)
	const e = 0                           // node 0 lags behind node 2
	fwd := rywKey(t, tc, "tx-fwd", 2)     // writes forwarded to node 2
	here := rywKey(t, tc, "tx-here", e)   // node 0 is the primary
	control := rywKey(t, tc, "tx-one", 2) // for the connection at ONE
	waitFresh(t, tc, fwd+"s", here+"s", control+"s")
	addr := tc.Nodes[e].Addr()
	checkLevel(t, dialLevel(t, addr, "DEFAULT"), "DEFAULT")
	ryw := dialLevel(t, addr, "readyourwrites")
	checkLevel(t, ryw, "READYOURWRITES")
	one := dialLevel(t, addr, "ONE")
	checkLevel(t, one, "ONE")

	const rounds = 100
	stale, oneStale := 0, 0
	for n := 1; n <= rounds; n++ {
		for _, tag := range []string{fwd, here} {
			if rywTxRound(t, ryw, tag, n, n%2 == 1) {
				stale++
			}
		}
		if rywTxRound(t, one, control, n, n%2 == 1) {
			oneStale++
		}
	}
	t.Logf("read-only transactions after the connection's writes: %d of %d stale at READYOURWRITES, %d of %d at ONE",
		stale, 2*rounds, oneStale, rounds)
	if stale != 0 {
		t.Errorf("%d read-only transactions at READYOURWRITES missed the connection's writes", stale)
	}
	if oneStale == 0 {
		t.Errorf("no transaction at ONE was stale although replication to node %d lags %v", e, rywDelay)
	}
	local, forwarded := rywCounts(tc)
	t.Logf("READYOURWRITES reads served locally: %d, by the primary: %d", local, forwarded)
}

// TestClusterRYW_Scripts: a script that writes (EVAL) runs on the slot's
// primary and its versions are remembered; a read-only script (EVAL_RO)
// after it on the same connection sees the write at READYOURWRITES, while
// the same pairs at ONE are seen stale (so the check can fail).
func TestClusterRYW_Scripts(t *testing.T) {
	tc := startCluster(t, 3)
	rywLag(tc)
	const e = 0                            // node 0 lags behind node 2
	fwd := rywKey(t, tc, "lua-fwd", 2)     // the script's writes run on node 2
	control := rywKey(t, tc, "lua-one", 2) // for the connection at ONE
	waitFresh(t, tc, fwd+"k", control+"k")
	ryw := dialLevel(t, tc.Nodes[e].Addr(), "READYOURWRITES")
	one := dialLevel(t, tc.Nodes[e].Addr(), "ONE")
	const set = "redis.call('SET', KEYS[1], ARGV[1]) return 1"
	const get = "return redis.call('GET', KEYS[1])"
	round := func(c *rywConn, key string, n int) (stale bool, ok bool) {
		v := strconv.Itoa(n)
		vs, err := c.pipeline([]string{"EVAL", set, "1", key, v}, []string{"EVAL_RO", get, "1", key})
		if err != nil {
			t.Fatal(err)
		}
		if vs[0].Err() != nil {
			if retryable(vs[0].Err()) {
				return false, false
			}
			t.Fatalf("EVAL: %v", vs[0].Err())
		}
		if err := vs[1].Err(); err != nil {
			if retryable(err) {
				return false, false
			}
			t.Fatalf("EVAL_RO: %v", err)
		}
		return string(vs[1].Str) != v, true
	}
	stale, oneStale, done := 0, 0, 0
	for n := 1; n <= 100; n++ {
		if s, ok := round(ryw, fwd+"k", n); ok {
			done++
			if s {
				stale++
			}
		}
		if s, ok := round(one, control+"k", n); ok && s {
			oneStale++
		}
	}
	t.Logf("script pairs: %d of %d stale at READYOURWRITES, %d of 100 at ONE", stale, done, oneStale)
	if done < 50 {
		t.Fatalf("only %d of 100 script pairs completed", done)
	}
	if stale != 0 {
		t.Errorf("%d read-only scripts at READYOURWRITES missed the connection's write", stale)
	}
	if oneStale == 0 {
		t.Errorf("no read-only script at ONE was stale although replication to node %d lags %v", e, rywDelay)
	}
}
