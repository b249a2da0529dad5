// Package resp is Cairn's wire layer: listeners, per-connection state, a
// bounded RESP2/RESP3 request reader and a reply writer that encodes
// semantic replies for the connection's protocol.
//
// Ownership: Server owns the listeners and the registry of live connections
// (guarded by Server.mu). Each connection is served by one goroutine that
// owns its reader, its Writer and its Session; see Conn.
package resp

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Handler runs commands. ServeRESP is called on the connection's goroutine
// with the arguments of one command; args alias the read buffer and are
// valid only during the call. Closed is called once when the connection ends.
type Handler interface {
	ServeRESP(c *Conn, args [][]byte)
	Closed(c *Conn)
}

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	// MaxClients bounds simultaneous connections (maxclients, default 10000).
	MaxClients int
	// IdleTimeout closes a client idle this long (timeout; 0 = never).
	IdleTimeout time.Duration
	// Limits bound what one client may send.
	Limits Limits
	// FlushAt is the reply buffer size that forces a write in the middle of a
	// pipeline, bounding the memory of a client's pending output (default 64 KiB).
	FlushAt int
	// Logger receives connection-level events (default slog.Default()).
	Logger *slog.Logger
}

// MaxClientsError is Redis's reply to a connection over maxclients.
const MaxClientsError = "ERR max number of clients reached"

// Server accepts connections and serves each on its own goroutine.
type Server struct {
	opts        Options
	handler     Handler
	log         *slog.Logger
	nextID      atomic.Uint64
	maxClients  atomic.Int64
	idleTimeout atomic.Int64 // nanoseconds; 0 = never
	wg          sync.WaitGroup
	stats       struct {
		connections, rejected, inputBytes, outputBytes atomic.Int64
	}
	// authRequired and protected follow the default ACL user and
	// protected-mode; the command layer sets them (SetAuthRequired,
	// SetProtected).
	authRequired, protected atomic.Bool
	draining                atomic.Bool // Close: connections finish their commands and exit
	// outputLimit bounds the replies a client leaves unwritten (Conn.write);
	// never nil (NewServer stores the zero limit), replaced whole by SetOutputLimit.
	outputLimit atomic.Pointer[OutputLimit]

	mu struct {
		sync.Mutex
		closed    bool
		listeners []net.Listener
		conns     map[uint64]*Conn
	}
}

// NewServer returns a server that dispatches commands to h.
func NewServer(opts Options, h Handler) *Server {
	if opts.MaxClients <= 0 {
		opts.MaxClients = 10000
	}
	if opts.FlushAt <= 0 {
		opts.FlushAt = 64 << 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, handler: h, log: opts.Logger}
	s.SetMaxClients(opts.MaxClients)
	s.SetIdleTimeout(opts.IdleTimeout)
	s.SetOutputLimit(OutputLimit{})
	s.mu.conns = make(map[uint64]*Conn)
	return s
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("resp: server closed")

// Serve accepts connections on ln until Close. It always returns a non-nil error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.mu.listeners = append(s.mu.listeners, ln)
	s.mu.Unlock()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.mu.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return err
		}
		s.accept(nc)
	}
}

func (s *Server) accept(nc net.Conn) {
	s.stats.connections.Add(1)
	c := &Conn{id: s.nextID.Add(1), nc: nc, srv: s, created: time.Now(), W: NewWriter(), done: make(chan struct{})}
	c.lastActive.Store(c.created.UnixMilli())
	c.proto.Store(2)
	c.authenticated.Store(!s.authRequired.Load())
	s.mu.Lock()
	if s.mu.closed || len(s.mu.conns) >= int(s.maxClients.Load()) {
		s.mu.Unlock()
		s.stats.rejected.Add(1)
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write([]byte("-" + MaxClientsError + "\r\n"))
		nc.Close()
		return
	}
	s.mu.conns[c.id] = c
	s.wg.Add(1)
	s.mu.Unlock()
	go s.serve(c)
}

// serve runs the read-dispatch-flush loop of one connection.
func (s *Server) serve(c *Conn) {
	defer s.wg.Done()
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.mu.conns, c.id)
		s.mu.Unlock()
		s.handler.Closed(c)
	}()
	deadlineSet := false
	beforeBlock := func() error {
		if err := c.Flush(); err != nil {
			return err
		}
		if c.closing || s.draining.Load() {
			return io.EOF
		}
		if t := time.Duration(s.idleTimeout.Load()); t > 0 {
			c.nc.SetReadDeadline(time.Now().Add(t))
		} else if deadlineSet {
			c.nc.SetReadDeadline(time.Time{})
		}
		deadlineSet = s.idleTimeout.Load() > 0
		return nil
	}
	if c.denied() {
		c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		c.nc.Write([]byte("-" + DeniedProtectedMode + "\r\n"))
		return
	}
	r := NewReader(countingReader{c.nc, &s.stats.inputBytes}, s.opts.Limits, beforeBlock)
	r.unauthenticated = c.unauthenticated
	for {
		args, err := r.ReadCommand()
		if err != nil {
			var pe *ProtocolError
			if errors.As(err, &pe) {
				c.W.Error("ERR " + pe.Msg)
				c.Flush()
				s.log.Debug("protocol error", "client", c.RemoteAddr(), "err", pe.Msg)
			} else if errors.Is(err, ErrQueryBufferLimit) {
				s.log.Warn("closing client that reached max query buffer length", "client", c.RemoteAddr())
			}
			return
		}
		s.handler.ServeRESP(c, args)
		if c.closing {
			c.Flush()
			return
		}
		if c.W.Len() >= s.opts.FlushAt {
			if c.Flush() != nil {
				return
			}
		}
	}
}

// drainTimeout bounds how long Close lets connections finish the commands
// they are running before it closes them.
const drainTimeout = 5 * time.Second

// Close stops the listeners, lets every connection finish the command it
// is running and send its reply (a write acknowledged by a cluster's
// replicas reaches its client), then closes the connections and waits for
// their goroutines. Connections waiting for input, or blocked in BZPOPMIN,
// end at once without a reply.
func (s *Server) Close() error {
	s.mu.Lock()
	s.mu.closed = true
	for _, ln := range s.mu.listeners {
		ln.Close()
	}
	s.draining.Store(true)
	for _, c := range s.mu.conns {
		c.drain()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(drainTimeout):
		s.mu.Lock()
		for _, c := range s.mu.conns {
			c.Close()
		}
		s.mu.Unlock()
		<-done
	}
	return nil
}

// Clients returns the live connections ordered by id.
func (s *Server) Clients() []*Conn {
	s.mu.Lock()
	out := make([]*Conn, 0, len(s.mu.conns))
	for _, c := range s.mu.conns {
		out = append(out, c)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// Stats are the server's connection counters.
type Stats struct {
	ConnectedClients        int
	TotalConnections        int64
	RejectedConnections     int64
	InputBytes, OutputBytes int64
	MaxClients              int
	IdleTimeout             time.Duration
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.mu.conns)
	s.mu.Unlock()
	return Stats{
		ConnectedClients:    n,
		TotalConnections:    s.stats.connections.Load(),
		RejectedConnections: s.stats.rejected.Load(),
		InputBytes:          s.stats.inputBytes.Load(),
		OutputBytes:         s.stats.outputBytes.Load(),
		MaxClients:          int(s.maxClients.Load()),
		IdleTimeout:         time.Duration(s.idleTimeout.Load()),
	}
}

// SetMaxClients changes maxclients for new connections (CONFIG SET).
func (s *Server) SetMaxClients(n int) { s.maxClients.Store(int64(n)) }

// SetIdleTimeout changes the idle timeout (CONFIG SET timeout); 0 = never.
func (s *Server) SetIdleTimeout(d time.Duration) { s.idleTimeout.Store(int64(d)) }

// OutputLimit is the normal class of client-output-buffer-limit: how many
// reply bytes a client may leave unwritten (see Conn.write). Zero fields
// mean no limit.
type OutputLimit struct {
	// Hard closes a client at once when its pending output reaches it.
	Hard int64
	// Soft closes a client whose pending output stays at or above it for
	// more than SoftSeconds.
	Soft        int64
	SoftSeconds time.Duration
}

// SetOutputLimit changes the output limit; it applies from each
// connection's next flush (CONFIG SET client-output-buffer-limit).
func (s *Server) SetOutputLimit(l OutputLimit) { s.outputLimit.Store(&l) }

// SetAuthRequired tells the server whether clients must authenticate
// (the default user has a password or is off); connections accepted while
// it is false start authenticated, as in Redis.
func (s *Server) SetAuthRequired(v bool) { s.authRequired.Store(v) }

// SetProtected turns protected mode's refusal of non-loopback clients on or
// off (protected-mode yes and a default user without password).
func (s *Server) SetProtected(v bool) { s.protected.Store(v) }

// ResetStats zeroes the cumulative counters (CONFIG RESETSTAT).
func (s *Server) ResetStats() {
	s.stats.connections.Store(0)
	s.stats.rejected.Store(0)
	s.stats.inputBytes.Store(0)
	s.stats.outputBytes.Store(0)
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (cr countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n.Add(int64(n))
	return n, err
}
