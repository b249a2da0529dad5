package cluster

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/hashicorp/memberlist"
)

// This file holds the adapters memberlist calls into: the transport, the
// Delegate, the EventDelegate and the broadcasts. Each is a small type over
// Membership; none calls memberlist back.

// Payloads of the Delegate, tagged by their first byte.
const (
	msgRingRecord byte = 1 // NotifyMsg: one Member, JSON
	msgRingState  byte = 2 // LocalState / MergeRemoteState: a whole RingState, JSON
)

// gossipTransport is memberlist's NetTransport with Faults applied on the
// sending side: a packet or a new stream to a peer is dropped when the link
// from this node to that peer says Drop, and delayed by its Delay
// otherwise. The peer is the node name memberlist passes along (our node
// IDs), or else the ring member whose Bus is the destination address;
// destinations that resolve to no node are never faulted. Incoming traffic
// is left alone: the sender's transport faults it.
type gossipTransport struct {
	*memberlist.NetTransport
	self   string                  // this node's ID
	faults *Faults                 // nil: no faults, no lookups
	nodeAt func(bus string) string // node ID whose Bus is bus, or ""
}

var _ memberlist.NodeAwareTransport = (*gossipTransport)(nil)

// fault returns the fault on the link to a, and the peer's ID.
func (t *gossipTransport) fault(a memberlist.Address) (Fault, string) {
	if t.faults == nil {
		return Fault{}, ""
	}
	to := a.Name
	if to == "" {
		to = t.nodeAt(a.Addr)
	}
	if to == "" {
		return Fault{}, ""
	}
	return t.faults.Gossip(t.self, to), to
}

// WriteTo implements memberlist.Transport.
func (t *gossipTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress implements memberlist.NodeAwareTransport. A dropped packet
// is reported as sent, as a lost datagram would be. A delayed one is sent
// from a timer with a copy of b, which memberlist may reuse on return.
func (t *gossipTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	f, _ := t.fault(a)
	switch {
	case f.Drop:
		return time.Now(), nil
	case f.Delay > 0:
		buf := append([]byte(nil), b...)
		time.AfterFunc(f.Delay, func() { t.NetTransport.WriteToAddress(buf, a) })
		return time.Now(), nil
	}
	return t.NetTransport.WriteToAddress(b, a)
}

// DialTimeout implements memberlist.Transport.
func (t *gossipTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout implements memberlist.NodeAwareTransport. A delay
// holds the dial back (and fails it like a timeout when it exceeds
// timeout); it does not slow an established stream.
func (t *gossipTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	f, to := t.fault(a)
	if f.Drop {
		return nil, fmt.Errorf("cluster: link %s -> %s dropped by an injected fault", t.self, to)
	}
	if f.Delay > 0 {
		if f.Delay >= timeout {
			time.Sleep(timeout)
			return nil, fmt.Errorf("cluster: dial %s: %w", a.Addr, os.ErrDeadlineExceeded)
		}
		time.Sleep(f.Delay)
		timeout -= f.Delay
	}
	return t.NetTransport.DialAddressTimeout(a, timeout)
}

// ringBroadcast is one ring record queued for gossip, named by its node so
// a newer record of the same node replaces it in the queue.
type ringBroadcast struct {
	id  string
	msg []byte
}

var _ memberlist.NamedBroadcast = ringBroadcast{}

func (b ringBroadcast) Name() string    { return "ring/" + b.id }
func (b ringBroadcast) Message() []byte { return b.msg }
func (b ringBroadcast) Finished()       {}

func (b ringBroadcast) Invalidates(o memberlist.Broadcast) bool {
	nb, ok := o.(memberlist.NamedBroadcast)
	return ok && nb.Name() == b.Name()
}

// ringDelegate adapts memberlist.Delegate: node metadata (the client
// address), ring records gossiped one at a time, and the whole ring state on
// push-pull. Its methods run on memberlist's goroutines and only lock mu.
type ringDelegate struct{ m *Membership }

var _ memberlist.Delegate = ringDelegate{}

func (d ringDelegate) NodeMeta(limit int) []byte { return []byte(d.m.addr) }

// NotifyMsg merges one gossiped ring record. buf is only valid during the
// call; decoding copies what it keeps.
func (d ringDelegate) NotifyMsg(buf []byte) {
	var r Member
	if len(buf) == 0 || buf[0] != msgRingRecord {
		d.m.log.Debug("cluster: unknown gossip message")
		return
	}
	if err := json.Unmarshal(buf[1:], &r); err != nil || !validID(r.ID) {
		d.m.log.Debug("cluster: bad ring record", "err", err)
		return
	}
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	d.m.mergeLocked(RingState{Epoch: r.Ver, Members: map[string]Member{r.ID: r}})
}

func (d ringDelegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.m.broadcasts.GetBroadcasts(overhead, limit)
}

func (d ringDelegate) LocalState(join bool) []byte {
	d.m.mu.Lock()
	b, err := json.Marshal(d.m.mu.ring)
	d.m.mu.Unlock()
	if err != nil {
		panic(err) // a RingState always marshals
	}
	return append([]byte{msgRingState}, b...)
}

func (d ringDelegate) MergeRemoteState(buf []byte, join bool) {
	var s RingState
	if len(buf) == 0 || buf[0] != msgRingState {
		d.m.log.Debug("cluster: unknown push-pull state")
		return
	}
	if err := json.Unmarshal(buf[1:], &s); err != nil {
		d.m.log.Debug("cluster: bad ring state", "err", err)
		return
	}
	if err := s.validate(); err != nil {
		d.m.log.Debug("cluster: bad ring state", "err", err)
		return
	}
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	d.m.mergeLocked(s)
}

// livenessEvents adapts memberlist.EventDelegate: it records which nodes
// are alive and adds nodes the ring has never heard of. memberlist calls it
// with its node lock held, so it only locks mu.
type livenessEvents struct{ m *Membership }

var _ memberlist.EventDelegate = livenessEvents{}

// NotifyJoin marks n alive and, if the ring has no record of n at all, adds
// one with Ver 0: it makes n active at once, yet loses to any record a node
// wrote, such as a tombstone from a Forget this node has not merged yet
// (memberlist reports the nodes of a push-pull before handing over the
// ring state that came with them).
func (e livenessEvents) NotifyJoin(n *memberlist.Node) {
	e.m.setAlive(n.Name, true)
	if !validID(n.Name) {
		return
	}
	e.m.mu.Lock()
	defer e.m.mu.Unlock()
	if _, ok := e.m.mu.ring.Members[n.Name]; !ok {
		e.m.mu.ring.mergeMember(Member{ID: n.Name, Addr: string(n.Meta), Bus: n.Address()})
		e.m.ringChangedLocked()
	}
}

func (e livenessEvents) NotifyLeave(n *memberlist.Node)  { e.m.setAlive(n.Name, false) }
func (e livenessEvents) NotifyUpdate(n *memberlist.Node) { e.m.setAlive(n.Name, true) }
