package cluster

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Membership runs the two membership layers of a node, which never mix:
//
//   - The ring (RingState): which nodes own data. It changes only by an
//     explicit Join, Meet or Forget, by the optional auto-remove, or when
//     memberlist reports a node the ring has never heard of. Changes are
//     written with Ver = Epoch+1 (a node merely reported by memberlist gets
//     Ver 0, see livenessEvents.NotifyJoin), gossiped (one record per
//     broadcast, plus the whole state on every memberlist push-pull) and
//     persisted in Dir/cluster.json.
//   - Liveness: which nodes memberlist currently lists as alive. It only
//     decides whom to contact; a dead node stays in the ring.
//
// Ownership: mu guards the ring state and the liveness map; both are
// written by the memberlist callbacks (the adapters ringDelegate and
// livenessEvents) and by the public methods. Nothing calls memberlist while
// holding mu, and the callbacks never call memberlist, so memberlist's
// locks and mu never nest the other way round. Callbacks only update state
// and signal: writing cluster.json is the persister goroutine's job, and
// re-joining and auto-removing are the maintainer goroutine's.
type Membership struct {
	id, addr, bus   string // this node: ID, client address, advertised gossip address
	dir             string
	autoRemoveAfter time.Duration
	rejoinInterval  time.Duration
	log             *slog.Logger

	ml         *memberlist.Memberlist
	broadcasts *memberlist.TransmitLimitedQueue // ring records waiting to be gossiped
	numAlive   atomic.Int64                     // len(mu.alive), for broadcasts.NumNodes (called under the queue's lock)

	changes chan struct{} // capacity 1: ring or liveness changed
	dirty   chan struct{} // capacity 1: ring changed, cluster.json is stale
	done    chan struct{} // closed by Close: the goroutines exit
	wg      sync.WaitGroup
	closed  sync.Once

	persistMu sync.Mutex // serializes writes of cluster.json; taken before mu

	mu struct {
		sync.Mutex
		ring  RingState
		alive map[string]bool // node IDs memberlist lists as alive, self included
	}
}

// MembershipOptions configure StartMembership.
type MembershipOptions struct {
	Dir  string // data directory; cluster.json lives here (required)
	Addr string // this node's client address host:port (required)
	// BusBind is the gossip bind address host:port; port 0 picks a free
	// port (the real one is advertised). Default: Addr's host and Addr's
	// port + 10000, as the Redis Cluster bus.
	BusBind string
	// Key is the optional cluster key: gossip is encrypted with
	// AES-256 under SHA-256(Key), and nodes without it cannot join.
	Key []byte
	// ClusterName labels every gossip packet and stream (memberlist
	// Config.Label); nodes with another name cannot join. Default "cairn".
	ClusterName string
	// AutoRemoveAfter: a ring member that memberlist has not listed as
	// alive for this long is forgotten, by any node that sees a majority of
	// the active members (itself included) alive. 0 = never.
	AutoRemoveAfter time.Duration
	// RejoinInterval is the period at which the node joins the gossip
	// addresses of active ring members that memberlist does not list as
	// alive, so partitions heal and restarted nodes find the cluster.
	// Default 10s.
	RejoinInterval time.Duration
	Faults         *Faults                  // tests: faults injected on the gossip transport, by node ID
	Tuning         func(*memberlist.Config) // tests pass FastGossip; nil = memberlist.DefaultLANConfig timings
	Logger         *slog.Logger             // memberlist's log goes here at debug level; default slog.Default()
}

// MembershipStats is the membership summary for INFO.
type MembershipStats struct {
	Epoch   uint64 // ring epoch
	Members int    // active ring members, self included
	Alive   int    // active ring members memberlist lists as alive, self included
	Gossip  string // this node's advertised gossip address host:port
}

// Errors of Forget, for CLUSTER FORGET.
var (
	ErrForgetSelf  = errors.New("cluster: a node can't forget itself")
	ErrUnknownNode = errors.New("cluster: unknown node")
)

const (
	defaultClusterName    = "cairn"
	defaultRejoinInterval = 10 * time.Second
	busPortOffset         = 10000 // default gossip port = client port + busPortOffset
	// deadNodeReclaimTime lets a node that died take its name back from a
	// new address (a restart elsewhere) after this long; memberlist's
	// default, 0, refuses it forever.
	deadNodeReclaimTime = 30 * time.Second
	leaveTimeout        = time.Second // Close waits this long for the leave broadcast

)

// FastGossip sets memberlist timings for loopback tests: a node that stops
// answering is declared dead within about 2 s of its last answer (probe
// every 300 ms with a 250 ms timeout, suspicion of 2 probe intervals), and
// gossip, push-pull and the leave of a closed node spread in a few hundred
// milliseconds. The probe timeout is generous because tests run with the
// race detector on loaded machines, where a live node can take 100 ms to
// answer: a false suspicion moves slot primaries and fails requests.
func FastGossip(c *memberlist.Config) {
	c.TCPTimeout = time.Second
	c.ProbeInterval = 300 * time.Millisecond
	c.ProbeTimeout = 250 * time.Millisecond
	c.SuspicionMult = 2
	c.SuspicionMaxTimeoutMult = 2
	c.GossipInterval = 20 * time.Millisecond
	c.GossipToTheDeadTime = 500 * time.Millisecond
	c.PushPullInterval = 500 * time.Millisecond
	c.DeadNodeReclaimTime = 500 * time.Millisecond
}

// StartMembership loads (or creates) the node's identity and ring state
// from o.Dir, binds the gossip transport and starts memberlist. The node is
// in its own ring from its first start; it meets others through Join, Meet,
// or (after a restart) the periodic re-join of its persisted ring.
func StartMembership(o MembershipOptions) (*Membership, error) {
	if o.Dir == "" || o.Addr == "" {
		return nil, errors.New("cluster: membership needs Dir and Addr")
	}
	if len(o.Addr) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("cluster: client address %q is too long", o.Addr)
	}
	if o.ClusterName == "" {
		o.ClusterName = defaultClusterName
	}
	if o.RejoinInterval <= 0 {
		o.RejoinInterval = defaultRejoinInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	bindIP, bindPort, err := busBindAddr(o.BusBind, o.Addr)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	f, found, err := loadClusterFile(o.Dir)
	if err != nil {
		return nil, err
	}
	if !found {
		f = clusterFile{ID: newNodeID(), Ring: RingState{Members: make(map[string]Member)}}
	}

	mlLog := slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug)
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{bindIP},
		BindPort:  bindPort,
		Logger:    mlLog,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: gossip bind %s: %w", o.BusBind, err)
	}
	advIP, advPort, err := nt.FinalAdvertiseAddr("", 0)
	if err != nil {
		nt.Shutdown()
		return nil, err
	}

	m := &Membership{
		id:              f.ID,
		addr:            o.Addr,
		bus:             net.JoinHostPort(advIP.String(), strconv.Itoa(advPort)),
		dir:             o.Dir,
		autoRemoveAfter: o.AutoRemoveAfter,
		rejoinInterval:  o.RejoinInterval,
		log:             o.Logger,
		changes:         make(chan struct{}, 1),
		dirty:           make(chan struct{}, 1),
		done:            make(chan struct{}),
	}
	m.mu.ring = f.Ring
	m.mu.alive = make(map[string]bool)

	cfg := memberlist.DefaultLANConfig()
	cfg.DeadNodeReclaimTime = deadNodeReclaimTime
	if o.Tuning != nil {
		o.Tuning(cfg)
	}
	cfg.Name = m.id
	cfg.Transport = &gossipTransport{NetTransport: nt, self: m.id, faults: o.Faults, nodeAt: m.nodeAt}
	cfg.BindAddr, cfg.BindPort = bindIP, advPort
	cfg.AdvertiseAddr, cfg.AdvertisePort = "", advPort
	cfg.Label = o.ClusterName
	if len(o.Key) > 0 {
		sum := sha256.Sum256(o.Key)
		cfg.SecretKey = sum[:]
	}
	cfg.Delegate = ringDelegate{m}
	cfg.Events = livenessEvents{m}
	cfg.Logger = mlLog
	m.broadcasts = &memberlist.TransmitLimitedQueue{
		NumNodes:       func() int { return int(m.numAlive.Load()) },
		RetransmitMult: cfg.RetransmitMult,
	}

	m.mu.Lock()
	m.refreshSelfLocked()
	m.mu.Unlock()
	if err := m.persist(); err != nil {
		nt.Shutdown()
		return nil, err
	}
	if m.ml, err = memberlist.Create(cfg); err != nil {
		nt.Shutdown()
		return nil, fmt.Errorf("cluster: start gossip: %w", err)
	}
	m.wg.Add(2)
	go m.persister()
	go m.maintainer()
	return m, nil
}

// busBindAddr returns the IP and port to bind the gossip transport to.
func busBindAddr(busBind, addr string) (ip string, port int, err error) {
	if busBind == "" {
		host, p, err := net.SplitHostPort(addr)
		if err != nil {
			return "", 0, fmt.Errorf("cluster: client address %q: %w", addr, err)
		}
		n, err := strconv.Atoi(p)
		if err != nil || n+busPortOffset > 65535 {
			return "", 0, fmt.Errorf("cluster: no default gossip port for client address %q", addr)
		}
		busBind = net.JoinHostPort(host, strconv.Itoa(n+busPortOffset))
	}
	a, err := net.ResolveTCPAddr("tcp", busBind)
	if err != nil {
		return "", 0, fmt.Errorf("cluster: gossip address %q: %w", busBind, err)
	}
	if a.IP == nil {
		return "0.0.0.0", a.Port, nil
	}
	return a.IP.String(), a.Port, nil
}

// Self returns this node's ring record.
func (m *Membership) Self() Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.ring.Members[m.id]
}

// Join joins the gossip of the nodes at the given gossip addresses (the
// --join flag) and (re)adds this node to the ring, even if it was removed:
// joining is an explicit ring change, written after the join merged the
// cluster's ring state. It fails if no address answered.
func (m *Membership) Join(bus []string) error {
	if err := m.join(bus); err != nil {
		return err
	}
	return m.persist()
}

// join is Join without persisting.
func (m *Membership) join(bus []string) error {
	if len(bus) > 0 {
		if _, err := m.ml.Join(bus); err != nil {
			return fmt.Errorf("cluster: join %v: %w", bus, err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writeLocked(Member{ID: m.id, Addr: m.addr, Bus: m.bus, Ver: m.mu.ring.Epoch + 1})
	return nil
}

// Meet is CLUSTER MEET: it joins the gossip at bus as Join does, then
// (re)adds to the ring every node found at that address, even one that was
// removed.
func (m *Membership) Meet(bus string) error {
	targets, err := resolveBus(bus)
	if err != nil {
		return err
	}
	if err := m.join([]string{bus}); err != nil {
		return err
	}
	nodes := m.ml.Members()
	found := false
	m.mu.Lock()
	for _, n := range nodes {
		if !targets[n.Address()] || !validID(n.Name) {
			continue
		}
		found = true
		r := Member{ID: n.Name, Addr: string(n.Meta), Bus: n.Address()}
		if cur, ok := m.mu.ring.Members[r.ID]; r.ID == m.id ||
			(ok && !cur.Removed && cur.Addr == r.Addr && cur.Bus == r.Bus) {
			continue
		}
		r.Ver = m.mu.ring.Epoch + 1
		m.writeLocked(r)
	}
	m.mu.Unlock()
	if !found {
		return fmt.Errorf("cluster: meet %s: no node answered at that address", bus)
	}
	return m.persist()
}

// resolveBus returns the set of ip:port strings a gossip address names, in
// the form memberlist.Node.Address uses.
func resolveBus(bus string) (map[string]bool, error) {
	host, port, err := net.SplitHostPort(bus)
	if err != nil {
		return nil, fmt.Errorf("cluster: gossip address %q: %w", bus, err)
	}
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		if ips, err = net.LookupIP(host); err != nil {
			return nil, fmt.Errorf("cluster: gossip address %q: %w", bus, err)
		}
	}
	set := make(map[string]bool, len(ips))
	for _, ip := range ips {
		set[net.JoinHostPort(ip.String(), port)] = true
	}
	return set, nil
}

// Forget is CLUSTER FORGET: it removes node id from the ring (a tombstone
// that wins over older records everywhere). It fails with ErrForgetSelf for
// this node and with ErrUnknownNode for an ID not active in the ring.
func (m *Membership) Forget(id string) error {
	if id == m.id {
		return ErrForgetSelf
	}
	m.mu.Lock()
	r, ok := m.mu.ring.Members[id]
	if !ok || r.Removed {
		m.mu.Unlock()
		return fmt.Errorf("%w %s", ErrUnknownNode, id)
	}
	r.Removed, r.Ver = true, m.mu.ring.Epoch+1
	m.writeLocked(r)
	m.mu.Unlock()
	m.log.Info("cluster: node forgotten", "node", id)
	return m.persist()
}

// Ring returns a deep copy of the ring state.
func (m *Membership) Ring() RingState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.ring.clone()
}

// Alive reports whether memberlist lists node id as alive (suspected nodes
// count as alive, as in memberlist.Members). This node is always alive.
func (m *Membership) Alive(id string) bool {
	if id == m.id {
		return true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.alive[id]
}

// Changes returns a channel that receives a signal after any change of the
// ring or of liveness. It has capacity 1 and is never blocked on: one
// pending signal stands for any number of changes, so a reader re-reads
// Ring and Alive after each receive.
func (m *Membership) Changes() <-chan struct{} { return m.changes }

// Stats returns the membership summary for INFO.
func (m *Membership) Stats() MembershipStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	active := m.mu.ring.Active()
	s := MembershipStats{Epoch: m.mu.ring.Epoch, Members: len(active), Gossip: m.bus}
	for _, r := range active {
		if r.ID == m.id || m.mu.alive[r.ID] {
			s.Alive++
		}
	}
	return s
}

// Close stops the background work, leaves the gossip (waiting at most
// leaveTimeout for the leave to go out), shuts memberlist down and writes
// the final ring state. Calls after the first return nil. Only the read
// methods (Self, Ring, Alive, Stats) may be used after Close.
func (m *Membership) Close() error {
	var err error
	m.closed.Do(func() {
		close(m.done)
		m.wg.Wait()
		if lerr := m.ml.Leave(leaveTimeout); lerr != nil {
			m.log.Debug("cluster: leave", "err", lerr)
		}
		err = errors.Join(m.ml.Shutdown(), m.persist())
	})
	return err
}

// writeLocked applies a ring change made by this node and spreads it: r
// must carry Ver = Epoch+1 (so it wins locally), and is queued for gossip
// and for persisting.
// REQUIRES: m.mu held.
func (m *Membership) writeLocked(r Member) {
	m.mu.ring.mergeMember(r)
	m.queueRecord(r)
	m.ringChangedLocked()
}

// mergeLocked folds records received from a peer into the ring, re-gossips
// the ones that were news, and rewrites this node's own record if the
// merged one carries stale addresses.
// REQUIRES: m.mu held.
func (m *Membership) mergeLocked(s RingState) {
	changed := false
	for _, r := range s.Members {
		if m.mu.ring.mergeMember(r) {
			m.queueRecord(r)
			changed = true
		}
	}
	if changed {
		m.refreshSelfLocked()
		m.ringChangedLocked()
	}
}

// refreshSelfLocked writes this node's own record if it is missing or its
// addresses are stale (a restart on another address), keeping its Removed
// flag: only Join and Meet re-add a removed node.
// REQUIRES: m.mu held.
func (m *Membership) refreshSelfLocked() {
	cur, ok := m.mu.ring.Members[m.id]
	if ok && cur.Addr == m.addr && cur.Bus == m.bus {
		return
	}
	m.writeLocked(Member{ID: m.id, Addr: m.addr, Bus: m.bus, Removed: cur.Removed, Ver: m.mu.ring.Epoch + 1})
}

// ringChangedLocked signals the persister and the Changes channel.
// REQUIRES: m.mu held.
func (m *Membership) ringChangedLocked() {
	notify(m.dirty)
	notify(m.changes)
}

// notify sends a signal on a capacity-1 channel unless one is pending.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// queueRecord queues r for gossip, replacing any queued record of the same
// node (which r beats: only winning records are queued).
func (m *Membership) queueRecord(r Member) {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // a Member always marshals
	}
	m.broadcasts.QueueBroadcast(ringBroadcast{id: r.ID, msg: append([]byte{msgRingRecord}, b...)})
}

// nodeAt returns the ID of the ring member whose gossip address is bus, or
// "" if there is none. The gossip transport uses it to apply Faults.
func (m *Membership) nodeAt(bus string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, r := range m.mu.ring.Members {
		if r.Bus == bus {
			return id
		}
	}
	return ""
}

// persist writes the current ring state to cluster.json. Each write takes a
// fresh snapshot after the previous write finished, so the file ends with
// the newest state whichever writer goes last.
func (m *Membership) persist() error {
	m.persistMu.Lock()
	defer m.persistMu.Unlock()
	m.mu.Lock()
	f := clusterFile{ID: m.id, Ring: m.mu.ring.clone()}
	m.mu.Unlock()
	if err := saveClusterFile(m.dir, f); err != nil {
		return fmt.Errorf("cluster: save %s: %w", clusterFileName, err)
	}
	return nil
}

// persister writes cluster.json after ring changes that came from gossip.
func (m *Membership) persister() {
	defer m.wg.Done()
	for {
		select {
		case <-m.done:
			return
		case <-m.dirty:
			if err := m.persist(); err != nil {
				m.log.Error("cluster: persist ring", "err", err)
			}
		}
	}
}

// maintainer re-joins unreachable ring members every rejoinInterval (and
// once at start, so a restarted node finds its cluster) and, with
// autoRemoveAfter set, forgets members dead for that long.
func (m *Membership) maintainer() {
	defer m.wg.Done()
	rejoin := time.NewTicker(m.rejoinInterval)
	defer rejoin.Stop()
	var autoRemove <-chan time.Time
	if m.autoRemoveAfter > 0 {
		t := time.NewTicker(max(m.autoRemoveAfter/4, time.Millisecond))
		defer t.Stop()
		autoRemove = t.C
	}
	deadSince := make(map[string]time.Time) // see autoRemove
	m.rejoin()
	for {
		select {
		case <-m.done:
			return
		case <-rejoin.C:
			m.rejoin()
		case <-autoRemove:
			deadSince = m.autoRemove(deadSince)
		}
	}
}

// rejoin joins, one at a time, the gossip addresses of the active ring
// members that memberlist does not list as alive.
func (m *Membership) rejoin() {
	var targets []string
	m.mu.Lock()
	for _, r := range m.mu.ring.Active() {
		if r.ID != m.id && !m.mu.alive[r.ID] {
			targets = append(targets, r.Bus)
		}
	}
	m.mu.Unlock()
	for _, bus := range targets {
		select {
		case <-m.done:
			return
		default:
		}
		if _, err := m.ml.Join([]string{bus}); err != nil {
			m.log.Debug("cluster: re-join", "bus", bus, "err", err)
		}
	}
}

// autoRemove forgets the active members that have not been alive since
// autoRemoveAfter ago, provided a majority of the active members (self
// included) is alive here, so a node cut off from the others does not
// forget them. deadSince maps each active member that is not alive to when
// this node first saw it so; autoRemove returns the updated map.
func (m *Membership) autoRemove(deadSince map[string]time.Time) map[string]time.Time {
	now := time.Now()
	dead := make(map[string]time.Time)
	var removed []string
	m.mu.Lock()
	active := m.mu.ring.Active()
	alive := 0
	for _, r := range active {
		if r.ID == m.id || m.mu.alive[r.ID] {
			alive++
		}
	}
	for _, r := range active {
		if r.ID == m.id || m.mu.alive[r.ID] {
			continue
		}
		since, ok := deadSince[r.ID]
		if !ok {
			since = now
		} else if now.Sub(since) >= m.autoRemoveAfter && 2*alive > len(active) {
			r.Removed, r.Ver = true, m.mu.ring.Epoch+1
			m.writeLocked(r)
			removed = append(removed, r.ID)
			continue
		}
		dead[r.ID] = since
	}
	m.mu.Unlock()
	for _, id := range removed {
		m.log.Info("cluster: node auto-removed", "node", id, "after", m.autoRemoveAfter)
	}
	if len(removed) > 0 {
		if err := m.persist(); err != nil {
			m.log.Error("cluster: persist ring", "err", err)
		}
	}
	return dead
}

// setAlive records memberlist's liveness of node id.
func (m *Membership) setAlive(id string, alive bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.alive[id] == alive {
		return
	}
	if alive {
		m.mu.alive[id] = true
	} else {
		delete(m.mu.alive, id)
	}
	m.numAlive.Store(int64(len(m.mu.alive)))
	notify(m.changes)
}
