package commands

import (
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"cairn/cluster"
)

// In-process clusters for tests: nodes on loopback with fast gossip
// timings, sharing one Faults so a test can drop or delay traffic between
// any two nodes.

// testCluster is a running in-process cluster.
type testCluster struct {
	t      testing.TB
	Nodes  []*Node
	Dirs   []string
	Faults *cluster.Faults
	extra  []string // settings applied to every node
	// Unfenced starts nodes without the replicas' ballot check (set before
	// starting nodes; see NodeOptions.Unfenced).
	Unfenced bool
}

// startCluster starts n nodes (N=3, W=2, R=2 unless settings say
// otherwise), joins them and waits until every slot has a ready primary.
func startCluster(t testing.TB, n int, settings ...string) *testCluster {
	t.Helper()
	return newTestCluster(t, settings...).grow(n)
}

// newTestCluster returns a cluster with no node yet.
func newTestCluster(t testing.TB, settings ...string) *testCluster {
	return &testCluster{t: t, Faults: cluster.NewFaults(), extra: settings}
}

// grow starts n nodes, joins them and waits until the cluster is ready.
func (tc *testCluster) grow(n int) *testCluster {
	tc.t.Helper()
	for range n {
		i := len(tc.Nodes)
		tc.Dirs = append(tc.Dirs, tc.t.TempDir())
		tc.Nodes = append(tc.Nodes, nil)
		tc.Nodes[i] = tc.start(i)
	}
	tc.waitReady()
	return tc
}

// start starts node i in its directory, joining node 0 (or any live node).
func (tc *testCluster) start(i int) *Node {
	tc.t.Helper()
	cfg := NewConfig()
	must(tc.t, cfg.Set("port", "0"))
	must(tc.t, cfg.Set("dir", tc.Dirs[i]))
	must(tc.t, cfg.Set("cluster-enabled", "yes"))
	must(tc.t, cfg.Set("cluster-node-timeout", "2000"))
	must(tc.t, cfg.Set("cluster-anti-entropy-interval", "500"))
	for j := 0; j+1 < len(tc.extra); j += 2 {
		must(tc.t, cfg.Set(tc.extra[j], tc.extra[j+1]))
	}
	for _, n := range tc.live() {
		if n != tc.Nodes[i] && n.Cluster != nil {
			must(tc.t, cfg.Set("join", n.Cluster.Membership().Self().Bus))
			break
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", i)
	}
	n, err := StartNodeWith(cfg, log, NodeOptions{
		Faults: tc.Faults, GossipTuning: cluster.FastGossip, RejoinInterval: 500 * time.Millisecond, Unfenced: tc.Unfenced,
	})
	if err != nil {
		tc.t.Fatalf("start node %d: %v", i, err)
	}
	tc.t.Cleanup(func() {
		n.Close()
		if p := n.Cmd.Panics(); p != 0 {
			tc.t.Errorf("node %d: %d handler panic(s) were recovered; see the log (CAIRN_TEST_LOG=1)", i, p)
		}
	})
	return n
}

// ID is node i's cluster ID.
func (tc *testCluster) ID(i int) string { return tc.Nodes[i].Cluster.Self() }

// live returns the nodes not stopped.
func (tc *testCluster) live() []*Node {
	var out []*Node
	for _, n := range tc.Nodes {
		if n != nil {
			select {
			case <-n.Done():
			default:
				out = append(out, n)
			}
		}
	}
	return out
}

// waitReady waits until the live nodes agree on membership and liveness
// and each holds every slot it is primary of.
func (tc *testCluster) waitReady() {
	tc.t.Helper()
	live := tc.live()
	waitFor(tc.t, 20*time.Second, "the cluster to be ready", func() bool {
		for _, n := range live {
			v := n.Cluster.View()
			alive := 0
			for _, a := range v.Alive {
				if a {
					alive++
				}
			}
			if alive != len(live) || !n.Cluster.Ready() {
				return false
			}
		}
		return true
	})
}

// stop closes node i (a clean shutdown).
func (tc *testCluster) stop(i int) {
	tc.Nodes[i].Close()
}

// restart starts node i again in its directory.
func (tc *testCluster) restart(i int) {
	tc.Nodes[i] = tc.start(i)
}
