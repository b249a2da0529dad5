package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cairn/resp"
)

// peerServer is a tiny RESP server for the peer transport tests. It logs
// every command per connection and answers:
//
//	AUTH ...     +OK, or an error while rejectHello is set (the tests' Hello)
//	ECHO x       x as a bulk string
//	PING         +PONG
//	ERR          -ERR boom
//	PUSH x       a RESP3 push, then x
//	HOLD x       x, once release is closed (replies before it are flushed)
//	CLOSE        closes the connection without a reply
//
// Replies are flushed when the server is about to block on a read, once the
// connection has read at least flushAt commands besides AUTH.
type peerServer struct {
	ln      net.Listener
	release chan struct{}
	flushAt int
	noLog   bool // for benchmarks: log nothing, allocate nothing per command
	wg      sync.WaitGroup

	mu struct {
		sync.Mutex
		rejectHello bool
		released    bool
		conns       []*peerServerConn
	}
}

type peerServerConn struct {
	nc   net.Conn
	mu   sync.Mutex
	cmds []string // each command's arguments joined by spaces
}

var peerHello = [][]byte{[]byte("AUTH"), []byte("token")}

func startPeerServer(t testing.TB, flushAt int) *peerServer {
	t.Helper()
	return servePeerServer(t, &peerServer{flushAt: flushAt})
}

// servePeerServer starts s, configured but not yet started, on a loopback
// port and closes it at cleanup.
func servePeerServer(t testing.TB, s *peerServer) *peerServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.release = ln, make(chan struct{})
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

func (s *peerServer) addr() string { return s.ln.Addr().String() }

func (s *peerServer) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &peerServerConn{nc: nc}
		s.mu.Lock()
		s.mu.conns = append(s.mu.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *peerServer) serve(c *peerServerConn) {
	defer s.wg.Done()
	defer c.nc.Close()
	w := resp.NewWriter()
	read := 0
	flush := func() error {
		if read < s.flushAt || w.Len() == 0 {
			return nil
		}
		_, err := c.nc.Write(w.Buffered())
		w.Reset()
		return err
	}
	r := resp.NewReader(c.nc, resp.Limits{}, flush)
	for {
		args, err := r.ReadCommand()
		if err != nil {
			return
		}
		if !s.noLog {
			c.mu.Lock()
			c.cmds = append(c.cmds, string(bytes.Join(args, []byte(" "))))
			c.mu.Unlock()
		}
		if string(args[0]) != "AUTH" {
			read++
		}
		switch string(args[0]) {
		case "AUTH": // answered at once, whatever flushAt
			s.mu.Lock()
			reject := s.mu.rejectHello
			s.mu.Unlock()
			if reject {
				w.Error("ERR bad token")
			} else {
				w.OK()
			}
			if _, err := c.nc.Write(w.Buffered()); err != nil {
				return
			}
			w.Reset()
			continue
		case "ECHO":
			w.Bulk(args[1])
		case "PING":
			w.Simple("PONG")
		case "ERR":
			w.Error("ERR boom")
		case "PUSH":
			w.Raw([]byte(">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n"))
			w.Bulk(args[1])
		case "HOLD":
			if err := flush(); err != nil {
				return
			}
			<-s.release
			w.Bulk(args[1])
		case "CLOSE":
			return
		default:
			w.Error("ERR unknown command")
		}
	}
}

func (s *peerServer) setRejectHello(v bool) {
	s.mu.Lock()
	s.mu.rejectHello = v
	s.mu.Unlock()
}

// releaseHolds lets every HOLD, current and future, reply.
func (s *peerServer) releaseHolds() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mu.released {
		s.mu.released = true
		close(s.release)
	}
}

// logs returns each accepted connection's commands so far.
func (s *peerServer) logs() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]string, len(s.mu.conns))
	for i, c := range s.mu.conns {
		c.mu.Lock()
		out[i] = slices.Clone(c.cmds)
		c.mu.Unlock()
	}
	return out
}

// received counts the commands named name over all connections.
func (s *peerServer) received(name string) int {
	n := 0
	for _, cmds := range s.logs() {
		for _, c := range cmds {
			if c == name || strings.HasPrefix(c, name+" ") {
				n++
			}
		}
	}
	return n
}

// dropConns closes every server-side connection.
func (s *peerServer) dropConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.mu.conns {
		c.nc.Close()
	}
}

func (s *peerServer) close() {
	s.ln.Close()
	s.dropConns()
	s.releaseHolds()
	s.wg.Wait()
}

// newTestPeers returns Peers for node "self" that send peerHello, closed at
// cleanup.
func newTestPeers(t testing.TB, mod func(*PeerOptions)) *Peers {
	o := PeerOptions{
		Self:   "self",
		Hello:  func() [][]byte { return peerHello },
		Logger: testLogger(),
	}
	if mod != nil {
		mod(&o)
	}
	p := NewPeers(o)
	t.Cleanup(p.Close)
	return p
}

func peerArgs(strs ...string) [][]byte {
	out := make([][]byte, len(strs))
	for i, s := range strs {
		out[i] = []byte(s)
	}
	return out
}

// waitPending waits for pd with a generous bound and returns its reply text.
func waitPending(t *testing.T, pd *Pending) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	v, err := pd.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no reply after %v", waitFor)
	}
	return string(v.Str), err
}

func callPeer(t *testing.T, p *Peers, s *peerServer, strs ...string) (resp.Value, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	v, err := p.Call(ctx, "n1", s.addr(), peerArgs(strs...)...)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no reply after %v", waitFor)
	}
	return v, err
}

// checkHelloFirst checks that every connection the server accepted began
// with peerHello.
func checkHelloFirst(t *testing.T, s *peerServer) {
	t.Helper()
	for i, cmds := range s.logs() {
		if len(cmds) == 0 || cmds[0] != "AUTH token" {
			t.Fatalf("connection %d: commands %q, want AUTH first", i, cmds)
		}
		if slices.Contains(cmds[1:], "AUTH token") {
			t.Fatalf("connection %d: Hello sent twice: %q", i, cmds)
		}
	}
}

func TestPeers_callReplies(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	p := newTestPeers(t, nil)

	v, err := callPeer(t, p, s, "ECHO", "hello")
	if err != nil || v.Kind != '$' || string(v.Str) != "hello" {
		t.Fatalf("ECHO: %+v, %v", v, err)
	}
	v, err = callPeer(t, p, s, "ERR")
	if err != nil {
		t.Fatalf("an error reply is a reply, got error %v", err)
	}
	if re := v.Err(); re == nil || re.Error() != "ERR boom" {
		t.Fatalf("ERR: reply %+v", v)
	}
	v, err = callPeer(t, p, s, "PUSH", "after push")
	if err != nil || string(v.Str) != "after push" {
		t.Fatalf("a push must not be taken for the reply: %+v, %v", v, err)
	}
	for i := range 20 {
		if v, err := callPeer(t, p, s, "ECHO", strconv.Itoa(i)); err != nil || string(v.Str) != strconv.Itoa(i) {
			t.Fatalf("call %d: %+v, %v", i, v, err)
		}
	}
	if n := len(s.logs()); n != 1 {
		t.Fatalf("sequential calls opened %d connections, want 1", n)
	}
	checkHelloFirst(t, s)
}

func TestPeers_argsCopiedAtEnqueue(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	unblock := make(chan struct{})
	p := newTestPeers(t, func(o *PeerOptions) {
		// Hello runs before the first write, so the command below is
		// still queued when its arguments are overwritten.
		o.Hello = func() [][]byte { <-unblock; return peerHello }
	})
	a := peerArgs("ECHO", "original")
	pd, err := p.Enqueue("n1", s.addr(), a...)
	if err != nil {
		t.Fatal(err)
	}
	copy(a[1], "XXXXXXXX")
	close(unblock)
	if got, err := waitPending(t, pd); err != nil || got != "original" {
		t.Fatalf("got %q, %v; want the arguments as they were at Enqueue", got, err)
	}
}

func TestPeers_enqueueOrderUnderConcurrency(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	p := newTestPeers(t, nil)
	const workers, each = 8, 250
	var (
		mu      sync.Mutex // the caller's lock, as replication holds one
		seq     int
		pending = make([]*Pending, workers*each)
		wg      sync.WaitGroup
		errs    = make(chan error, workers)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				mu.Lock()
				pd, err := p.Enqueue("n1", s.addr(), peerArgs("ECHO", strconv.Itoa(seq))...)
				if err != nil {
					mu.Unlock()
					errs <- err
					return
				}
				pending[seq] = pd
				seq++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, pd := range pending {
		if got, err := waitPending(t, pd); err != nil || got != strconv.Itoa(i) {
			t.Fatalf("call %d got %q, %v", i, got, err)
		}
	}
	logs := s.logs()
	if len(logs) != 1 {
		t.Fatalf("the stream used %d connections, want 1", len(logs))
	}
	cmds := logs[0][1:] // after Hello
	if len(cmds) != workers*each {
		t.Fatalf("server got %d commands, want %d", len(cmds), workers*each)
	}
	for i, c := range cmds {
		if want := "ECHO " + strconv.Itoa(i); c != want {
			t.Fatalf("command %d is %q, want %q", i, c, want)
		}
	}
	checkHelloFirst(t, s)
}

func TestPeers_pipelines(t *testing.T) {
	checkLeaks(t)
	const n = 100
	// The server sends no reply before it has read all n commands, so
	// waiting for each reply before sending the next would hang.
	s := startPeerServer(t, n)
	p := newTestPeers(t, nil)
	pending := make([]*Pending, n)
	for i := range pending {
		var err error
		if pending[i], err = p.Enqueue("n1", s.addr(), peerArgs("ECHO", strconv.Itoa(i))...); err != nil {
			t.Fatal(err)
		}
	}
	for i, pd := range pending {
		if got, err := waitPending(t, pd); err != nil || got != strconv.Itoa(i) {
			t.Fatalf("call %d got %q, %v", i, got, err)
		}
	}
}

func TestPeers_poolGrowsToItsBound(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	p := newTestPeers(t, nil)
	const calls = peerPoolSize + 6
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			want := strconv.Itoa(i)
			v, err := p.Call(ctx, "n1", s.addr(), peerArgs("HOLD", want)...)
			if err == nil && string(v.Str) != want {
				err = fmt.Errorf("HOLD %s got %q", want, v.Str)
			}
			errs <- err
		}()
	}
	// Every call stays unanswered until release, so each new call finds
	// all connections busy and the pool grows to its bound.
	eventually(t, "a HOLD on every pooled connection", func() error {
		if n := s.received("HOLD"); n < peerPoolSize {
			return fmt.Errorf("%d HOLDs received", n)
		}
		return nil
	})
	s.releaseHolds()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.logs()); n != peerPoolSize {
		t.Fatalf("%d connections, want %d", n, peerPoolSize)
	}
	if n := s.received("HOLD"); n != calls {
		t.Fatalf("server got %d HOLDs, want %d", n, calls)
	}
	checkHelloFirst(t, s)
}

func TestPeers_ctxEndKeepsRepliesInOrder(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	p := newTestPeers(t, nil)

	// On the stream: give up on a held call, then a later call on the same
	// connection must get its own reply, not the abandoned one.
	held, err := p.Enqueue("n1", s.addr(), peerArgs("HOLD", "late")...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := held.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with an ended ctx: %v", err)
	}
	next, err := p.Enqueue("n1", s.addr(), peerArgs("ECHO", "next")...)
	if err != nil {
		t.Fatal(err)
	}

	// Through Call: it returns at once when its ctx ends.
	ctx, cancel = context.WithCancel(context.Background())
	callErr := make(chan error, 1)
	go func() {
		_, err := p.Call(ctx, "n1", s.addr(), peerArgs("HOLD", "abandoned")...)
		callErr <- err
	}()
	eventually(t, "both HOLDs received", func() error {
		if n := s.received("HOLD"); n != 2 {
			return fmt.Errorf("%d HOLDs received", n)
		}
		return nil
	})
	cancel()
	if err := <-callErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("Call after its ctx ended: %v", err)
	}

	s.releaseHolds()
	if got, err := waitPending(t, next); err != nil || got != "next" {
		t.Fatalf("call after the abandoned one got %q, %v", got, err)
	}
	if got, err := waitPending(t, held); err != nil || got != "late" {
		t.Fatalf("the abandoned call's reply still lands in its slot: got %q, %v", got, err)
	}
	for i := range 20 {
		want := strconv.Itoa(i)
		if v, err := callPeer(t, p, s, "ECHO", want); err != nil || string(v.Str) != want {
			t.Fatalf("call %d: %+v, %v", i, v, err)
		}
	}
}

func TestPeers_reconnectsAfterClose(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	p := newTestPeers(t, nil)

	pd, err := p.Enqueue("n1", s.addr(), peerArgs("CLOSE")...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waitPending(t, pd); !errors.Is(err, ErrPeerConnLost) {
		t.Fatalf("call on a connection the peer closed: %v, want ErrPeerConnLost", err)
	}
	pd, err = p.Enqueue("n1", s.addr(), peerArgs("ECHO", "again")...)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := waitPending(t, pd); err != nil || got != "again" {
		t.Fatalf("after reconnecting: %q, %v", got, err)
	}

	if _, err := callPeer(t, p, s, "CLOSE"); !errors.Is(err, ErrPeerConnLost) {
		t.Fatalf("Call on a connection the peer closed: %v, want ErrPeerConnLost", err)
	}
	if v, err := callPeer(t, p, s, "ECHO", "pool"); err != nil || string(v.Str) != "pool" {
		t.Fatalf("Call after reconnecting: %+v, %v", v, err)
	}
	if n := len(s.logs()); n != 4 {
		t.Fatalf("%d connections, want 4 (stream and pool, each twice)", n)
	}
	checkHelloFirst(t, s)
}

func TestPeers_brokenConnectionFailsEveryCall(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	p := newTestPeers(t, nil)
	first, err := p.Enqueue("n1", s.addr(), peerArgs("HOLD", "x")...)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "HOLD received", func() error {
		if s.received("HOLD") == 0 {
			return errors.New("not yet")
		}
		return nil
	})
	var rest []*Pending
	for i := range 10 {
		pd, err := p.Enqueue("n1", s.addr(), peerArgs("ECHO", strconv.Itoa(i))...)
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, pd)
	}
	s.dropConns()
	if _, err := waitPending(t, first); !errors.Is(err, ErrPeerConnLost) {
		t.Fatalf("sent call: %v, want ErrPeerConnLost", err)
	}
	for i, pd := range rest {
		// Written or not by the time the connection broke: either way an
		// error that says which.
		if _, err := waitPending(t, pd); !errors.Is(err, ErrPeerConnLost) && !errors.Is(err, ErrPeerUnreachable) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}

func TestPeers_helloRejectedBacksOff(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	s.setRejectHello(true)
	p := newTestPeers(t, nil)

	if _, err := callPeer(t, p, s, "ECHO", "x"); !errors.Is(err, ErrPeerUnreachable) {
		t.Fatalf("Call with Hello rejected: %v, want ErrPeerUnreachable", err)
	}
	// Within the backoff nothing is dialled: Enqueue fails at once.
	if pd, err := p.Enqueue("n1", s.addr(), peerArgs("ECHO", "x")...); pd != nil || !errors.Is(err, ErrPeerUnreachable) {
		t.Fatalf("Enqueue during the backoff: %v, %v; want a fast ErrPeerUnreachable", pd, err)
	}
	if n := len(s.logs()); n != 1 {
		t.Fatalf("%d connections during the backoff, want 1", n)
	}
	s.setRejectHello(false)
	eventually(t, "a call after the backoff", func() error {
		v, err := p.Call(context.Background(), "n1", s.addr(), peerArgs("ECHO", "ok")...)
		if err != nil {
			return err
		}
		if string(v.Str) != "ok" {
			t.Fatalf("got %+v", v)
		}
		return nil
	})
	checkHelloFirst(t, s)
}

func TestPeers_dialFailureFailsFast(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	p := newTestPeers(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := p.Call(ctx, "n1", addr, peerArgs("PING")...); !errors.Is(err, ErrPeerUnreachable) {
		t.Fatalf("Call to a closed port: %v, want ErrPeerUnreachable", err)
	}
	if pd, err := p.Enqueue("n1", addr, peerArgs("PING")...); pd != nil || !errors.Is(err, ErrPeerUnreachable) {
		t.Fatalf("Enqueue right after a failed dial: %v, %v; want a fast ErrPeerUnreachable", pd, err)
	}
}

func TestPeers_dropFault(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	f := NewFaults()
	p := newTestPeers(t, func(o *PeerOptions) { o.Faults = f })
	held, err := p.Enqueue("n1", s.addr(), peerArgs("HOLD", "x")...)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "HOLD received", func() error {
		if s.received("HOLD") == 0 {
			return errors.New("not yet")
		}
		return nil
	})

	f.Set("n1", "self", Fault{Drop: true}) // the other direction: no effect here
	if v, err := callPeer(t, p, s, "ECHO", "in"); err != nil || string(v.Str) != "in" {
		t.Fatalf("with only n1 -> self dropped: %+v, %v", v, err)
	}

	f.Set("self", "n1", Fault{Drop: true})
	if _, err := callPeer(t, p, s, "ECHO", "x"); !errors.Is(err, ErrPeerUnreachable) {
		t.Fatalf("Call over a dropped link: %v, want ErrPeerUnreachable", err)
	}
	if pd, err := p.Enqueue("n1", s.addr(), peerArgs("ECHO", "x")...); pd != nil || !errors.Is(err, ErrPeerUnreachable) {
		t.Fatalf("Enqueue over a dropped link: %v, %v", pd, err)
	}
	if _, err := waitPending(t, held); !errors.Is(err, ErrPeerConnLost) {
		t.Fatalf("call in flight when the link dropped: %v, want ErrPeerConnLost", err)
	}

	f.Heal()
	if v, err := callPeer(t, p, s, "ECHO", "healed"); err != nil || string(v.Str) != "healed" {
		t.Fatalf("after Heal: %+v, %v", v, err)
	}
	pd, err := p.Enqueue("n1", s.addr(), peerArgs("ECHO", "healed")...)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := waitPending(t, pd); err != nil || got != "healed" {
		t.Fatalf("stream after Heal: %q, %v", got, err)
	}
	if n := s.received("ECHO x"); n != 0 {
		t.Fatalf("%d commands crossed the dropped link", n)
	}
}

func TestPeers_delayFault(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	f := NewFaults()
	p := newTestPeers(t, func(o *PeerOptions) { o.Faults = f })
	warm, err := p.Enqueue("n1", s.addr(), peerArgs("PING")...)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := waitPending(t, warm); err != nil || got != "PONG" {
		t.Fatalf("PING: %q, %v", got, err)
	}

	// Each batch waits the delay: a lower bound, which no scheduling can
	// break. Order is kept.
	const delay = 100 * time.Millisecond
	f.Set("self", "n1", Fault{Delay: delay})
	start := time.Now()
	var pending []*Pending
	for i := range 50 {
		pd, err := p.Enqueue("n1", s.addr(), peerArgs("ECHO", strconv.Itoa(i))...)
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, pd)
	}
	for i, pd := range pending {
		if got, err := waitPending(t, pd); err != nil || got != strconv.Itoa(i) {
			t.Fatalf("delayed call %d: %q, %v", i, got, err)
		}
	}
	if took := time.Since(start); took < delay {
		t.Fatalf("delayed calls answered after %v, before the %v delay", took, delay)
	}

	// A delay far beyond the test holds the batch back: nothing arrives,
	// and Close fails the held call as never sent.
	f.Set("self", "n1", Fault{Delay: time.Hour})
	held, err := p.Enqueue("n1", s.addr(), peerArgs("ECHO", "held")...)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-held.Done():
		t.Fatal("a call delayed by an hour completed")
	default:
	}
	p.Close()
	if _, err := waitPending(t, held); !errors.Is(err, ErrPeerClosed) || errors.Is(err, ErrPeerConnLost) {
		t.Fatalf("delayed call at Close: %v, want ErrPeerClosed (not sent)", err)
	}
	if n := s.received("ECHO held"); n != 0 {
		t.Fatalf("%d delayed commands arrived", n)
	}
}

func TestPeers_maxPending(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	p := newTestPeers(t, func(o *PeerOptions) { o.MaxPending = 3 })
	var pending []*Pending
	for i := range 3 {
		pd, err := p.Enqueue("n1", s.addr(), peerArgs("HOLD", strconv.Itoa(i))...)
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, pd)
	}
	if pd, err := p.Enqueue("n1", s.addr(), peerArgs("ECHO", "over")...); pd != nil || !errors.Is(err, ErrPeerBusy) {
		t.Fatalf("Enqueue beyond MaxPending: %v, %v; want ErrPeerBusy", pd, err)
	}
	s.releaseHolds()
	for i, pd := range pending {
		if got, err := waitPending(t, pd); err != nil || got != strconv.Itoa(i) {
			t.Fatalf("call %d: %q, %v", i, got, err)
		}
	}
	pd, err := p.Enqueue("n1", s.addr(), peerArgs("ECHO", "room")...)
	if err != nil {
		t.Fatalf("Enqueue once replies freed room: %v", err)
	}
	if got, err := waitPending(t, pd); err != nil || got != "room" {
		t.Fatalf("got %q, %v", got, err)
	}
	if n := s.received("ECHO over"); n != 0 {
		t.Fatal("the rejected command was sent")
	}
}

func TestPeers_closeFailsPendingCalls(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	p := newTestPeers(t, nil)
	streamed, err := p.Enqueue("n1", s.addr(), peerArgs("HOLD", "s")...)
	if err != nil {
		t.Fatal(err)
	}
	callErr := make(chan error, 1)
	go func() {
		_, err := p.Call(context.Background(), "n1", s.addr(), peerArgs("HOLD", "c")...)
		callErr <- err
	}()
	eventually(t, "both HOLDs received", func() error {
		if n := s.received("HOLD"); n != 2 {
			return fmt.Errorf("%d HOLDs received", n)
		}
		return nil
	})
	p.Close()
	_, streamErr := waitPending(t, streamed)
	for name, err := range map[string]error{"Enqueue": streamErr, "Call": <-callErr} {
		if !errors.Is(err, ErrPeerConnLost) || !errors.Is(err, ErrPeerClosed) {
			t.Fatalf("%s in flight at Close: %v, want ErrPeerConnLost and ErrPeerClosed", name, err)
		}
	}
	if _, err := p.Call(context.Background(), "n1", s.addr(), peerArgs("PING")...); !errors.Is(err, ErrPeerClosed) {
		t.Fatalf("Call after Close: %v", err)
	}
	if _, err := p.Enqueue("n1", s.addr(), peerArgs("PING")...); !errors.Is(err, ErrPeerClosed) {
		t.Fatalf("Enqueue after Close: %v", err)
	}
	p.Close() // a second Close is harmless
}

func TestPeers_forget(t *testing.T) {
	checkLeaks(t)
	s := startPeerServer(t, 0)
	p := newTestPeers(t, nil)
	held, err := p.Enqueue("n1", s.addr(), peerArgs("HOLD", "x")...)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "HOLD received", func() error {
		if s.received("HOLD") == 0 {
			return errors.New("not yet")
		}
		return nil
	})
	p.Forget("n1")
	if _, err := waitPending(t, held); !errors.Is(err, ErrPeerClosed) || !errors.Is(err, ErrPeerConnLost) {
		t.Fatalf("call in flight at Forget: %v", err)
	}
	if v, err := callPeer(t, p, s, "ECHO", "back"); err != nil || string(v.Str) != "back" {
		t.Fatalf("Call after Forget: %+v, %v", v, err)
	}
	if n := len(s.logs()); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
	checkHelloFirst(t, s)
}

func TestPeers_addressChange(t *testing.T) {
	checkLeaks(t)
	old, moved := startPeerServer(t, 0), startPeerServer(t, 0)
	p := newTestPeers(t, nil)
	if v, err := callPeer(t, p, old, "ECHO", "old"); err != nil || string(v.Str) != "old" {
		t.Fatalf("%+v, %v", v, err)
	}
	if v, err := callPeer(t, p, moved, "ECHO", "moved"); err != nil || string(v.Str) != "moved" {
		t.Fatalf("%+v, %v", v, err)
	}
	if old.received("ECHO moved") != 0 || moved.received("ECHO moved") != 1 {
		t.Fatal("the call after the address change went to the old address")
	}
}

// BenchmarkPeers measures round trips to a loopback server answering PING:
// one caller at a time, parallel callers, and Enqueue then Wait.
func BenchmarkPeers(b *testing.B) {
	s := servePeerServer(b, &peerServer{noLog: true})
	p := newTestPeers(b, nil)
	addr, ping := s.addr(), peerArgs("PING")
	ctx := context.Background()
	b.Run("Call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Call(ctx, "n1", addr, ping...); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CallParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := p.Call(ctx, "n1", addr, ping...); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("EnqueueWait", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pd, err := p.Enqueue("n1", addr, ping...)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := pd.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
