package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Test harness shared by every command test: an in-process Cairn on
// 127.0.0.1:0, go-redis clients in RESP2 and RESP3, a raw RESP connection,
// and a differential helper that sends the same command to a real
// redis-server and to Cairn and compares the reply bytes.

// testNode starts a Cairn node in a temporary directory. settings are
// name/value pairs applied to the config (e.g. "appendfsync", "always").
// The node is closed at the end of the test, which fails if any handler
// panicked.
func testNode(t testing.TB, settings ...string) *Node {
	t.Helper()
	return testNodeIn(t, t.TempDir(), settings...)
}

// testNodeIn is testNode with a given data directory (restart tests).
func testNodeIn(t testing.TB, dir string, settings ...string) *Node {
	t.Helper()
	cfg := NewConfig()
	must(t, cfg.Set("port", "0"))
	must(t, cfg.Set("dir", dir))
	for i := 0; i+1 < len(settings); i += 2 {
		must(t, cfg.Set(settings[i], settings[i+1]))
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n, err := StartNode(cfg, log)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		n.Close()
		if p := n.Cmd.Panics(); p != 0 {
			t.Errorf("%d handler panic(s) were recovered; see the log (CAIRN_TEST_LOG=1)", p)
		}
	})
	return n
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newClient returns a go-redis client speaking protocol proto (2 or 3).
func newClient(t testing.TB, addr string, proto int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, DisableIdentity: false,
		DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// forEachProto runs fn as a subtest against a fresh node for RESP2 and RESP3.
func forEachProto(t *testing.T, fn func(t *testing.T, c *redis.Client)) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			n := testNode(t)
			fn(t, newClient(t, n.Addr(), proto))
		})
	}
}

var ctx = context.Background()

// rawConn is a plain TCP connection that sends raw bytes and reads whole
// replies as raw bytes.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// send writes raw bytes.
func (r *rawConn) send(b string) {
	r.t.Helper()
	r.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(r.nc, b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// do sends a command as a multibulk and returns the raw reply.
func (r *rawConn) do(args ...string) string {
	r.t.Helper()
	r.send(encodeCommand(args))
	return r.reply()
}

// reply reads one complete reply.
func (r *rawConn) reply() string {
	r.t.Helper()
	r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := readReply(r.br)
	if err != nil {
		r.t.Fatalf("read reply: %v (got %q)", err, b)
	}
	return string(b)
}

func encodeCommand(args []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// readReply reads one RESP2 or RESP3 reply, aggregates included, and
// returns its raw bytes.
func readReply(br *bufio.Reader) ([]byte, error) {
	var out []byte
	var read func() error
	read = func() error {
		line, err := br.ReadBytes('\n')
		out = append(out, line...)
		if err != nil {
			return err
		}
		if len(line) < 3 || line[len(line)-2] != '\r' {
			return fmt.Errorf("bad line %q", line)
		}
		body := string(line[1 : len(line)-2])
		switch line[0] {
		case '+', '-', ':', '_', ',', '#', '(':
			return nil
		case '$', '=', '!':
			n, err := strconv.Atoi(body)
			if err != nil {
				return err
			}
			if n < 0 {
				return nil
			}
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(br, buf); err != nil {
				return err
			}
			out = append(out, buf...)
			return nil
		case '*', '~', '>', '%', '|':
			n, err := strconv.Atoi(body)
			if err != nil {
				return err
			}
			if line[0] == '%' || line[0] == '|' {
				n *= 2
			}
			for i := 0; i < n; i++ {
				if err := read(); err != nil {
					return err
				}
			}
			if line[0] == '|' { // an attribute precedes the real reply
				return read()
			}
			return nil
		}
		return fmt.Errorf("unknown reply type %q", line[0])
	}
	err := read()
	return out, err
}

// redisServer is a real redis-server for differential tests.
type redisServer struct {
	addr string
}

// startRedis starts redis-server on a free loopback port without
// persistence. Without a redis-server binary the test is skipped, except
// under CI where it fails.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is required in CI for differential tests")
		}
		t.Skip("redis-server not installed; differential test skipped (make test installs it)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	// Killed with the test binary too (a test timeout skips Cleanup).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			nc.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &redisServer{addr: addr}
}

// differ sends the same commands to redis-server and Cairn over raw
// connections (same protocol on both) and compares the reply bytes.
type differ struct {
	t            testing.TB
	redis, cairn *rawConn
}

// newDiffer starts both servers (or reuses the given Cairn node).
func newDiffer(t testing.TB) *differ {
	t.Helper()
	r := startRedis(t)
	n := testNode(t)
	return &differ{t: t, redis: dialRaw(t, r.addr), cairn: dialRaw(t, n.Addr())}
}

// do sends args to both and fails unless the replies are byte-identical.
func (d *differ) do(args ...string) string {
	d.t.Helper()
	want := d.redis.do(args...)
	got := d.cairn.do(args...)
	if got != want {
		d.t.Errorf("%q:\n redis: %q\n cairn: %q", args, want, got)
	}
	return got
}

// doSorted is do for replies whose element order Redis leaves unspecified
// (KEYS, SMEMBERS ...): a flat array's elements are compared as sorted.
func (d *differ) doSorted(args ...string) {
	d.t.Helper()
	want := d.redis.do(args...)
	got := d.cairn.do(args...)
	if sortReply(got) != sortReply(want) {
		d.t.Errorf("%q (sorted):\n redis: %q\n cairn: %q", args, want, got)
	}
}

// doErr checks that both reply with an error containing substr.
func (d *differ) doErr(substr string, args ...string) {
	d.t.Helper()
	want := d.redis.do(args...)
	got := d.cairn.do(args...)
	if !strings.HasPrefix(want, "-") || !strings.Contains(want, substr) {
		d.t.Errorf("%q: redis replied %q, expected an error containing %q (bad test)", args, want, substr)
	}
	if !strings.HasPrefix(got, "-") || !strings.Contains(got, substr) {
		d.t.Errorf("%q: cairn replied %q, expected an error containing %q", args, got, substr)
	}
}

// sortReply sorts the elements of a flat array reply.
func sortReply(raw string) string {
	br := bufio.NewReader(strings.NewReader(raw))
	head, err := br.ReadString('\n')
	if err != nil || (head[0] != '*' && head[0] != '~') {
		return raw
	}
	var elems []string
	for {
		e, err := readReply(br)
		if errors.Is(err, io.EOF) && len(e) == 0 {
			break
		}
		if err != nil {
			return raw
		}
		elems = append(elems, string(e))
	}
	sort.Strings(elems)
	return head + strings.Join(elems, "")
}

// binPath builds cmd/cairn once per test binary and returns its path.
func binPath(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "cairn-test-bin")
	bin := filepath.Join(dir, fmt.Sprintf("cairn-%d", os.Getpid()))
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	os.MkdirAll(dir, 0o755)
	cmd := exec.Command("go", "build", "-o", bin, "cairn/cmd/cairn")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build cairn: %v\n%s", err, out)
	}
	return bin
}

// waitFor polls cond every 10ms until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
