package cluster

import (
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"go.uber.org/goleak"
)

// waitFor bounds every eventual check of the membership tests.
const waitFor = 10 * time.Second

// eventually polls cond until it returns nil, failing the test with cond's
// last error after waitFor.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still false after %v: %v", what, waitFor, err)
		}
		<-tick.C
	}
}

// checkLeaks fails t if goroutines started during the test outlive its
// cleanups. Call it first: cleanups run last-registered first.
func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

var clientPort atomic.Int32 // distinct fake client ports (nothing listens on them)

// testLogger discards logs unless CAIRN_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testOptions are loopback options with fast gossip and a fresh client
// address; Dir is left to the caller.
func testOptions() MembershipOptions {
	return MembershipOptions{
		Addr:           fmt.Sprintf("127.0.0.1:%d", 20000+clientPort.Add(1)),
		BusBind:        "127.0.0.1:0",
		RejoinInterval: 100 * time.Millisecond,
		Tuning:         FastGossip,
		Logger:         testLogger(),
	}
}

// startNode starts a membership with o (a fresh Dir if o.Dir is empty) and
// closes it when the test ends.
func startNode(t *testing.T, o MembershipOptions) *Membership {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	m, err := StartMembership(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close %s: %v", m.Self().ID, err)
		}
	})
	return m
}

// startCluster starts n nodes with the options mod sets and joins all of
// them through the first, waiting until they agree on the ring and see
// each other alive.
func startCluster(t *testing.T, n int, mod func(*MembershipOptions)) []*Membership {
	t.Helper()
	nodes := make([]*Membership, n)
	for i := range nodes {
		o := testOptions()
		if mod != nil {
			mod(&o)
		}
		nodes[i] = startNode(t, o)
		if i > 0 {
			if err := nodes[i].Join([]string{nodes[0].Self().Bus}); err != nil {
				t.Fatal(err)
			}
		}
	}
	eventually(t, "cluster formed", func() error {
		if err := sameRing(nodes...); err != nil {
			return err
		}
		if got := len(nodes[0].Ring().Active()); got != n {
			return fmt.Errorf("%d active members, want %d", got, n)
		}
		return allAlive(nodes, nodes...)
	})
	return nodes
}

// sameRing returns an error unless every node holds the same ring state.
func sameRing(nodes ...*Membership) error {
	want := nodes[0].Ring()
	for _, n := range nodes[1:] {
		if got := n.Ring(); !reflect.DeepEqual(got, want) {
			return fmt.Errorf("ring of %.6s = %+v, ring of %.6s = %+v", n.Self().ID, got, nodes[0].Self().ID, want)
		}
	}
	return nil
}

// allAlive returns an error unless every observer sees every target alive.
func allAlive(observers []*Membership, targets ...*Membership) error {
	for _, o := range observers {
		for _, n := range targets {
			if !o.Alive(n.Self().ID) {
				return fmt.Errorf("%.6s sees %.6s dead", o.Self().ID, n.Self().ID)
			}
		}
	}
	return nil
}

// noneAlive returns an error unless every observer sees every target dead.
func noneAlive(observers []*Membership, targets ...*Membership) error {
	for _, o := range observers {
		for _, n := range targets {
			if o.Alive(n.Self().ID) {
				return fmt.Errorf("%.6s sees %.6s alive", o.Self().ID, n.Self().ID)
			}
		}
	}
	return nil
}

// removedIn returns an error unless id is a tombstone in every node's ring.
func removedIn(id string, nodes ...*Membership) error {
	for _, n := range nodes {
		if r, ok := n.Ring().Members[id]; !ok || !r.Removed {
			return fmt.Errorf("%.6s holds %+v (present %v) for %.6s, want a tombstone", n.Self().ID, r, ok, id)
		}
	}
	return nil
}

func TestMembership_ThreeNodesConverge(t *testing.T) {
	checkLeaks(t)
	nodes := startCluster(t, 3, nil)
	ring := nodes[0].Ring()
	for _, n := range nodes {
		self := n.Self()
		if got := ring.Members[self.ID]; got.Addr != self.Addr || got.Bus != self.Bus || got.Removed || got.Ver == 0 {
			t.Errorf("ring record %+v, want the node's own addresses %+v, active, written", got, self)
		}
		st := n.Stats()
		if st.Members != 3 || st.Alive != 3 || st.Epoch != ring.Epoch || st.Gossip != self.Bus {
			t.Errorf("Stats() = %+v, want 3 members, 3 alive, epoch %d, gossip %s", st, ring.Epoch, self.Bus)
		}
	}
}

func TestMembership_RestartKeepsIDAndRing(t *testing.T) {
	checkLeaks(t)
	oa := testOptions()
	oa.Dir = t.TempDir()
	a := startNode(t, oa)
	b := startNode(t, testOptions())
	if err := b.Join([]string{a.Self().Bus}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a and b agree", func() error { return sameRing(a, b) })
	self, ring := a.Self(), a.Ring()
	if len(ring.Active()) != 2 {
		t.Fatalf("ring %+v, want 2 active members", ring)
	}
	for _, m := range []*Membership{b, a} {
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// Same directory and gossip address: the very same state.
	oa.BusBind = self.Bus
	a2 := startNode(t, oa)
	if got := a2.Self(); got != self {
		t.Errorf("after restart Self() = %+v, want %+v", got, self)
	}
	if got := a2.Ring(); !reflect.DeepEqual(got, ring) {
		t.Errorf("after restart Ring() = %+v, want %+v", got, ring)
	}
	if err := a2.Close(); err != nil {
		t.Fatal(err)
	}

	// Another gossip port: same ID and members, own record rewritten.
	oa.BusBind = "127.0.0.1:0"
	a3 := startNode(t, oa)
	got := a3.Ring()
	s3 := a3.Self()
	if s3.ID != self.ID || s3.Bus == self.Bus || s3.Ver != ring.Epoch+1 || got.Epoch != ring.Epoch+1 {
		t.Errorf("after restart elsewhere Self() = %+v (epoch %d), want ID %s, a new Bus, Ver %d", s3, got.Epoch, self.ID, ring.Epoch+1)
	}
	if bid := b.Self().ID; got.Members[bid] != ring.Members[bid] {
		t.Errorf("after restart elsewhere b's record = %+v, want %+v", got.Members[bid], ring.Members[bid])
	}
}

func TestMembership_ForgetPropagatesAndSurvivesRestart(t *testing.T) {
	checkLeaks(t)
	nodes := startCluster(t, 3, nil)
	a, b, c := nodes[0], nodes[1], nodes[2]
	dirB := b.dir
	cid := c.Self().ID

	if err := a.Forget(a.Self().ID); !errors.Is(err, ErrForgetSelf) {
		t.Errorf("Forget(self) = %v, want ErrForgetSelf", err)
	}
	if err := a.Forget(testID('e')); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("Forget(unknown) = %v, want ErrUnknownNode", err)
	}
	if err := a.Forget(cid); err != nil {
		t.Fatal(err)
	}
	if err := a.Forget(cid); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("second Forget = %v, want ErrUnknownNode", err)
	}
	eventually(t, "forget propagated", func() error {
		if err := removedIn(cid, a, b, c); err != nil {
			return err
		}
		return sameRing(a, b, c)
	})
	if !a.Alive(cid) {
		t.Error("a forgotten node that still runs is not alive: liveness must not follow the ring")
	}

	// A newcomer whose epoch is far ahead hears of c from memberlist before
	// it merges the ring state holding c's tombstone: c must stay removed.
	e := startNode(t, testOptions())
	for range 10 {
		if err := e.Join(nil); err != nil {
			t.Fatal(err)
		}
	}
	if e.Ring().Epoch <= a.Ring().Epoch {
		t.Fatalf("newcomer epoch %d, want above the cluster's %d", e.Ring().Epoch, a.Ring().Epoch)
	}
	if err := e.Join([]string{a.Self().Bus}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "newcomer converged", func() error { return sameRing(a, b, c, e) })
	if err := removedIn(cid, a, b, c, e); err != nil {
		t.Error(err)
	}

	// b restarts on a new gossip port: it remembers the tombstone before
	// talking to anybody, finds a by itself (re-join) and announces its
	// new address.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	ob := testOptions()
	ob.Dir = dirB
	b2 := startNode(t, ob)
	if err := removedIn(cid, b2); err != nil {
		t.Errorf("right after restart: %v", err)
	}
	eventually(t, "restarted b rejoined", func() error {
		if err := sameRing(a, b2, c, e); err != nil {
			return err
		}
		if got := a.Ring().Members[b2.Self().ID].Bus; got != b2.Self().Bus {
			return fmt.Errorf("a has b at %s, want %s", got, b2.Self().Bus)
		}
		return allAlive([]*Membership{a, b2}, a, b2)
	})
	if err := removedIn(cid, a, b2, c, e); err != nil {
		t.Error(err)
	}
}

func TestMembership_ConcurrentForgetAndMeet(t *testing.T) {
	checkLeaks(t)
	nodes := startCluster(t, 4, nil)
	a, b, c, d := nodes[0], nodes[1], nodes[2], nodes[3]
	if err := a.Forget(d.Self().ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "d forgotten", func() error { return removedIn(d.Self().ID, a, b, c, d) })

	// a forgets c while b meets d again.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = a.Forget(c.Self().ID) }()
	go func() { defer wg.Done(); errs[1] = b.Meet(d.Self().Bus) }()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	eventually(t, "forget and meet converged", func() error {
		if err := sameRing(a, b, c, d); err != nil {
			return err
		}
		ring := a.Ring()
		if !ring.Members[c.Self().ID].Removed || ring.Members[d.Self().ID].Removed {
			return fmt.Errorf("ring %+v, want c removed and d active", ring)
		}
		return nil
	})
	if got := len(a.Ring().Active()); got != 3 {
		t.Errorf("%d active members, want 3 (a, b, d)", got)
	}
}

func TestMembership_MeetAddsNewNode(t *testing.T) {
	checkLeaks(t)
	nodes := startCluster(t, 2, nil)
	e := startNode(t, testOptions())
	if err := nodes[0].Meet(e.Self().Bus); err != nil {
		t.Fatal(err)
	}
	all := append(nodes, e)
	eventually(t, "met node converged", func() error {
		if err := sameRing(all...); err != nil {
			return err
		}
		if got := len(e.Ring().Active()); got != 3 {
			return fmt.Errorf("%d active members, want 3", got)
		}
		return nil
	})
	if err := nodes[0].Meet("127.0.0.1:1"); err == nil {
		t.Error("Meet of an address nobody listens on succeeded")
	}
}

func TestMembership_PartitionHeals(t *testing.T) {
	checkLeaks(t)
	faults := NewFaults()
	nodes := startCluster(t, 3, func(o *MembershipOptions) {
		o.Faults = faults
		o.Tuning = func(c *memberlist.Config) {
			FastGossip(c)
			// memberlist alone would heal by gossiping to the freshly
			// dead; only the periodic re-join may heal here.
			c.GossipToTheDeadTime = time.Nanosecond
		}
	})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ring := a.Ring()

	faults.Isolate(c.Self().ID, a.Self().ID, b.Self().ID)
	eventually(t, "partition detected", func() error {
		if err := noneAlive([]*Membership{a, b}, c); err != nil {
			return err
		}
		return noneAlive([]*Membership{c}, a, b)
	})
	for _, n := range nodes {
		if got := n.Ring(); !reflect.DeepEqual(got, ring) {
			t.Errorf("ring of %.6s changed during the partition: %+v, want %+v", n.Self().ID, got, ring)
		}
	}

	faults.Heal()
	eventually(t, "partition healed", func() error { return allAlive(nodes, nodes...) })
}

func TestMembership_CloseMarksDeadRingKeeps(t *testing.T) {
	checkLeaks(t)
	nodes := startCluster(t, 3, nil)
	a, b, c := nodes[0], nodes[1], nodes[2]
	ring := a.Ring()
	select { // drop the signal of the cluster forming
	case <-a.Changes():
	default:
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "closed node dead", func() error { return noneAlive([]*Membership{a, b}, c) })
	select {
	case <-a.Changes():
	default:
		t.Error("no Changes() signal after a node died")
	}
	for _, n := range []*Membership{a, b} {
		if got := n.Ring(); !reflect.DeepEqual(got, ring) {
			t.Errorf("ring of %.6s changed after a node died: %+v, want %+v", n.Self().ID, got, ring)
		}
		if st := n.Stats(); st.Members != 3 || st.Alive != 2 {
			t.Errorf("Stats() = %+v, want 3 members, 2 alive", st)
		}
	}
}

func TestMembership_AutoRemove(t *testing.T) {
	checkLeaks(t)
	nodes := startCluster(t, 3, func(o *MembershipOptions) { o.AutoRemoveAfter = 300 * time.Millisecond })
	a, b, c := nodes[0], nodes[1], nodes[2]
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "dead node auto-removed", func() error {
		if err := removedIn(c.Self().ID, a, b); err != nil {
			return err
		}
		return sameRing(a, b)
	})
}

// The majority rule is checked on one node whose ring also holds members
// that were never started: they are never alive.
func TestMembership_AutoRemoveNeedsMajority(t *testing.T) {
	checkLeaks(t)
	o := testOptions()
	o.AutoRemoveAfter = time.Hour // the maintainer's own check never fires
	m := startNode(t, o)
	ghost := func(c byte) Member {
		return Member{ID: testID(c), Addr: "127.0.0.1:1", Bus: "127.0.0.1:2", Ver: 1}
	}
	long := time.Now().Add(-2 * time.Hour)
	m.mu.Lock()
	m.mu.ring.mergeMember(ghost('1'))
	m.mu.Unlock()

	deadSince := m.autoRemove(nil) // first sight: starts the clock
	if got := deadSince[testID('1')]; got.IsZero() {
		t.Fatalf("autoRemove did not start the dead clock of a dead member: %v", deadSince)
	}
	deadSince[testID('1')] = long
	deadSince = m.autoRemove(deadSince) // 1 of 2 alive: no majority
	if m.Ring().Members[testID('1')].Removed {
		t.Fatal("auto-removed with 1 of 2 members alive")
	}
	if got := deadSince[testID('1')]; !got.Equal(long) {
		t.Fatalf("dead clock moved to %v, want %v", got, long)
	}

	// With a live second node, 2 of 3 are alive: the ghost goes.
	p := startNode(t, testOptions())
	if err := p.Join([]string{m.Self().Bus}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "peer alive", func() error { return allAlive([]*Membership{m}, p) })
	deadSince = m.autoRemove(deadSince)
	if !m.Ring().Members[testID('1')].Removed {
		t.Fatalf("not auto-removed with 2 of 3 members alive: %+v", m.Ring())
	}
	if _, ok := deadSince[testID('1')]; ok {
		t.Error("deadSince still tracks a removed member")
	}
}

func TestMembership_KeyAndLabel(t *testing.T) {
	checkLeaks(t)
	withKey := func(key, label string) MembershipOptions {
		o := testOptions()
		o.Key, o.ClusterName = []byte(key), label
		return o
	}
	a := startNode(t, withKey("k1", ""))
	cases := []struct {
		name   string
		o      MembershipOptions
		joinOK bool
	}{
		{name: "same key and label", o: withKey("k1", ""), joinOK: true},
		{name: "other key", o: withKey("k2", "")},
		{name: "no key", o: withKey("", "")},
		{name: "other label", o: withKey("k1", "other")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := startNode(t, c.o)
			err := n.Join([]string{a.Self().Bus})
			if c.joinOK {
				if err != nil {
					t.Fatal(err)
				}
				eventually(t, "joined", func() error { return allAlive([]*Membership{a, n}, a, n) })
				return
			}
			if err == nil {
				t.Fatal("join succeeded")
			}
			if a.Alive(n.Self().ID) {
				t.Error("a lists the rejected node as alive")
			}
			if _, ok := a.Ring().Members[n.Self().ID]; ok {
				t.Error("a's ring holds the rejected node")
			}
		})
	}
}

// newTestNetTransport binds a memberlist NetTransport on a free loopback
// port and shuts it down when the test ends.
func newTestNetTransport(t *testing.T) *memberlist.NetTransport {
	t.Helper()
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{"127.0.0.1"},
		Logger:    log.New(io.Discard, "", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nt.Shutdown() })
	return nt
}

func TestGossipTransport_Faults(t *testing.T) {
	checkLeaks(t)
	recv := newTestNetTransport(t)
	to := fmt.Sprintf("127.0.0.1:%d", recv.GetAutoBindPort())
	faults := NewFaults()
	gt := &gossipTransport{
		NetTransport: newTestNetTransport(t),
		self:         "a",
		faults:       faults,
		nodeAt: func(bus string) string {
			if bus == to {
				return "b"
			}
			return ""
		},
	}
	dial := func(a memberlist.Address, timeout time.Duration) error {
		c, err := gt.DialAddressTimeout(a, timeout)
		if err != nil {
			return err
		}
		c.Close()
		(<-recv.StreamCh()).Close()
		return nil
	}
	packet := func() string {
		select {
		case p := <-recv.PacketCh():
			return string(p.Buf)
		case <-time.After(waitFor):
			t.Fatal("no packet arrived")
			return ""
		}
	}

	if err := dial(memberlist.Address{Addr: to}, time.Second); err != nil {
		t.Fatalf("healthy dial: %v", err)
	}
	faults.Set("a", "b", Fault{Drop: true})
	if err := dial(memberlist.Address{Addr: to}, time.Second); err == nil {
		t.Error("dial by address over a dropped link succeeded")
	}
	if err := dial(memberlist.Address{Addr: "127.0.0.1:1", Name: "b"}, time.Second); err == nil {
		t.Error("dial by node name over a dropped link succeeded")
	}
	if _, err := gt.WriteTo([]byte("dropped"), to); err != nil {
		t.Fatal(err)
	}
	faults.Set("a", "c", Fault{Drop: true}) // a link to a node the address does not belong to
	faults.Set("a", "b", Fault{})
	if _, err := gt.WriteTo([]byte("sent"), to); err != nil {
		t.Fatal(err)
	}
	if got := packet(); got != "sent" {
		t.Errorf("first packet through = %q, want %q (the dropped one must not arrive)", got, "sent")
	}

	faults.Set("a", "b", Fault{Delay: time.Hour})
	if err := dial(memberlist.Address{Addr: to}, 10*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("dial delayed past its timeout = %v, want a deadline error", err)
	}
	faults.Set("a", "b", Fault{Delay: time.Millisecond})
	if err := dial(memberlist.Address{Addr: to}, time.Second); err != nil {
		t.Errorf("dial delayed within its timeout: %v", err)
	}
	buf := []byte("late")
	if _, err := gt.WriteTo(buf, to); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXX") // the caller may reuse its buffer at once
	if got := packet(); got != "late" {
		t.Errorf("delayed packet = %q, want %q", got, "late")
	}
}
