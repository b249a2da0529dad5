package resp

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitHandler's WAIT command blocks on the connection's goroutine until
// Conn.Done is closed (or 10s pass), as a blocking command does; it
// reports each connection to the test and whether Done was closed by the
// time Closed ran.
type waitHandler struct {
	conns   chan *Conn
	waiting chan struct{} // one send per WAIT that started waiting
	mu      sync.Mutex
	closed  []bool // per Closed call: was Done already closed?
}

func (h *waitHandler) ServeRESP(c *Conn, args [][]byte) {
	switch strings.ToLower(string(args[0])) {
	case "hello":
		h.conns <- c
		c.W.OK()
	case "wait":
		h.waiting <- struct{}{}
		select {
		case <-c.Done():
			c.W.Simple("DONE")
		case <-time.After(10 * time.Second):
			c.W.Simple("TIMEOUT")
		}
	}
}

func (h *waitHandler) Closed(c *Conn) {
	done := false
	select {
	case <-c.Done():
		done = true
	default:
	}
	h.mu.Lock()
	h.closed = append(h.closed, done)
	h.mu.Unlock()
}

func startWait(t *testing.T) (*Server, *waitHandler, string) {
	t.Helper()
	h := &waitHandler{conns: make(chan *Conn, 4), waiting: make(chan struct{}, 4)}
	s := NewServer(Options{}, h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return s, h, ln.Addr().String()
}

func recvWithin[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// Conn.Close, from another goroutine (CLIENT KILL), closes Done: a command
// waiting on it returns and the connection's goroutine exits.
func TestConn_DoneClosedByClose(t *testing.T) {
	s, h, addr := startWait(t)
	nc, br := dial(t, addr)
	io.WriteString(nc, "*1\r\n$5\r\nHELLO\r\n")
	c := recvWithin(t, h.conns, "the connection")
	if line, err := br.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("HELLO reply: %q %v", line, err)
	}
	io.WriteString(nc, "*1\r\n$4\r\nWAIT\r\n")
	recvWithin(t, h.waiting, "WAIT to start")
	c.Close()
	c.Close() // idempotent
	// The reply written after Done cannot be sent on the closed socket;
	// the client sees the connection end.
	if b, err := br.ReadByte(); err == nil {
		t.Fatalf("read %q after Close, want end of connection", b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().ConnectedClients != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the connection's goroutine did not exit")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Server.Close closes Done of every connection, so it does not wait
// forever for a goroutine blocked in a command.
func TestConn_DoneClosedByServerClose(t *testing.T) {
	s, h, addr := startWait(t)
	nc, _ := dial(t, addr)
	io.WriteString(nc, "*1\r\n$4\r\nWAIT\r\n")
	recvWithin(t, h.waiting, "WAIT to start")
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	recvWithin(t, closed, "Server.Close to return")
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.closed) != 1 || !h.closed[0] {
		t.Fatalf("Done closed before Closed: %v, want [true]", h.closed)
	}
}

// Done is closed once the connection ends on its own (the client hangs
// up), before the handler's Closed runs.
func TestConn_DoneClosedWhenClientLeaves(t *testing.T) {
	s, h, addr := startWait(t)
	nc, br := dial(t, addr)
	io.WriteString(nc, "*1\r\n$5\r\nHELLO\r\n")
	c := recvWithin(t, h.conns, "the connection")
	if line, err := br.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("HELLO reply: %q %v", line, err)
	}
	select {
	case <-c.Done():
		t.Fatal("Done closed while the connection is open")
	default:
	}
	nc.Close()
	recvWithin(t, c.Done(), "Done after the client left")
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		closed := append([]bool(nil), h.closed...)
		h.mu.Unlock()
		if len(closed) > 0 {
			if len(closed) != 1 || !closed[0] || s.Stats().ConnectedClients != 0 {
				t.Fatalf("Done closed before Closed: %v, want [true]; %d clients", closed, s.Stats().ConnectedClients)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the connection's goroutine did not exit")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
