package resp

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Conn is one client connection and its protocol-level state.
//
// Ownership: the connection's goroutine (the one running the Handler) owns
// W, Session and the reader; it alone changes db, proto, name and the other
// fields behind mu. Other goroutines (CLIENT LIST, CLIENT KILL, INFO) read
// them through the locked getters and may only call Close.
type Conn struct {
	id      uint64
	nc      net.Conn
	srv     *Server
	created time.Time

	// W buffers this connection's replies until the next flush.
	W *Writer
	// Session holds the command layer's per-connection state (MULTI queue,
	// watched keys). resp never touches it.
	Session any
	// BeforeFlush, if set, runs before buffered replies are written: the
	// command layer waits there for the fsync of writes it acknowledges.
	BeforeFlush func() error

	db         atomic.Int64
	proto      atomic.Int32 // mirrors W's protocol for other goroutines
	lastActive atomic.Int64 // unix ms of the last command
	lastCmd    atomic.Pointer[string]
	// authenticated is Redis's c->authenticated: set at accept when the
	// server requires no password, then by AUTH/HELLO AUTH. The reader
	// applies the unauthenticated limits while it is false and the server
	// requires authentication (Server.SetAuthRequired).
	authenticated atomic.Bool
	closing       bool          // owner only: close after the pending replies are written
	writeDeadline time.Time     // guarded by writeMu: the socket's write deadline (zero: none); see write
	done          chan struct{} // closed by Close, once (closeOnce)
	closeOnce     sync.Once

	mu struct {
		sync.Mutex
		name, libName, libVer string
		user                  string // the ACL user (AUTH); "" means "default"
	}

	// writeMu serializes writes to the socket: the owner's Flush and the
	// push writer (push.go) each hold it for a whole write, so frames never
	// interleave. Lock order: writeMu before push.mu.
	writeMu sync.Mutex
	push    pushBox
}

// ID is the connection's unique id (CLIENT ID).
func (c *Conn) ID() uint64 { return c.id }

// RemoteAddr is the client's address as "ip:port".
func (c *Conn) RemoteAddr() string { return c.nc.RemoteAddr().String() }

// LocalAddr is the server side address as "ip:port".
func (c *Conn) LocalAddr() string { return c.nc.LocalAddr().String() }

// FD is the socket's file descriptor number (CLIENT LIST fd=), or -1 when
// the connection has none or is closed. A TLS connection reports its TCP
// socket's. Safe from any goroutine.
func (c *Conn) FD() int {
	nc := c.nc
	if tc, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	raw.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// Created is when the connection was accepted.
func (c *Conn) Created() time.Time { return c.created }

// DB is the selected database number.
func (c *Conn) DB() int { return int(c.db.Load()) }

// SetDB selects a database (SELECT). Owner only.
func (c *Conn) SetDB(n int) { c.db.Store(int64(n)) }

// Proto is the protocol version of this connection: 2 or 3.
func (c *Conn) Proto() int { return int(c.proto.Load()) }

// SetProto switches the connection's protocol (HELLO). Owner only.
func (c *Conn) SetProto(p int) {
	c.W.SetProto(p)
	c.proto.Store(int32(p))
}

// Idle is the time since the last command.
func (c *Conn) Idle() time.Duration {
	return time.Duration(time.Now().UnixMilli()-c.lastActive.Load()) * time.Millisecond
}

// Name is the name set by CLIENT SETNAME or HELLO SETNAME.
func (c *Conn) Name() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.name
}

// SetName sets the connection name. Owner only.
func (c *Conn) SetName(name string) {
	c.mu.Lock()
	c.mu.name = name
	c.mu.Unlock()
}

// Lib returns the library name and version set by CLIENT SETINFO.
func (c *Conn) Lib() (name, ver string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.libName, c.mu.libVer
}

// SetLibName sets the lib-name attribute. Owner only.
func (c *Conn) SetLibName(s string) {
	c.mu.Lock()
	c.mu.libName = s
	c.mu.Unlock()
}

// SetLibVer sets the lib-ver attribute. Owner only.
func (c *Conn) SetLibVer(s string) {
	c.mu.Lock()
	c.mu.libVer = s
	c.mu.Unlock()
}

// Authenticated reports whether the connection has authenticated (or
// needed no password when it was accepted). Safe from any goroutine.
func (c *Conn) Authenticated() bool { return c.authenticated.Load() }

// SetAuthenticated marks the connection authenticated (AUTH, HELLO AUTH,
// CAIRN.PEER). Owner only.
func (c *Conn) SetAuthenticated(ok bool) { c.authenticated.Store(ok) }

// unauthenticated reports whether the reader must apply Redis's limits for
// clients that have not authenticated (Redis authRequired).
func (c *Conn) unauthenticated() bool {
	return c.srv.authRequired.Load() && !c.authenticated.Load()
}

// User is the name of the ACL user the connection is authenticated as.
func (c *Conn) User() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.user == "" {
		return "default"
	}
	return c.mu.user
}

// SetUser records the ACL user the connection authenticated as. Owner only.
func (c *Conn) SetUser(name string) {
	c.mu.Lock()
	c.mu.user = name
	c.mu.Unlock()
}

// LastCmd is the name of the last command run (CLIENT LIST cmd=), "" before the first.
func (c *Conn) LastCmd() string {
	if p := c.lastCmd.Load(); p != nil {
		return *p
	}
	return ""
}

// SetLastCmd records the command being run at nowMs (unix ms). name must
// stay unchanged (a command table's name). Owner only.
func (c *Conn) SetLastCmd(name *string, nowMs int64) {
	c.lastActive.Store(nowMs)
	c.lastCmd.Store(name)
}

// CloseAfterReply makes the connection close once the replies buffered so
// far are written (QUIT, protocol errors). Owner only.
func (c *Conn) CloseAfterReply() { c.closing = true }

// Close closes the connection now; its goroutine notices and cleans up.
// Safe from any goroutine.
func (c *Conn) Close() error {
	err := c.nc.Close() // first: whoever Done wakes finds the socket closed
	c.closeOnce.Do(func() { close(c.done) })
	return err
}

// drain makes the connection end after the command it is running: a read
// waiting for input fails at once, and a command waiting on Done stops
// waiting. Safe from any goroutine.
func (c *Conn) drain() {
	c.nc.SetReadDeadline(time.Now())
	c.closeOnce.Do(func() { close(c.done) })
}

// Done is closed once the connection is closed: by Close (CLIENT KILL,
// server Close) or when its goroutine exits. A command that waits on the
// connection's goroutine (BZPOPMIN) selects on it to stop waiting for a
// client that is gone. It does not notice the peer hanging up: only a read
// does. Safe from any goroutine.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Flush runs BeforeFlush and writes the buffered replies, followed by the
// pushes queued since HoldPushes (push.go). Owner only.
func (c *Conn) Flush() error {
	if c.BeforeFlush != nil {
		if err := c.BeforeFlush(); err != nil {
			return err
		}
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.releasePushesLocked()
	if c.W.Len() == 0 {
		return nil
	}
	err := c.write(c.W.buf)
	c.W.Reset()
	if cap(c.W.buf) > maxIdleWriterCap {
		c.W.buf = nil // do not pin a huge reply buffer on an idle client
	}
	return err
}

// errOutputLimit ends a connection closed for its output buffer limit.
var errOutputLimit = errors.New("resp: client output buffer limit reached")

// write sends buf, the replies produced since the last flush, under the
// server's OutputLimit (Redis checkClientOutputBufferLimits, normal class).
// The caller holds writeMu.
//
// A connection's goroutine does not read or run commands while it writes,
// so a client's pending output (Redis's output buffer) is the part of buf
// the kernel has not accepted yet: at most FlushAt plus the last command's
// reply, however many commands the client pipelines without reading. At or
// over Hard the client is closed at once. At or over Soft, the kernel must
// accept enough of buf to bring it under Soft within SoftSeconds, or the
// client is closed: a write deadline, between SoftSeconds and one second
// more after the client went over (Redis closes when elapsed > seconds, in
// whole seconds). A timed-out write is never resumed (a TLS stream is
// unusable after one), so the deadline is the moment of the close.
func (c *Conn) write(buf []byte) error {
	lim := c.srv.outputLimit.Load()
	if lim.Hard > 0 && int64(len(buf)) >= lim.Hard {
		return c.overOutputLimit(int64(len(buf)))
	}
	if lim.Soft > 0 && int64(len(buf)) >= lim.Soft {
		over := len(buf) - int(lim.Soft) + 1 // written, pending drops under Soft
		c.setWriteDeadline(time.Now().Add(lim.SoftSeconds))
		n, err := c.nc.Write(buf[:over])
		c.srv.stats.outputBytes.Add(int64(n))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return c.overOutputLimit(int64(len(buf) - n))
		}
		if err != nil || over == len(buf) {
			return err // the deadline stays for the next flush to reuse
		}
		buf = buf[over:]
	}
	if !c.writeDeadline.IsZero() {
		c.nc.SetWriteDeadline(time.Time{})
		c.writeDeadline = time.Time{}
	}
	n, err := c.nc.Write(buf)
	c.srv.stats.outputBytes.Add(int64(n))
	return err
}

// setWriteDeadline makes the socket's write deadline fall in [at, at+1s],
// moving it only when it is outside: at most once a second on a busy
// connection, instead of twice per flush.
func (c *Conn) setWriteDeadline(at time.Time) {
	if c.writeDeadline.Before(at) || c.writeDeadline.After(at.Add(time.Second)) {
		c.writeDeadline = at.Add(time.Second)
		c.nc.SetWriteDeadline(c.writeDeadline)
	}
}

// overOutputLimit logs, as Redis does, that the client is closed for its
// output buffer limit, with pending bytes unwritten; the caller's error
// ends the connection.
func (c *Conn) overOutputLimit(pending int64) error {
	c.srv.log.Warn(fmt.Sprintf("Client id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d db=%d omem=%d cmd=%s user=%s "+
		"scheduled to be closed ASAP for overcoming of output buffer limits.",
		c.id, c.RemoteAddr(), c.LocalAddr(), c.FD(), c.Name(), int64(time.Since(c.created).Seconds()),
		int64(c.Idle().Seconds()), c.DB(), pending, c.LastCmd(), c.User()))
	return errOutputLimit
}

// DeniedProtectedMode is Redis 7.0's reply to a non-loopback client while
// protected mode is on and the default user has no password; the
// connection is then closed.
const DeniedProtectedMode = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

// denied reports whether protected mode refuses this connection: it is on
// (Server.SetProtected) and the client's address is not a loopback one.
func (c *Conn) denied() bool {
	if !c.srv.protected.Load() {
		return false
	}
	addr, ok := c.nc.RemoteAddr().(*net.TCPAddr)
	return !ok || !addr.IP.IsLoopback()
}

// maxIdleWriterCap is the largest reply buffer kept between pipelines.
const maxIdleWriterCap = 1 << 20

// pushBox queues the out-of-band frames (Pub/Sub messages) that goroutines
// other than the owner send to a connection.
//
// Ownership: any goroutine appends with Push; only the push writer
// goroutine (writePushes, at most one at a time) and the owner (HoldPushes,
// Flush) take frames out, each while holding writeMu. A publisher never
// touches W and never waits for the socket: it only appends under mu.
type pushBox struct {
	mu       sync.Mutex
	buf      []byte // whole frames not yet taken for writing
	inflight int    // bytes the push writer took and is writing
	// held is set by HoldPushes and cleared by Flush: the owner has
	// replies buffered in W that must reach the client before buf.
	held    bool
	writing bool // a writePushes goroutine is running
	dead    bool // over its limit or failed to write: Push drops frames
	// spare is the batch the push writer wrote last, emptied: the next
	// batch reuses it, so a busy subscriber's frames are copied into
	// two alternating buffers instead of a new one per batch.
	spare []byte
}

// maxSparePushCap is the largest push batch buffer kept for reuse.
const maxSparePushCap = 64 << 10

// Push queues frame, one whole encoded frame, for the client and reports
// whether it was queued. Safe from any goroutine; it never blocks on the
// socket. A frame that would make the bytes queued and being written
// exceed limit (when limit > 0) closes the connection instead: a
// subscriber that does not read cannot make the server hold unbounded
// memory (Redis's pubsub client-output-buffer-limit class).
func (c *Conn) Push(frame []byte, limit int) bool {
	p := &c.push
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return false
	}
	if pending := len(p.buf) + p.inflight; limit > 0 && pending+len(frame) > limit {
		p.dead, p.buf = true, nil
		p.mu.Unlock()
		c.srv.log.Warn(fmt.Sprintf("Client id=%d addr=%s scheduled to be closed ASAP for overcoming of output buffer limits (pubsub, %d bytes pending).",
			c.id, c.RemoteAddr(), pending))
		c.Close()
		return false
	}
	p.buf = append(p.buf, frame...)
	start := !p.held && !p.writing
	p.writing = p.writing || start
	p.mu.Unlock()
	if start {
		go c.writePushes()
	}
	return true
}

// writePushes writes queued frames until none is left or the owner holds
// them; it is the push writer, started by Push.
func (c *Conn) writePushes() {
	p := &c.push
	for {
		c.writeMu.Lock()
		p.mu.Lock()
		if len(p.buf) == 0 || p.held || p.dead {
			p.writing = false
			p.mu.Unlock()
			c.writeMu.Unlock()
			return
		}
		buf := p.buf
		p.buf, p.spare, p.inflight = p.spare, nil, len(buf)
		p.mu.Unlock()
		err := c.write(buf)
		c.writeMu.Unlock()
		p.mu.Lock()
		p.inflight = 0
		if cap(buf) <= maxSparePushCap {
			p.spare = buf[:0]
		}
		if err != nil {
			p.dead, p.buf, p.writing = true, nil, false
		}
		p.mu.Unlock()
		if err != nil {
			c.Close()
			return
		}
	}
}

// HoldPushes moves the frames queued so far into W and holds later ones
// until the next Flush, which writes them after W's replies. A Pub/Sub
// command calls it before it changes the connection's subscriptions, so
// that its confirmation reaches the client after the messages published
// before the change and before those published after. Owner only.
func (c *Conn) HoldPushes() {
	c.writeMu.Lock() // waits for a push write in progress: its frames come first
	p := &c.push
	p.mu.Lock()
	c.W.buf = append(c.W.buf, p.buf...)
	p.buf, p.held = p.buf[:0], true
	p.mu.Unlock()
	c.writeMu.Unlock()
}

// releasePushesLocked appends the frames queued since HoldPushes to W and
// lets the push writer run again. The caller is the owner holding writeMu.
func (c *Conn) releasePushesLocked() {
	p := &c.push
	p.mu.Lock()
	if p.held || len(p.buf) > 0 {
		c.W.buf = append(c.W.buf, p.buf...)
		p.buf, p.held = p.buf[:0], false
	}
	p.mu.Unlock()
}
