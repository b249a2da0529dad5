package resp

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// echoHandler replies to ECHO, PING, QUIT, BIG n (n bytes) and PANIC-free
// commands; it counts flushes through BeforeFlush.
type echoHandler struct {
	mu      sync.Mutex
	flushes int
	closed  int
}

func (h *echoHandler) ServeRESP(c *Conn, args [][]byte) {
	if c.BeforeFlush == nil {
		c.BeforeFlush = func() error {
			h.mu.Lock()
			h.flushes++
			h.mu.Unlock()
			return nil
		}
	}
	switch strings.ToLower(string(args[0])) {
	case "ping":
		c.W.Simple("PONG")
	case "echo":
		c.W.Bulk(args[1])
	case "quit":
		c.W.OK()
		c.CloseAfterReply()
	case "big":
		c.W.BulkString(strings.Repeat("x", 1<<20))
	default:
		c.W.Error("ERR unknown")
	}
}

func (h *echoHandler) Closed(c *Conn) {
	h.mu.Lock()
	h.closed++
	h.mu.Unlock()
}

func startEcho(t *testing.T, opts Options) (*Server, *echoHandler, string) {
	t.Helper()
	h := &echoHandler{}
	s := NewServer(opts, h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return s, h, ln.Addr().String()
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return nc, bufio.NewReader(nc)
}

func TestServer_PipelineIsOneFlush(t *testing.T) {
	_, h, addr := startEcho(t, Options{})
	nc, br := dial(t, addr)
	io.WriteString(nc, strings.Repeat("*1\r\n$4\r\nPING\r\n", 50))
	for i := 0; i < 50; i++ {
		line, err := br.ReadString('\n')
		if err != nil || line != "+PONG\r\n" {
			t.Fatalf("reply %d = %q, %v", i, line, err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// The 50 commands arrive in one segment on loopback; allow a split.
	if h.flushes < 1 || h.flushes > 3 {
		t.Fatalf("50 pipelined commands took %d flushes, want 1 (at most 3)", h.flushes)
	}
}

func TestServer_ProtocolErrorClosesWithRedisText(t *testing.T) {
	_, _, addr := startEcho(t, Options{})
	cases := []struct{ in, want string }{
		{"*1\r\n$4\r\nPING\r\n*x\r\n", "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"},
		{"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"PING \"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			nc, br := dial(t, addr)
			io.WriteString(nc, tc.in)
			got, err := io.ReadAll(br)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %q, want %q followed by close", got, tc.want)
			}
		})
	}
}

func TestServer_MaxClients(t *testing.T) {
	s, _, addr := startEcho(t, Options{MaxClients: 2})
	a, abr := dial(t, addr)
	b, bbr := dial(t, addr)
	for _, p := range []struct {
		nc net.Conn
		br *bufio.Reader
	}{{a, abr}, {b, bbr}} {
		io.WriteString(p.nc, "PING\r\n")
		if l, _ := p.br.ReadString('\n'); l != "+PONG\r\n" {
			t.Fatalf("got %q", l)
		}
	}
	_, cbr := dial(t, addr)
	got, _ := io.ReadAll(cbr)
	if string(got) != "-"+MaxClientsError+"\r\n" {
		t.Fatalf("third client got %q", got)
	}
	if st := s.Stats(); st.RejectedConnections != 1 || st.ConnectedClients != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestServer_IdleTimeout(t *testing.T) {
	_, h, addr := startEcho(t, Options{IdleTimeout: 100 * time.Millisecond})
	_, br := dial(t, addr)
	start := time.Now()
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("idle connection got data instead of being closed")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("idle connection was not closed")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		closed := h.closed
		h.mu.Unlock()
		if closed == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Closed was not called")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestServer_QuitFlushesThenCloses(t *testing.T) {
	_, _, addr := startEcho(t, Options{})
	nc, br := dial(t, addr)
	io.WriteString(nc, "PING\r\nQUIT\r\nPING\r\n")
	got, _ := io.ReadAll(br)
	if string(got) != "+PONG\r\n+OK\r\n" {
		t.Fatalf("got %q", got)
	}
}

// A client that pipelines large replies and does not read holds at most
// FlushAt bytes of pending output in the server, plus what the kernel
// buffers: the server writes as it goes instead of accumulating.
func TestServer_OutputIsFlushedAsItGrows(t *testing.T) {
	_, _, addr := startEcho(t, Options{FlushAt: 64 << 10})
	nc, br := dial(t, addr)
	const n = 20
	io.WriteString(nc, strings.Repeat("BIG\r\n", n))
	for i := 0; i < n; i++ {
		head, err := br.ReadString('\n')
		if err != nil || head != "$1048576\r\n" {
			t.Fatalf("reply %d header %q, %v", i, head, err)
		}
		if _, err := io.CopyN(io.Discard, br, 1<<20+2); err != nil {
			t.Fatal(err)
		}
	}
}

func TestServer_CloseWaitsForConnections(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	h := &echoHandler{}
	s := NewServer(Options{}, h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- s.Serve(ln) }()
	for i := 0; i < 5; i++ {
		nc, br := dial(t, ln.Addr().String())
		io.WriteString(nc, "PING\r\n")
		br.ReadString('\n')
	}
	s.Close()
	if err := <-done; err != ErrServerClosed {
		t.Fatalf("Serve returned %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed != 5 {
		t.Fatalf("Closed called %d times, want 5", h.closed)
	}
}
