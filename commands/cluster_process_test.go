package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"cairn/cluster"
	"cairn/store"
)

// Multi-process cluster tests: cmd/cairn processes on free loopback ports,
// each in its own temporary directory, node 0 founding the cluster and the
// others joining its gossip bus, as `make cluster` (scripts/cluster.sh)
// starts them. The in-process harness (cluster_harness_test.go) covers
// injected faults; these cover what only real processes show: a node
// killed with SIGKILL under load and restarted on its directory, and
// cluster-aware clients (go-redis ClusterClient, redis-cli -c) against
// the server binary.
//
// The binary has no test hooks, so gossip runs with memberlist's LAN
// timings: a killed node is declared dead some 5 s after it stops.

// procNode is one cairn process of a procCluster.
type procNode struct {
	port, bus int
	dir, log  string
	args      []string      // the command line, without the binary
	cmd       *exec.Cmd     // the running (or last) process
	exited    chan struct{} // closed once cmd has been waited for
}

func (p *procNode) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// procCluster is a cluster of cairn processes, killed at the end of the test.
type procCluster struct {
	t     *testing.T
	bin   string
	nodes []*procNode
}

// startProcCluster starts n nodes, with settings (name/value pairs) added
// to every node's command line, and waits until the cluster is ready.
func startProcCluster(t *testing.T, n int, settings ...string) *procCluster {
	t.Helper()
	pc := &procCluster{t: t, bin: binPath(t)}
	base := t.TempDir()
	t.Cleanup(pc.dumpLogsIfFailed) // runs after the processes are killed
	level := "notice"
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		level = "debug"
	}
	ports := freePorts(t, 2*n)
	for i := range n {
		p := &procNode{port: ports[2*i], bus: ports[2*i+1], dir: filepath.Join(base, strconv.Itoa(i))}
		p.log = p.dir + ".log"
		p.args = []string{"--port", strconv.Itoa(p.port), "--cluster-port", strconv.Itoa(p.bus),
			"--dir", p.dir, "--cluster-enabled", "yes", "--loglevel", level,
			"--cluster-node-timeout", "1000", "--cluster-anti-entropy-interval", "500"}
		if i > 0 {
			p.args = append(p.args, "--join", net.JoinHostPort("127.0.0.1", strconv.Itoa(pc.nodes[0].bus)))
		}
		for j := 0; j+1 < len(settings); j += 2 {
			p.args = append(p.args, "--"+settings[j], settings[j+1])
		}
		pc.nodes = append(pc.nodes, p)
		pc.start(i)
	}
	pc.waitReady(pc.all()...)
	return pc
}

// freePorts returns k distinct free loopback TCP ports.
func freePorts(t testing.TB, k int) []int {
	t.Helper()
	var out []int
	for range k {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close() // held until all are picked, so they differ
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out
}

// all returns the indexes of every node.
func (pc *procCluster) all() []int {
	out := make([]int, len(pc.nodes))
	for i := range out {
		out[i] = i
	}
	return out
}

// start starts node i (again) with its command line and waits until it
// answers PING, which it does only once it has joined the cluster.
func (pc *procCluster) start(i int) {
	t := pc.t
	t.Helper()
	p := pc.nodes[i]
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	must(t, err)
	var out io.Writer = logf
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		out = io.MultiWriter(logf, &prefixWriter{w: os.Stderr, prefix: fmt.Sprintf("[node %d] ", i), bol: true})
	}
	cmd := exec.Command(pc.bin, p.args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test binary
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start node %d: %v", i, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	c := redis.NewClient(&redis.Options{Addr: p.addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	waitFor(t, 15*time.Second, fmt.Sprintf("node %d to answer PING", i), func() bool {
		select {
		case <-exited:
			t.Fatalf("node %d exited at start (%v); log %s:\n%s", i, cmd.ProcessState, p.log, tail(p.log, 20))
		default:
		}
		return c.Ping(ctx).Err() == nil
	})
}

// prefixWriter writes to w with prefix at the start of every line (node
// logs on the test's stderr with CAIRN_TEST_LOG).
type prefixWriter struct {
	w      io.Writer
	prefix string
	bol    bool // at the beginning of a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	var out []byte
	for _, c := range b {
		if p.bol {
			out = append(out, p.prefix...)
		}
		out = append(out, c)
		p.bol = c == '\n'
	}
	_, err := p.w.Write(out)
	return len(b), err
}

// kill sends SIGKILL to node i and waits until it is gone.
func (pc *procCluster) kill(i int) {
	p := pc.nodes[i]
	must(pc.t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.exited
}

// client returns a plain go-redis client of node i (no retries), closed at
// the end of the test. level, if not "", is the connection's CONSISTENCY.
func (pc *procCluster) client(i int, level string) *redis.Client {
	o := &redis.Options{Addr: pc.nodes[i].addr(), MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
	if level != "" {
		o.OnConnect = func(ctx2 context.Context, cn *redis.Conn) error {
			return cn.Do(ctx2, "CONSISTENCY", level).Err()
		}
	}
	c := redis.NewClient(o)
	pc.t.Cleanup(func() { c.Close() })
	return c
}

// fields returns the "name:value" lines of node i's reply to args (CLUSTER
// INFO or INFO cluster).
func (pc *procCluster) fields(i int, args ...any) (map[string]string, error) {
	c := redis.NewClient(&redis.Options{Addr: pc.nodes[i].addr(), MaxRetries: -1,
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 5 * time.Second})
	defer c.Close()
	text, err := c.Do(ctx, args...).Text()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out, nil
}

// waitReady waits until each of the nodes live sees exactly them alive
// among all the cluster's members, and together they hold every slot as
// ready primaries, each slot once.
func (pc *procCluster) waitReady(live ...int) {
	pc.t.Helper()
	pollUntil(pc.t, 30*time.Second, fmt.Sprintf("nodes %v to be alive and hold every slot", live), func() (bool, string) {
		held, state := 0, ""
		for _, i := range live {
			f, err := pc.fields(i, "CLUSTER", "INFO")
			if err != nil {
				return false, fmt.Sprintf("node %d: CLUSTER INFO: %v", i, err)
			}
			state += fmt.Sprintf("node %d: state %s, members %s, alive %s, primary of %s slots; ", i,
				f["cluster_state"], f["cluster_members"], f["cluster_members_alive"], f["cluster_slots_primary"])
			n, _ := strconv.Atoi(f["cluster_slots_primary"])
			if f["cluster_state"] != "ok" || f["cluster_members"] != strconv.Itoa(len(pc.nodes)) ||
				f["cluster_members_alive"] != strconv.Itoa(len(live)) || n == 0 {
				return false, state
			}
			held += n
		}
		return held == store.SlotCount, state
	})
}

// pollUntil calls cond every 100 ms until it returns true, failing the test
// with cond's last description of the state if that takes over timeout.
func pollUntil(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last seen: %s", timeout, what, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// primaryOf returns the index of the node CLUSTER SLOTS (asked to node 0)
// names as the master of key's slot.
func (pc *procCluster) primaryOf(key string) int {
	pc.t.Helper()
	slots, err := pc.client(0, "").ClusterSlots(ctx).Result()
	must(pc.t, err)
	slot := int(cluster.KeySlot([]byte(key)))
	for _, r := range slots {
		if r.Start <= slot && slot <= r.End && len(r.Nodes) > 0 {
			for i, p := range pc.nodes {
				if r.Nodes[0].Addr == p.addr() {
					return i
				}
			}
			pc.t.Fatalf("slot %d: master %s is none of the nodes", slot, r.Nodes[0].Addr)
		}
	}
	pc.t.Fatalf("slot %d is in no CLUSTER SLOTS range", slot)
	return -1
}

// dumpLogsIfFailed shows the end of every node's log when the test failed.
func (pc *procCluster) dumpLogsIfFailed() {
	if !pc.t.Failed() {
		return
	}
	for i, p := range pc.nodes {
		pc.t.Logf("node %d (%s) log %s, last lines:\n%s", i, p.addr(), p.log, tail(p.log, 30))
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// readBack reads every key of want through c (pipelined, in key order)
// and returns how many differ and a few of them. Reads refused with a
// retryable error (nothing to do with the data) are retried for up to 5 s.
func readBack(c *redis.Client, want map[string]string) (bad int, sample []string, err error) {
	pending := make([]string, 0, len(want))
	for k := range want {
		pending = append(pending, k)
	}
	sort.Strings(pending)
	deadline := time.Now().Add(5 * time.Second)
	for round := 0; len(pending) > 0; round++ {
		if round > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		keys := pending
		pending = nil
		for len(keys) > 0 {
			batch := keys[:min(len(keys), 500)]
			keys = keys[len(batch):]
			cmds := make([]*redis.StringCmd, len(batch))
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, k := range batch {
					cmds[i] = p.Get(ctx, k)
				}
				return nil
			})
			if procErrKind(err) == "conn" {
				return 0, nil, err
			}
			for i, k := range batch {
				got, err := cmds[i].Result()
				switch {
				case procErrKind(err) == "retry" && time.Now().Before(deadline):
					pending = append(pending, k)
				case got != want[k]:
					bad++
					if len(sample) < 5 {
						sample = append(sample, fmt.Sprintf("%s = %q (want %q, %v)", k, got, want[k], err))
					}
				}
			}
		}
	}
	return bad, sample, nil
}

// getRetry is GET key through c, retrying retryable refusals for up to 5 s.
func getRetry(c *redis.Client, key string) (string, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := c.Get(ctx, key).Result()
		if procErrKind(err) != "retry" || time.Now().After(deadline) {
			return v, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill -9 under load at QUORUM.

const (
	killWorkers  = 4
	killCounters = 10
)

// Phases of the kill test's load.
const (
	phaseAllUp     = iota // every node alive and ready
	phaseKilled           // a node was killed; the survivors may not know yet
	phaseTakenOver        // the survivors serve every slot
)

func killCounter(i int) string { return fmt.Sprintf("kill:counter:%d", i) }

// killLoad is what the load of TestClusterProcess_KillUnderLoad did: the
// writes acknowledged, and for the counters the INCRs that may have been
// applied (acknowledged, UNCERTAIN, or lost with their connection).
type killLoad struct {
	phase atomic.Int32 // phaseAllUp, then phaseKilled, then phaseTakenOver

	mu         sync.Mutex
	sets       map[string]string // acknowledged SETs
	acked      [killCounters]int
	ackedLate  [killCounters]int            // acknowledged after the takeover
	attempted  [killCounters]int            // INCRs that may have been applied
	returned   [killCounters]map[int64]bool // values of acknowledged INCRs
	duplicates []string                     // INCRs acknowledged with a value already returned
	uncertain  [3]int                       // UNCERTAIN replies per phase
	lost       int                          // writes whose connection failed
	retried    int                          // TRYAGAIN, CLUSTERDOWN, NOREPLICAS
	unexpected []string
}

func newKillLoad() *killLoad {
	l := &killLoad{sets: map[string]string{}}
	for i := range l.returned {
		l.returned[i] = map[int64]bool{}
	}
	return l
}

// procErrKind sorts a command's outcome: "ok", "retry" (refused, nothing
// applied), "uncertain", "conn" (no reply: outcome unknown) or "error".
func procErrKind(err error) string {
	var rerr redis.Error
	switch {
	case err == nil:
		return "ok"
	case !errors.As(err, &rerr):
		return "conn"
	}
	word, _, _ := strings.Cut(err.Error(), " ")
	switch word {
	case "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS":
		return "retry"
	case "UNCERTAIN":
		return "uncertain"
	}
	return "error"
}

// run is one client goroutine: it alternates SETs of new keys and INCRs of
// random counters through one node, retrying refused commands, and moves to
// another node when its node's connection fails.
func (l *killLoad) run(w int, addrs []string, stop <-chan struct{}) {
	clients := make([]*redis.Client, len(addrs))
	for i, a := range addrs {
		clients[i] = redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1, PoolSize: 1,
			DialTimeout: 500 * time.Millisecond, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
		defer clients[i].Close()
	}
	down := make([]bool, len(addrs))
	cur := w % len(addrs)
	rng := rand.New(rand.NewPCG(uint64(w), 7))
	for seq := 0; ; seq++ {
		key, val, counter := fmt.Sprintf("kill:w%d:%d", w, seq), fmt.Sprintf("v%d-%d", w, seq), -1
		if seq%2 == 1 {
			counter = rng.IntN(killCounters)
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			var n int64
			var err error
			if counter < 0 {
				err = clients[cur].Set(ctx, key, val, 0).Err()
			} else {
				n, err = clients[cur].Incr(ctx, killCounter(counter)).Result()
			}
			kind := procErrKind(err)
			if kind == "retry" {
				l.mu.Lock()
				l.retried++
				l.mu.Unlock()
				time.Sleep(20 * time.Millisecond)
				continue
			}
			l.record(key, val, counter, n, kind, err)
			if kind == "conn" {
				down[cur] = true
				cur = nextUp(down, cur)
			}
			break
		}
	}
}

// record notes the outcome of one SET (counter < 0) or INCR.
func (l *killLoad) record(key, val string, counter int, n int64, kind string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch kind {
	case "uncertain":
		l.uncertain[l.phase.Load()]++
	case "conn":
		l.lost++
	case "error":
		l.unexpected = append(l.unexpected, err.Error())
	}
	if counter < 0 {
		if kind == "ok" {
			l.sets[key] = val
		}
		return
	}
	l.attempted[counter]++
	if kind != "ok" {
		return
	}
	l.acked[counter]++
	if l.phase.Load() == phaseTakenOver {
		l.ackedLate[counter]++
	}
	if l.returned[counter][n] {
		l.duplicates = append(l.duplicates, fmt.Sprintf("%s returned %d twice", killCounter(counter), n))
	}
	l.returned[counter][n] = true
}

// nextUp returns the next node after cur not marked down (clearing the
// marks if every node is).
func nextUp(down []bool, cur int) int {
	for k := 1; k <= len(down); k++ {
		if j := (cur + k) % len(down); !down[j] {
			return j
		}
	}
	clear(down)
	return (cur + 1) % len(down)
}

// checkCounters checks each counter read through c against the load: at
// least its acknowledged INCRs and the highest value one returned, at most
// the INCRs that may have been applied. It returns the values read.
func (l *killLoad) checkCounters(t *testing.T, c *redis.Client, via string) [killCounters]int64 {
	t.Helper()
	var got [killCounters]int64
	for i := range killCounters {
		text, err := getRetry(c, killCounter(i))
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Errorf("GET %s through %s: %v", killCounter(i), via, err)
			continue
		}
		v, _ := strconv.ParseInt(text, 10, 64)
		low := int64(l.acked[i])
		for n := range l.returned[i] {
			low = max(low, n)
		}
		if v < low || v > int64(l.attempted[i]) {
			t.Errorf("%s = %d through %s; want within [%d acknowledged, %d attempted]", killCounter(i), v, via, low, l.attempted[i])
		}
		got[i] = v
	}
	return got
}

// A node killed with SIGKILL while four clients write at QUORUM loses no
// acknowledged write: the survivors take over its slots and serve them, and
// once restarted on its directory the node catches up with everything
// written while it was down.
func TestClusterProcess_KillUnderLoad(t *testing.T) {
	pc := startProcCluster(t, 3, "appendfsync", "always")
	victim := pc.primaryOf(killCounter(0))
	var survivors []int
	var addrs []string
	for i, p := range pc.nodes {
		addrs = append(addrs, p.addr())
		if i != victim {
			survivors = append(survivors, i)
		}
	}

	load := newKillLoad()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range killWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			load.run(w, addrs, stop)
		}()
	}
	time.Sleep(1500 * time.Millisecond) // the load runs for a while before the kill; not an assertion
	load.phase.Store(phaseKilled)
	pc.kill(victim)
	killed := time.Now()
	pc.waitReady(survivors...)
	t.Logf("survivors took over node %d's slots %v after the kill", victim, time.Since(killed).Round(time.Millisecond))
	load.phase.Store(phaseTakenOver)
	time.Sleep(2 * time.Second) // the load goes on against the survivors; not an assertion
	close(stop)
	wg.Wait()

	l := load
	totalAcked := 0
	for i := range killCounters {
		totalAcked += l.acked[i]
	}
	t.Logf("load: %d SETs and %d INCRs acknowledged; UNCERTAIN replies %v (all up, killed, taken over); "+
		"%d lost with their connection, %d refused and retried", len(l.sets), totalAcked, l.uncertain, l.lost, l.retried)
	if len(l.sets) == 0 || totalAcked == 0 {
		t.Fatal("nothing was acknowledged; the test proved nothing")
	}
	if l.ackedLate[0] == 0 {
		t.Errorf("no INCR of %s (primary killed) was acknowledged after the takeover", killCounter(0))
	}
	if l.uncertain[phaseAllUp] > 0 {
		t.Errorf("%d UNCERTAIN replies while every node was up and ready", l.uncertain[phaseAllUp])
	}
	if len(l.unexpected) > 0 {
		t.Errorf("%d unexpected error replies, e.g. %q", len(l.unexpected), l.unexpected[0])
	}
	if len(l.duplicates) > 0 {
		t.Errorf("acknowledged INCRs returned the same value: %v", l.duplicates)
	}

	var final [killCounters]int64
	for _, i := range survivors {
		c := pc.client(i, "")
		bad, sample, err := readBack(c, l.sets)
		must(t, err)
		if bad > 0 {
			t.Fatalf("through node %d: %d of %d acknowledged SETs lost, e.g. %v", i, bad, len(l.sets), sample)
		}
		got := l.checkCounters(t, c, fmt.Sprintf("node %d", i))
		if i != survivors[0] && got != final {
			t.Errorf("the survivors disagree on the counters: %v through node %d, %v through node %d", final, survivors[0], got, i)
		}
		final = got
	}

	// Restart the victim on its directory and ports; it must catch up.
	pc.start(victim)
	restarted := time.Now()
	pollUntil(t, 30*time.Second, "INFO cluster on every node to show 3 members alive", func() (bool, string) {
		for i := range pc.nodes {
			f, err := pc.fields(i, "INFO", "cluster")
			if err != nil || f["cluster_members_alive"] != "3" {
				return false, fmt.Sprintf("node %d: cluster_members_alive:%s (%v)", i, f["cluster_members_alive"], err)
			}
		}
		return true, ""
	})
	pc.waitReady(pc.all()...)
	want := maps.Clone(l.sets)
	for i := range killCounters {
		if final[i] != 0 {
			want[killCounter(i)] = strconv.FormatInt(final[i], 10)
		}
	}
	// At ONE a node answers from its own store once it is fresh for the
	// slot (synced since its start); every node replicates every slot here.
	one := pc.client(victim, "ONE")
	pollUntil(t, 20*time.Second, fmt.Sprintf("the restarted node %d to hold every acknowledged write", victim), func() (bool, string) {
		f, err := pc.fields(victim, "CLUSTER", "INFO")
		if err != nil || f["cluster_slots_fresh"] != strconv.Itoa(store.SlotCount) {
			return false, fmt.Sprintf("cluster_slots_fresh:%s (%v)", f["cluster_slots_fresh"], err)
		}
		bad, sample, err := readBack(one, want)
		return err == nil && bad == 0, fmt.Sprintf("%d of %d keys differ at ONE (%v), e.g. %v", bad, len(want), err, sample)
	})
	t.Logf("node %d caught up %v after its restart", victim, time.Since(restarted).Round(time.Millisecond))
	for _, i := range pc.all() {
		if got := l.checkCounters(t, pc.client(i, ""), fmt.Sprintf("node %d after the restart", i)); got != final {
			t.Errorf("after the restart node %d reads the counters as %v, before it %v", i, got, final)
		}
	}
}

// Cluster-aware clients.

// The cluster's clients: every node describes the same slot map; go-redis
// ClusterClient (RESP2 and RESP3) and plain clients of each node, and
// redis-cli -c, read and write through it.
func TestClusterProcess_Clients(t *testing.T) {
	pc := startProcCluster(t, 3)
	t.Run("slots", func(t *testing.T) { procCheckSlots(t, pc) })
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("ClusterClient/resp%d", proto), func(t *testing.T) { procClusterClient(t, pc, proto) })
	}
	t.Run("redis-cli", func(t *testing.T) { procRedisCLI(t, pc) })
}

// procCheckSlots checks that every node's CLUSTER SLOTS is the same map:
// all 16384 slots in order, each with its primary alone (replicas are not
// advertised), and each node master of some.
func procCheckSlots(t *testing.T, pc *procCluster) {
	var first []redis.ClusterSlot
	for i := range pc.nodes {
		slots, err := pc.client(i, "").ClusterSlots(ctx).Result()
		must(t, err)
		if i == 0 {
			first = slots
			continue
		}
		if fmt.Sprint(slots) != fmt.Sprint(first) {
			t.Fatalf("node %d's CLUSTER SLOTS differs from node 0's:\n%v\n%v", i, slots, first)
		}
	}
	addrs := map[string]bool{}
	for _, p := range pc.nodes {
		addrs[p.addr()] = true
	}
	masters := map[string]bool{}
	next := 0
	for _, r := range first {
		if r.Start != next || r.End < r.Start {
			t.Fatalf("range %d-%d follows slot %d", r.Start, r.End, next-1)
		}
		next = r.End + 1
		seen := map[string]bool{}
		for _, n := range r.Nodes {
			if !addrs[n.Addr] || seen[n.Addr] {
				t.Fatalf("range %d-%d lists %v", r.Start, r.End, r.Nodes)
			}
			seen[n.Addr] = true
		}
		if len(r.Nodes) != 1 {
			t.Fatalf("range %d-%d has %d nodes, want its primary alone", r.Start, r.End, len(r.Nodes))
		}
		masters[r.Nodes[0].Addr] = true
	}
	if next != store.SlotCount || len(masters) != 3 {
		t.Fatalf("CLUSTER SLOTS covers slots 0-%d with %d masters; want 0-16383 with 3", next-1, len(masters))
	}
}

// procClusterClient runs a session of go-redis's ClusterClient and checks
// what it wrote through plain clients of every node.
func procClusterClient(t *testing.T, pc *procCluster, proto int) {
	var addrs []string
	for _, p := range pc.nodes {
		addrs = append(addrs, p.addr())
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Protocol: proto,
		DialTimeout: time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	defer cc.Close()
	pre := fmt.Sprintf("cc%d:", proto)
	want := map[string]string{}

	for i := range 300 {
		k, v := fmt.Sprintf("%skey:%d", pre, i), fmt.Sprintf("value-%d", i)
		if err := cc.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatalf("SET %s (slot %d): %v", k, cluster.KeySlot([]byte(k)), err)
		}
		want[k] = v
	}
	for k, v := range want {
		if got, err := cc.Get(ctx, k).Result(); err != nil || got != v {
			t.Fatalf("GET %s = %q, %v; want %q", k, got, err, v)
		}
	}
	for round := 1; round <= 3; round++ {
		for i := range 50 {
			k := fmt.Sprintf("%scounter:%d", pre, i)
			if n, err := cc.Incr(ctx, k).Result(); err != nil || n != int64(round) {
				t.Fatalf("INCR %s = %d, %v; want %d", k, n, err, round)
			}
			want[k] = strconv.Itoa(round)
		}
	}
	for b := range 20 {
		k := fmt.Sprintf("%sboard:%d", pre, b)
		for m := range 10 {
			must(t, cc.ZAdd(ctx, k, redis.Z{Score: float64(m * (b + 1)), Member: fmt.Sprintf("player:%d", m)}).Err())
		}
		for m := range 10 {
			if r, err := cc.ZRevRank(ctx, k, fmt.Sprintf("player:%d", m)).Result(); err != nil || r != int64(9-m) {
				t.Fatalf("ZREVRANK %s player:%d = %d, %v; want %d", k, m, r, err, 9-m)
			}
		}
	}

	// A pipeline over many slots: the client splits it by node.
	sets := map[string]*redis.StatusCmd{}
	_, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 200 {
			k := fmt.Sprintf("%spipe:%d", pre, i)
			sets[k] = p.Set(ctx, k, i, 0)
			want[k] = strconv.Itoa(i)
		}
		return nil
	})
	must(t, err)
	gets := map[string]*redis.StringCmd{}
	_, err = cc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for k := range sets {
			gets[k] = p.Get(ctx, k)
		}
		return nil
	})
	must(t, err)
	for k, g := range gets {
		if g.Val() != want[k] || sets[k].Val() != "OK" {
			t.Fatalf("pipelined SET %s = %q, GET = %q; want OK, %q", k, sets[k].Val(), g.Val(), want[k])
		}
	}

	// A transaction within one hashtag runs on its slot's primary.
	a, b := "{"+pre+"user}:name", "{"+pre+"user}:visits"
	var get *redis.StringCmd
	var incr *redis.IntCmd
	_, err = cc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, a, "ada", 0)
		incr = p.IncrBy(ctx, b, 5)
		get = p.Get(ctx, a)
		return nil
	})
	must(t, err)
	if incr.Val() != 5 || get.Val() != "ada" {
		t.Fatalf("MULTI/EXEC: INCRBY = %d, GET = %q; want 5, ada", incr.Val(), get.Val())
	}
	want[a], want[b] = "ada", "5"

	var masters atomic.Int32
	must(t, cc.ForEachMaster(ctx, func(ctx2 context.Context, c *redis.Client) error {
		masters.Add(1)
		return c.Ping(ctx2).Err()
	}))
	if masters.Load() != 3 {
		t.Fatalf("ForEachMaster visited %d masters, want 3", masters.Load())
	}

	// Every node serves every key to a plain client.
	for i := range pc.nodes {
		bad, sample, err := readBack(pc.client(i, ""), want)
		must(t, err)
		if bad > 0 {
			t.Errorf("through node %d: %d of %d keys differ, e.g. %v", i, bad, len(want), sample)
		}
		k := fmt.Sprintf("%splain:%d", pre, i)
		must(t, pc.client(i, "").Set(ctx, k, i, 0).Err())
		if got, err := cc.Get(ctx, k).Result(); err != nil || got != strconv.Itoa(i) {
			t.Errorf("ClusterClient GET %s (written through node %d) = %q, %v", k, i, got, err)
		}
	}
}

// procRedisCLI runs a scripted redis-cli -c session against node 0 over
// keys in different slots and checks its output, then reads the keys back
// through the other nodes.
func procRedisCLI(t *testing.T, pc *procCluster) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-cli is required in CI (scripts/test-deps.sh installs redis-tools)")
		}
		t.Skip("SKIPPED: redis-cli not installed, so the redis-cli -c session was not tested (make test installs it)")
	}
	keys := []string{"cli:a", "cli:b", "cli:n", "cli:z", "cli:missing"}
	slots := map[uint16]bool{}
	for _, k := range keys {
		slots[cluster.KeySlot([]byte(k))] = true
	}
	if len(slots) != len(keys) {
		t.Fatalf("the session's keys share slots: %v", slots)
	}
	session := []struct{ cmd, out string }{
		{"SET cli:a 1", "OK"},
		{"SET cli:b hello", "OK"},
		{"GET cli:a", "1"},
		{"GET cli:b", "hello"},
		{"INCR cli:n", "1"},
		{"INCR cli:n", "2"},
		{"ZADD cli:z 3 three 1 one 2 two", "3"},
		{"ZRANGE cli:z 0 -1", "one\ntwo\nthree"},
		{"ZRANGE cli:z 0 -1 WITHSCORES", "one\n1\ntwo\n2\nthree\n3"},
		{"ZINCRBY cli:z 10 one", "11"},
		{"ZREVRANGE cli:z 0 0", "one"},
		{"GET cli:missing", ""},
		{"CLUSTER KEYSLOT cli:a", strconv.Itoa(int(cluster.KeySlot([]byte("cli:a"))))},
	}
	var in, want strings.Builder
	for _, s := range session {
		in.WriteString(s.cmd + "\n")
		want.WriteString(s.out + "\n")
	}
	run := func(port int, stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, append([]string{"-c", "-h", "127.0.0.1", "-p", strconv.Itoa(port)}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	if got := run(pc.nodes[0].port, in.String()); got != want.String() {
		t.Fatalf("redis-cli -c session:\n got %q\nwant %q", got, want.String())
	}
	for i, p := range pc.nodes[1:] {
		got := run(p.port, "", "MGET", "cli:a", "cli:b", "cli:n", "cli:missing")
		if want := "1\nhello\n2\n\n"; got != want {
			t.Errorf("redis-cli -c -p <node %d> MGET = %q, want %q", i+1, got, want)
		}
		if got := run(p.port, "", "ZRANGE", "cli:z", "0", "-1"); got != "two\nthree\none\n" {
			t.Errorf("redis-cli -c -p <node %d> ZRANGE = %q", i+1, got)
		}
	}
}
