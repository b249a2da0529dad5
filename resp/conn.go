package resp

import (
	"net"
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
	closing    bool          // owner only: close after the pending replies are written
	done       chan struct{} // closed by Close, once (closeOnce)
	closeOnce  sync.Once

	mu struct {
		sync.Mutex
		name, libName, libVer string
	}
}

// ID is the connection's unique id (CLIENT ID).
func (c *Conn) ID() uint64 { return c.id }

// RemoteAddr is the client's address as "ip:port".
func (c *Conn) RemoteAddr() string { return c.nc.RemoteAddr().String() }

// LocalAddr is the server side address as "ip:port".
func (c *Conn) LocalAddr() string { return c.nc.LocalAddr().String() }

// FD is the socket's file descriptor number (CLIENT LIST fd=), or -1 when
// the connection has none or is closed. Safe from any goroutine.
func (c *Conn) FD() int {
	sc, ok := c.nc.(syscall.Conn)
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

// Done is closed once the connection is closed: by Close (CLIENT KILL,
// server Close) or when its goroutine exits. A command that waits on the
// connection's goroutine (BZPOPMIN) selects on it to stop waiting for a
// client that is gone. It does not notice the peer hanging up: only a read
// does. Safe from any goroutine.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Flush runs BeforeFlush and writes the buffered replies. Owner only.
func (c *Conn) Flush() error {
	if c.BeforeFlush != nil {
		if err := c.BeforeFlush(); err != nil {
			return err
		}
	}
	if c.W.Len() == 0 {
		return nil
	}
	n, err := c.nc.Write(c.W.buf)
	c.srv.stats.outputBytes.Add(int64(n))
	c.W.Reset()
	if cap(c.W.buf) > maxIdleWriterCap {
		c.W.buf = nil // do not pin a huge reply buffer on an idle client
	}
	return err
}

// maxIdleWriterCap is the largest reply buffer kept between pipelines.
const maxIdleWriterCap = 1 << 20
