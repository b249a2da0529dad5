package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rdRedis is a redis-server started for a test.
type rdRedis struct {
	addr string
}

// rdStartRedis starts redis-server 7.0.x on a free loopback port and stops it
// when the test ends. Without redis-server the test is skipped, or fails when
// $CI is set.
func rdStartRedis(t *testing.T) *rdRedis {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server not found: %v", err)
		}
		t.Skip("redis-server not found")
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		t.Fatalf("redis-server --version: %v", err)
	}
	if !regexp.MustCompile(`v=7\.0\.`).Match(out) {
		t.Skipf("the reader follows Redis 7.0; found %s", bytes.TrimSpace(out))
	}
	t.Logf("%s", bytes.TrimSpace(out))
	for attempt := 0; attempt < 3; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		var logs bytes.Buffer
		cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir())
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() {
			cmd.Process.Kill()
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Errorf("redis-server pid %d did not exit", cmd.Process.Pid)
			}
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			select {
			case <-exited:
				t.Logf("redis-server exited (port %d taken?): %s", port, logs.String())
			default:
				if got, closed := rdExchange(addr, "PING\r\n", 6, 0); got == "+PONG\r\n" && !closed {
					t.Cleanup(stop)
					return &rdRedis{addr: addr}
				}
				continue
			}
			break
		}
		stop()
	}
	t.Fatal("could not start redis-server")
	return nil
}

// rdExchange sends in and reads the reply: until the connection closes, or,
// if it stays open, until no byte arrives for quiet. want > 0 ends the read as
// soon as that many bytes arrived. It reports whether the server closed.
func rdExchange(addr, in string, want int, quiet time.Duration) (reply string, closed bool) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", true
	}
	defer conn.Close()
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	go conn.Write([]byte(in)) // Redis may close before reading it all
	var got []byte
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(15 * time.Second)
	for {
		wait := quiet
		if len(got) < want {
			wait = time.Until(deadline) // the reply itself may take a while
		}
		conn.SetReadDeadline(time.Now().Add(wait))
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if want > 0 && len(got) >= want && quiet == 0 {
			return string(got), false
		}
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout():
			return string(got), false
		default: // EOF or reset: closed
			return string(got), true
		}
	}
}

// rdPredictReply returns Redis's reply to a command the tables use, or false.
func rdPredictReply(cmd []string) (string, bool) {
	bulk := func(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }
	arity := func(name string) string { return "-ERR wrong number of arguments for '" + name + "' command\r\n" }
	switch strings.ToLower(cmd[0]) {
	case "ping":
		switch len(cmd) {
		case 1:
			return "+PONG\r\n", true
		case 2:
			return bulk(cmd[1]), true
		default:
			return arity("ping"), true
		}
	case "echo":
		if len(cmd) != 2 {
			return arity("echo"), true
		}
		return bulk(cmd[1]), true
	case "set":
		if len(cmd) == 3 {
			return "+OK\r\n", true
		}
	}
	return "", false
}

// TestReaderMatchesRedis replays every table case against a real
// redis-server: Redis's replies to the commands the reader returned, then
// "-ERR "+Msg and a close for a ProtocolError, nothing and an open connection
// for an incomplete input.
func TestReaderMatchesRedis(t *testing.T) {
	srv := rdStartRedis(t)
	var mu sync.Mutex
	verified := map[string]int{}
	t.Run("cases", func(t *testing.T) {
		for _, c := range rdAllCases(t) {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel() // each case has its own connection; most of the time is waiting for silence
				var want strings.Builder
				for _, cmd := range c.want {
					reply, ok := rdPredictReply(cmd)
					if !ok {
						t.Skipf("cannot predict Redis's reply to %q", cmd)
					}
					want.WriteString(reply)
				}
				kind := "valid"
				switch c.err {
				case "":
				case rdIncomplete:
					kind = "incomplete"
				default:
					kind = "protocol error"
					want.WriteString("-ERR " + c.err + "\r\n")
				}
				got, closed := rdExchange(srv.addr, c.in, want.Len(), 300*time.Millisecond)
				if got != want.String() {
					t.Errorf("redis replied %q\n          want %q", rdClip(got), rdClip(want.String()))
				}
				if closed != (kind == "protocol error") {
					t.Errorf("redis closed the connection: %v (%s case)", closed, kind)
				}
				mu.Lock()
				verified[kind]++
				mu.Unlock()
			})
		}
	})
	t.Logf("verified against redis: %v", verified)
	if verified["protocol error"] != len(rdProtocolErrorCases) || verified["incomplete"] != len(rdIncompleteCases) ||
		verified["valid"] < len(rdValidCases)-2 {
		t.Errorf("verified %v of %d/%d/%d cases", verified, len(rdValidCases), len(rdIncompleteCases), len(rdProtocolErrorCases))
	}
}

func rdClip(s string) string {
	if len(s) > 200 {
		return s[:100] + fmt.Sprintf("...(%d bytes)...", len(s)-200) + s[len(s)-100:]
	}
	return s
}

// TestReaderLimitsMatchRedis checks the configurable limits at Redis's
// smallest settings (1 MiB each).
func TestReaderLimitsMatchRedis(t *testing.T) {
	srv := rdStartRedis(t)
	config := func(name, value string) {
		t.Helper()
		in := fmt.Sprintf("*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(name), name, len(value), value)
		if got, _ := rdExchange(srv.addr, in, 5, 0); got != "+OK\r\n" {
			t.Fatalf("CONFIG SET %s %s: %q", name, value, got)
		}
	}
	const mib = 1 << 20
	config("client-query-buffer-limit", strconv.Itoa(mib))
	for _, tc := range []struct {
		name    string
		maxBulk int64 // proto-max-bulk-len on both sides
		in      string
		err     error // the reader's; Redis replies -ERR and closes, closes silently, or waits
	}{
		{"bulk at proto-max-bulk-len", mib, "*1\r\n$1048576\r\nabc", io.ErrUnexpectedEOF},
		{"bulk over proto-max-bulk-len", mib, "*1\r\n$1048577\r\n", &ProtocolError{"Protocol error: invalid bulk length"}},
		{"pending command under the query buffer limit", 4 * mib, "*1\r\n$2000000\r\n" + rdRepeat("a", mib-100), io.ErrUnexpectedEOF},
		{"pending command over the query buffer limit", 4 * mib, "*1\r\n$2000000\r\n" + rdRepeat("a", mib+100), ErrQueryBufferLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config("proto-max-bulk-len", strconv.FormatInt(tc.maxBulk, 10))
			lim := Limits{MaxBulkLen: tc.maxBulk, MaxQueryBuffer: mib}
			_, err := rdReadAll(NewReader(&rdChunkReader{data: []byte(tc.in), sizes: []int{rdChunk}}, lim, nil))
			if !rdSameErr(err, tc.err) {
				t.Fatalf("reader: got %v, want %v", err, tc.err)
			}
			want, wantClosed := "", false
			var pe *ProtocolError
			switch {
			case errors.As(tc.err, &pe):
				want, wantClosed = "-ERR "+pe.Msg+"\r\n", true
			case tc.err == ErrQueryBufferLimit:
				wantClosed = true
			}
			got, closed := rdExchange(srv.addr, tc.in, len(want), 500*time.Millisecond)
			if got != want || closed != wantClosed {
				t.Errorf("redis: replied %q, closed %v; want %q, closed %v", got, closed, want, wantClosed)
			}
		})
	}
}
