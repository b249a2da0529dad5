package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"cairn/resp"
)

// PeerOptions configure the peer transport. Zero values take the documented
// defaults.
type PeerOptions struct {
	Self string // this node's ID: the sending side of Faults links
	// Hello, if set, gives the first command sent on every new connection
	// (authentication). An error reply to it fails the connection and counts
	// as a failed dial.
	Hello       func() [][]byte
	Faults      *Faults       // nil in production
	DialTimeout time.Duration // bounds the dial and the Hello exchange; default 1s
	MaxPending  int           // calls awaiting a reply per connection; default 100000
	Logger      *slog.Logger  // default slog.Default()
}

// Errors of the peer transport. Besides these, Call and Wait return the
// ctx's error when it ends first. Only ErrPeerConnLost leaves a command's
// outcome unknown; after any other of these errors it was never sent.
var (
	// ErrPeerUnreachable: the command was not sent. The peer could not be
	// dialled or rejected Hello (calls then fail at once for a backoff of
	// 100ms doubling to 1s), a Drop fault cuts the link, or the connection
	// broke before the command was written.
	ErrPeerUnreachable = errors.New("cluster: peer unreachable")
	// ErrPeerBusy: the connection already has MaxPending calls awaiting
	// replies; the command was not sent.
	ErrPeerBusy = errors.New("cluster: too many calls pending to peer")
	// ErrPeerClosed: Close or Forget closed the connections before the
	// command was sent. A command already sent gets ErrPeerConnLost
	// wrapping ErrPeerClosed.
	ErrPeerClosed = errors.New("cluster: peer connection closed")
	// ErrPeerConnLost: the connection failed after the command was written;
	// the peer may or may not have executed it.
	ErrPeerConnLost = errors.New("cluster: peer connection lost after the command was sent")
)

// errLinkDropped: a Drop fault cuts the link. It does not start a backoff.
var errLinkDropped = errors.New("link dropped by a fault")

const (
	// peerPoolSize bounds the general connections per peer. A peer runs the
	// commands of one connection one at a time, and a forwarded command
	// waits for its replicas, so the pool bounds the forwarded commands a
	// node has in progress at each peer (measured: 4 capped forwarded
	// QUORUM reads at a quarter of direct ones with 50 clients).
	peerPoolSize     = 32
	peerMaxReplyBulk = 512 << 20 // largest bulk payload in a reply
	peerBackoffMin   = 100 * time.Millisecond
	peerBackoffMax   = time.Second
	peerMaxIdleBuf   = 1 << 20 // a write batch buffer above this is not kept for reuse
	peerDialTimeout  = time.Second
	peerMaxPending   = 100000
)

// Peers owns every connection to other nodes. It is safe for concurrent
// use.
//
// Each peer has a pool of up to peerPoolSize general connections (Call) and one
// ordered connection (Enqueue). A connection is created without blocking:
// its own goroutine dials, sends Hello, then writes batches, and a second
// goroutine reads replies. A failed connection is dropped lazily by the
// next lookup, which starts a new one.
type Peers struct {
	o   PeerOptions
	log *slog.Logger
	wg  sync.WaitGroup // every connection goroutine; Add under mu while not closed, or from a counted goroutine

	mu struct {
		sync.Mutex
		closed bool
		peers  map[string]*peer
	}
}

// peer is one remote node. Every field is guarded by Peers.mu.
type peer struct {
	id, addr string
	pool     []*peerConn // general connections, some possibly dead
	stream   *peerConn   // the ordered connection, possibly dead, or nil
	retryAt  time.Time   // after a failed dial no new connection starts before this
	backoff  time.Duration
}

// NewPeers returns a transport with no connections.
func NewPeers(o PeerOptions) *Peers {
	if o.DialTimeout <= 0 {
		o.DialTimeout = peerDialTimeout
	}
	if o.MaxPending <= 0 {
		o.MaxPending = peerMaxPending
	}
	p := &Peers{o: o, log: o.Logger}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.mu.peers = make(map[string]*peer)
	return p
}

// Call sends one command to node id at addr and waits for its reply or
// ctx's end. It uses the peer's general pool: a few pipelined connections,
// a new one opened while every open one awaits replies, up to peerPoolSize. An error
// reply is a reply: it comes back as the Value with a nil error. args may
// be reused once Call returns.
func (p *Peers) Call(ctx context.Context, id, addr string, args ...[]byte) (resp.Value, error) {
	if err := ctx.Err(); err != nil {
		return resp.Value{}, err
	}
	c, err := p.conn(id, addr, false)
	if err != nil {
		return resp.Value{}, err
	}
	pd, err := c.send(args)
	if err != nil {
		return resp.Value{}, err
	}
	return pd.Wait(ctx)
}

// Enqueue appends one command to the peer's ordered stream without
// blocking: commands enqueued on the same peer are written in enqueue order
// on one connection, so the peer executes them in that order. It fails at
// once, sending nothing, when the connection has MaxPending calls awaiting
// replies or the peer is unreachable (a recent failed dial, a Drop fault).
// If the stream's connection breaks, the calls on it fail and the next
// Enqueue starts a new one. args may be reused once Enqueue returns.
func (p *Peers) Enqueue(id, addr string, args ...[]byte) (*Pending, error) {
	c, err := p.conn(id, addr, true)
	if err != nil {
		return nil, err
	}
	return c.send(args)
}

// Forget closes and drops node id's connections (node removed, address
// changed). Their pending calls fail with ErrPeerClosed, or ErrPeerConnLost
// if already sent. A later call to id starts afresh.
func (p *Peers) Forget(id string) {
	p.mu.Lock()
	var cs []*peerConn
	if pr := p.mu.peers[id]; pr != nil {
		cs = pr.conns()
		delete(p.mu.peers, id)
	}
	p.mu.Unlock()
	failAll(cs, fmt.Errorf("%w: node %s forgotten", ErrPeerClosed, id))
}

// Close closes every connection, failing their pending calls, and waits for
// the connection goroutines to exit. Later calls fail with ErrPeerClosed.
func (p *Peers) Close() {
	p.mu.Lock()
	var cs []*peerConn
	if !p.mu.closed {
		p.mu.closed = true
		for _, pr := range p.mu.peers {
			cs = append(cs, pr.conns()...)
		}
		clear(p.mu.peers)
	}
	p.mu.Unlock()
	failAll(cs, fmt.Errorf("%w: peer transport closed", ErrPeerClosed))
	p.wg.Wait()
}

// conn returns the connection a command to id should go on: the ordered
// one if stream, else the least loaded of the pool, starting one if needed.
// It counts the command in the connection's load at once, so that
// concurrent choices see it; send releases it if it fails.
func (p *Peers) conn(id, addr string, stream bool) (*peerConn, error) {
	if p.o.Faults.RPC(p.o.Self, id).Drop {
		p.mu.Lock()
		var cs []*peerConn
		if pr := p.mu.peers[id]; pr != nil {
			cs = pr.conns()
		}
		p.mu.Unlock()
		// A cut link breaks the connections in use, as a partition would.
		failAll(cs, errLinkDropped)
		return nil, fmt.Errorf("%w: %s: %w", ErrPeerUnreachable, id, errLinkDropped)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed {
		return nil, fmt.Errorf("%w: peer transport closed", ErrPeerClosed)
	}
	pr := p.mu.peers[id]
	if pr != nil && pr.addr != addr {
		// The node moved: its old connections go to the wrong place.
		failAll(pr.conns(), fmt.Errorf("%w: node %s moved to %s", ErrPeerClosed, id, addr))
		pr = nil
	}
	if pr == nil {
		pr = &peer{id: id, addr: addr}
		p.mu.peers[id] = pr
	}
	if stream {
		if c := pr.stream; c == nil || c.dead.Load() {
			if err := pr.retryLocked(); err != nil {
				return nil, err
			}
			pr.stream = p.startLocked(pr)
		}
		pr.stream.load.Add(1)
		return pr.stream, nil
	}
	live := pr.pool[:0]
	var best *peerConn
	for _, c := range pr.pool {
		if c.dead.Load() {
			continue
		}
		live = append(live, c)
		if best == nil || c.load.Load() < best.load.Load() {
			best = c
		}
	}
	clear(pr.pool[len(live):])
	pr.pool = live
	if best == nil || (best.load.Load() > 0 && len(pr.pool) < peerPoolSize) {
		if err := pr.retryLocked(); err == nil {
			best = p.startLocked(pr)
			pr.pool = append(pr.pool, best)
		} else if best == nil {
			return nil, err
		}
	}
	best.load.Add(1)
	return best, nil
}

// retryLocked returns ErrPeerUnreachable while pr is backing off after a
// failed dial. REQUIRES: Peers.mu.
func (pr *peer) retryLocked() error {
	if !pr.retryAt.IsZero() && time.Now().Before(pr.retryAt) {
		return fmt.Errorf("%w: %s: dial failed recently", ErrPeerUnreachable, pr.id)
	}
	return nil
}

// conns returns pr's connections. REQUIRES: Peers.mu.
func (pr *peer) conns() []*peerConn {
	cs := append([]*peerConn(nil), pr.pool...)
	if pr.stream != nil {
		cs = append(cs, pr.stream)
	}
	return cs
}

// dialed records the outcome of a dial to pr for the backoff, if pr is
// still the current record of its node.
func (p *Peers) dialed(pr *peer, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.peers[pr.id] != pr {
		return
	}
	if ok {
		pr.retryAt, pr.backoff = time.Time{}, 0
		return
	}
	pr.backoff = min(max(2*pr.backoff, peerBackoffMin), peerBackoffMax)
	pr.retryAt = time.Now().Add(pr.backoff)
}

// startLocked creates a connection to pr and starts its goroutine, which
// dials. REQUIRES: Peers.mu, not closed.
func (p *Peers) startLocked(pr *peer) *peerConn {
	c := &peerConn{peers: p, peer: pr, id: pr.id, addr: pr.addr, wake: make(chan struct{}, 1)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	p.wg.Add(1)
	go c.run()
	return c
}

func failAll(cs []*peerConn, reason error) {
	for _, c := range cs {
		c.fail(reason)
	}
}

// peerConn is one pipelined connection to a peer. send appends encoded
// requests to mu.out and their Pendings to mu.waiting under one lock, so
// bytes and reply slots are in the same order; the writer goroutine takes
// mu.out whole and writes it in one call; the reader goroutine completes
// mu.waiting front to back, one reply each. Once mu.err is set the
// connection is dead: nothing is queued on it again and its goroutines
// exit.
type peerConn struct {
	peers    *Peers
	peer     *peer // its record (fields guarded by Peers.mu)
	id, addr string
	ctx      context.Context // canceled by fail: stops the dial and the writer
	cancel   context.CancelFunc
	wake     chan struct{} // capacity 1: mu.out has bytes for the writer
	dead     atomic.Bool   // mu.err is set; read without the lock by Peers.conn
	load     atomic.Int32  // calls chosen for it (Peers.conn) and not yet answered

	mu struct {
		sync.Mutex
		err     error    // set once, by fail: the error of a command sent now
		nc      net.Conn // nil until dialled
		out     []byte   // encoded requests the writer has not taken yet
		waiting pendingQueue
		unsent  int // the last unsent calls of waiting are those in out
	}
}

// send queues one command that Peers.conn counted in the load. It never
// blocks on the network.
func (c *peerConn) send(args [][]byte) (*Pending, error) {
	c.mu.Lock()
	if err := c.mu.err; err != nil {
		c.mu.Unlock()
		return nil, err
	}
	if c.mu.waiting.len() >= c.peers.o.MaxPending {
		c.mu.Unlock()
		c.load.Add(-1)
		return nil, fmt.Errorf("%w: %s: %d calls pending", ErrPeerBusy, c.id, c.peers.o.MaxPending)
	}
	pd := &Pending{done: make(chan struct{})}
	c.mu.out = resp.AppendCommand(c.mu.out, args...)
	c.mu.waiting.push(pd)
	c.mu.unsent++
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return pd, nil
}

// run dials, sends Hello, starts the reader and then runs the writer.
func (c *peerConn) run() {
	defer c.peers.wg.Done()
	nc, rr, err := c.connect()
	if !errors.Is(err, errLinkDropped) {
		c.peers.dialed(c.peer, err == nil)
	}
	if err != nil {
		if c.ctx.Err() == nil {
			c.peers.log.Warn("peer unreachable", "node", c.id, "addr", c.addr, "err", err)
		}
		c.fail(fmt.Errorf("%w: %s: %w", ErrPeerUnreachable, c.id, err))
		return
	}
	c.peers.wg.Add(1) // this goroutine's count is held, so Close's Wait cannot have returned
	go c.readLoop(rr)
	c.writeLoop(nc)
}

// connect dials and runs the Hello exchange. The connection is published in
// mu.nc before Hello, so that fail can interrupt the exchange.
func (c *peerConn) connect() (net.Conn, *resp.ReplyReader, error) {
	o := &c.peers.o
	if o.Faults.RPC(o.Self, c.id).Drop {
		return nil, nil, errLinkDropped
	}
	d := net.Dialer{Timeout: o.DialTimeout}
	nc, err := d.DialContext(c.ctx, "tcp", c.addr)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	if c.mu.err != nil {
		c.mu.Unlock()
		nc.Close()
		return nil, nil, c.ctx.Err()
	}
	c.mu.nc = nc
	c.mu.Unlock()
	rr := resp.NewReplyReader(nc, peerMaxReplyBulk)
	if o.Hello == nil {
		return nc, rr, nil
	}
	nc.SetDeadline(time.Now().Add(o.DialTimeout))
	if _, err := nc.Write(resp.AppendCommand(nil, o.Hello()...)); err != nil {
		return nil, nil, err
	}
	v, err := rr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("hello: %w", err)
	}
	if err := v.Err(); err != nil {
		return nil, nil, fmt.Errorf("hello rejected: %w", err)
	}
	nc.SetDeadline(time.Time{})
	return nc, rr, nil
}

// writeLoop writes the queued requests, one batch per wakeup, until the
// connection fails.
func (c *peerConn) writeLoop(nc net.Conn) {
	o := &c.peers.o
	var batch []byte
	var delay *time.Timer
	defer func() {
		if delay != nil {
			delay.Stop()
		}
	}()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.wake:
		}
		if d := o.Faults.RPC(o.Self, c.id).Delay; d > 0 {
			if delay == nil {
				delay = time.NewTimer(d)
			} else {
				delay.Reset(d)
			}
			select {
			case <-c.ctx.Done():
				return
			case <-delay.C:
			}
		}
		if o.Faults.RPC(o.Self, c.id).Drop {
			c.fail(errLinkDropped)
			return
		}
		c.mu.Lock()
		if c.mu.err != nil {
			c.mu.Unlock()
			return
		}
		batch, c.mu.out = c.mu.out, batch[:0]
		c.mu.unsent = 0
		c.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		if _, err := nc.Write(batch); err != nil {
			c.fail(err)
			return
		}
		if cap(batch) > peerMaxIdleBuf {
			batch = nil
		}
	}
}

// readLoop completes the waiting calls in order, one reply each, until the
// connection fails. RESP3 pushes are not replies and are skipped.
func (c *peerConn) readLoop(rr *resp.ReplyReader) {
	defer c.peers.wg.Done()
	for {
		v, err := rr.Read()
		if err != nil {
			c.fail(err)
			return
		}
		if v.Kind == '>' {
			continue
		}
		c.mu.Lock()
		if c.mu.err != nil {
			c.mu.Unlock()
			return
		}
		if c.mu.waiting.len() == c.mu.unsent {
			c.mu.Unlock()
			c.fail(errors.New("reply to no request"))
			return
		}
		pd := c.mu.waiting.pop()
		c.mu.Unlock()
		c.load.Add(-1)
		pd.finish(v, nil)
	}
}

// fail kills the connection once: it closes the socket, stops the
// goroutines and fails every waiting call, those already written with
// ErrPeerConnLost and the others with an error saying they were not sent.
// reason is why; an ErrPeerClosed or ErrPeerUnreachable reason is the
// not-sent error itself.
func (c *peerConn) fail(reason error) {
	unsentErr := reason
	if !errors.Is(reason, ErrPeerClosed) && !errors.Is(reason, ErrPeerUnreachable) {
		unsentErr = fmt.Errorf("%w: %s: connection failed: %w", ErrPeerUnreachable, c.id, reason)
	}
	c.mu.Lock()
	if c.mu.err != nil {
		c.mu.Unlock()
		return
	}
	c.mu.err = unsentErr
	c.dead.Store(true)
	waiting, unsent, nc := c.mu.waiting, c.mu.unsent, c.mu.nc
	c.mu.waiting, c.mu.unsent, c.mu.out = pendingQueue{}, 0, nil
	c.mu.Unlock()
	c.cancel()
	if nc != nil {
		nc.Close()
	}
	c.load.Store(0)
	sent := waiting.len() - unsent
	if sent > 0 {
		if !errors.Is(reason, ErrPeerClosed) {
			c.peers.log.Info("peer connection lost", "node", c.id, "addr", c.addr, "err", reason, "calls", sent)
		}
		sentErr := fmt.Errorf("%w: %s: %w", ErrPeerConnLost, c.id, reason)
		for range sent {
			waiting.pop().finish(resp.Value{}, sentErr)
		}
	}
	for waiting.len() > 0 {
		waiting.pop().finish(resp.Value{}, unsentErr)
	}
}

// Pending is one command sent by Enqueue (or Call): its reply once it
// arrives.
type Pending struct {
	done chan struct{} // closed by finish, after v and err are set
	v    resp.Value
	err  error
}

func (c *Pending) finish(v resp.Value, err error) {
	c.v, c.err = v, err
	close(c.done)
}

// Wait returns the reply, or the transport's error, or ctx's error if ctx
// ends first. An error reply is a reply: it comes back as the Value with a
// nil error. Giving up on a call does not disturb the connection: its reply
// is discarded when it arrives.
func (c *Pending) Wait(ctx context.Context) (resp.Value, error) {
	select {
	case <-c.done:
		return c.v, c.err
	default:
	}
	select {
	case <-c.done:
		return c.v, c.err
	case <-ctx.Done():
		return resp.Value{}, ctx.Err()
	}
}

// Done is closed when the reply or the transport's error is available.
func (c *Pending) Done() <-chan struct{} { return c.done }

// pendingQueue is a FIFO of calls: a ring buffer, dropped when it empties
// after growing large so that a burst does not pin memory.
type pendingQueue struct {
	buf        []*Pending
	head, size int
}

func (q *pendingQueue) len() int { return q.size }

func (q *pendingQueue) push(p *Pending) {
	if q.size == len(q.buf) {
		nb := make([]*Pending, max(16, 2*len(q.buf)))
		n := copy(nb, q.buf[q.head:])
		copy(nb[n:], q.buf[:q.head])
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = p
	q.size++
}

// pop removes and returns the oldest call. REQUIRES: len() > 0.
func (q *pendingQueue) pop() *Pending {
	p := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	if q.size == 0 && len(q.buf) > 1024 {
		*q = pendingQueue{}
	}
	return p
}
