package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"cairn/store"
)

// Options configure a cluster node. Zero values take the documented defaults.
type Options struct {
	Store   *store.Store // this node's store (required)
	Dir     string       // data directory: cluster.json lives here (required)
	Addr    string       // advertised client address host:port, also used by peers (required)
	BusBind string       // gossip bind host:port; port 0 picks one
	Join    []string     // gossip addresses of members to join at start
	Key     []byte       // optional cluster key: encrypts gossip and authenticates peers
	Name    string       // cluster name (gossip label); default "cairn"
	VNodes  int          // ring tokens per node; default 128
	// N is the number of replicas of each slot (default 3); W and R the
	// replicas a write and a read wait for by default (default 2 and 2).
	// All three are capped at the number of ring members.
	N, W, R int
	// ReplicationTimeout bounds the wait for replica acknowledgements and
	// peer calls on the request path (default 2s).
	ReplicationTimeout time.Duration
	// AntiEntropyInterval is the period of slot digest comparison (default 10s).
	AntiEntropyInterval time.Duration
	AutoRemoveAfter     time.Duration // see MembershipOptions
	RejoinInterval      time.Duration // see MembershipOptions
	Faults              *Faults       // tests only
	Tuning              func(*memberlist.Config)
	// Unfenced disables the replicas' ballot checks: writes of older
	// ballots are installed, and promises go to any node asking. It exists
	// only so a test can show that the linearizability checker catches
	// their absence.
	Unfenced bool
	Logger   *slog.Logger
}

// Cluster is this node's part of a cluster: membership, the ring, and the
// coordinator that runs reads and writes with quorum replication.
//
// Ownership: the view is an immutable snapshot swapped atomically by the
// view loop, the only writer. held and fresh are per-slot atomics written by
// the primary loop (acquisition, step-down) and the sync loop; request
// goroutines only read them. inflight has its own mutex, taken inside the
// store's lock (never the other way round).
type Cluster struct {
	opts  Options
	st    *store.Store
	ml    *Membership
	peers *Peers
	log   *slog.Logger
	self  string

	view atomic.Pointer[View]
	// held[s] is the ballot N this node holds as the ready primary of slot
	// s (caught up, majority promised), or 0.
	held [store.SlotCount]atomic.Uint64
	// fresh[s] says this replica has synced slot s from its primary since it
	// started or became a replica of it, so it may serve reads at ONE.
	fresh [store.SlotCount]atomic.Bool

	inflight    inflight
	stats       counters
	ringChanged atomic.Int64  // unix ns of the last ring change seen, or of the start
	leaving     atomic.Bool   // Leave was called: hold no slot any more
	kick        chan struct{} // wakes the primary loop
	stop        chan struct{}
	// bg is cancelled by Close: it bounds the peer calls of background work.
	bg       context.Context
	cancelBG context.CancelFunc
	wg       sync.WaitGroup // background loops
	work     sync.WaitGroup // request-path goroutines that may touch the store
}

// Errors of the request path. The retryable ones (TRYAGAIN, CLUSTERDOWN,
// NOREPLICAS) are returned only when nothing was applied.
var (
	ErrTryAgain   = errors.New("TRYAGAIN the slot's primary is changing; nothing was applied")
	ErrDown       = errors.New("CLUSTERDOWN no live replica of the slot; nothing was applied")
	ErrNoReplicas = errors.New("NOREPLICAS not enough live replicas for the requested consistency; nothing was applied")
	ErrNoMajority = errors.New("CLUSTERDOWN too few of the slot's replicas are alive to elect its primary; nothing was applied")
	// ErrUncertain: the write was applied on this node but not acknowledged
	// by enough replicas in time. It may or may not survive; do not retry
	// blindly.
	ErrUncertain = errors.New("UNCERTAIN the write reached fewer replicas than its quorum in time; its outcome is unknown")
)

// Start joins (or founds) the cluster.
func Start(o Options) (*Cluster, error) {
	if o.Store == nil || o.Dir == "" || o.Addr == "" {
		return nil, errors.New("cluster: Store, Dir and Addr are required")
	}
	if o.Name == "" {
		o.Name = "cairn"
	}
	if o.N <= 0 {
		o.N = 3
	}
	if o.W <= 0 {
		o.W = 2
	}
	if o.R <= 0 {
		o.R = 2
	}
	if o.W > o.N || o.R > o.N {
		return nil, fmt.Errorf("cluster: W (%d) and R (%d) must not exceed N (%d)", o.W, o.R, o.N)
	}
	if o.ReplicationTimeout <= 0 {
		o.ReplicationTimeout = 2 * time.Second
	}
	if o.AntiEntropyInterval <= 0 {
		o.AntiEntropyInterval = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	ml, err := StartMembership(MembershipOptions{
		Dir: o.Dir, Addr: o.Addr, BusBind: o.BusBind, Key: o.Key, ClusterName: o.Name,
		AutoRemoveAfter: o.AutoRemoveAfter, RejoinInterval: o.RejoinInterval,
		Faults: o.Faults, Tuning: o.Tuning, Logger: o.Logger,
	})
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		opts: o, st: o.Store, ml: ml, log: o.Logger, self: ml.Self().ID,
		kick: make(chan struct{}, 1), stop: make(chan struct{}),
	}
	c.inflight.init()
	c.ringChanged.Store(time.Now().UnixNano())
	c.bg, c.cancelBG = context.WithCancel(context.Background())
	c.peers = NewPeers(PeerOptions{Self: c.self, Hello: c.hello, Faults: o.Faults, Logger: o.Logger})
	c.refreshView()
	if len(o.Join) > 0 {
		if err := ml.Join(o.Join); err != nil {
			c.Close()
			return nil, fmt.Errorf("cluster: join %s: %w", strings.Join(o.Join, ","), err)
		}
		c.refreshView()
	}
	c.wg.Add(3)
	go c.viewLoop()
	go c.primaryLoop()
	go c.repairLoop()
	return c, nil
}

// leaveGrace is how long Leave waits, after leaving the gossip, for the
// other nodes to notice before the node stops answering.
const leaveGrace = time.Second

// Leave hands this node's slots over before a clean shutdown: it stops
// serving as a primary (requests get TRYAGAIN: nothing applied), waits for
// the writes in flight to be acknowledged, leaves the gossip so the other
// nodes take its slots over, and gives them leaveGrace to notice, during
// which requests still reaching it get TRYAGAIN rather than a closed
// connection. Close must still be called.
func (c *Cluster) Leave() {
	c.leaving.Store(true)
	for s := range c.held {
		c.held[s].Store(0)
	}
	deadline := time.Now().Add(2 * c.opts.ReplicationTimeout)
	for c.inflight.len() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	c.ml.Close()
	time.Sleep(leaveGrace)
}

// Close leaves the cluster and stops background work. The store stays open.
func (c *Cluster) Close() error {
	select {
	case <-c.stop:
		return nil
	default:
	}
	close(c.stop)
	c.cancelBG()
	err := c.ml.Close()
	c.wg.Wait()
	c.peers.Close()
	c.work.Wait()
	return err
}

// Self is this node's ID.
func (c *Cluster) Self() string { return c.self }

// Membership is the gossip layer (CLUSTER MEET, FORGET).
func (c *Cluster) Membership() *Membership { return c.ml }

// View is the current snapshot of ring and liveness.
func (c *Cluster) View() *View { return c.view.Load() }

// Peers is the peer transport, for forwarding commands.
func (c *Cluster) Peers() *Peers { return c.peers }

// Timeout bounds request-path waits on peers.
func (c *Cluster) Timeout() time.Duration { return c.opts.ReplicationTimeout }

// hello is the first command on every peer connection: it names this node
// and proves knowledge of the cluster key (see PeerToken).
func (c *Cluster) hello() [][]byte {
	return [][]byte{[]byte("CAIRN.PEER"), []byte(c.self), []byte(PeerToken(c.opts.Key, c.self))}
}

// viewLoop rebuilds the view whenever membership changes.
func (c *Cluster) viewLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		case <-c.ml.Changes():
			c.refreshView()
		}
	}
}

// refreshView builds a new view from membership and, if the ring or the
// liveness changed, swaps it in and wakes the primary loop.
func (c *Cluster) refreshView() {
	old := c.view.Load()
	if old != nil && c.opts.Faults.ViewFrozen(c.self) {
		return
	}
	rs := c.ml.Ring()
	v := newView(c.self, rs, c.ml.Alive, c.opts, old)
	if old != nil && old.sameAs(v) {
		return
	}
	c.view.Store(v)
	if old != nil && old.Ring != v.Ring {
		c.log.Info("ring changed", "epoch", v.Epoch, "members", len(v.Members))
		for id, m := range old.Members {
			if nm, ok := v.Members[id]; !ok || nm.Addr != m.Addr {
				c.peers.Forget(id)
			}
		}
		c.onRingChange(old, v)
	}
	c.wakePrimary()
}

func (c *Cluster) wakePrimary() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// call sends one command to a peer with the request-path timeout.
func (c *Cluster) call(ctx context.Context, id string, args ...[]byte) (respValue, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ReplicationTimeout)
	defer cancel()
	return c.Call(ctx, id, args...)
}

// Call sends one command to node id and waits for its reply until ctx
// ends. An error reply comes back as the error.
func (c *Cluster) Call(ctx context.Context, id string, args ...[]byte) (respValue, error) {
	m, ok := c.View().Members[id]
	if !ok {
		return respValue{}, fmt.Errorf("cluster: unknown node %s", id)
	}
	v, err := c.peers.Call(ctx, id, m.Addr, args...)
	if err == nil {
		err = v.Err()
	}
	return v, err
}
