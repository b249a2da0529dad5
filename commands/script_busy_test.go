package commands

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// Tests of the script time limit: BUSY replies once a script has run past
// busy-reply-threshold, SCRIPT KILL, and SHUTDOWN NOSAVE during a runaway
// script. The reply texts are compared with redis-server 7.0.

const busyReply = "-" + errBusyScript + "\r\n"

// waitBusy polls PING on c until it is refused with BUSY.
func waitBusy(t *testing.T, c *rawConn) {
	t.Helper()
	waitFor(t, 10*time.Second, "PING to be refused with BUSY", func() bool {
		got := c.do("PING")
		if got != busyReply && got != "+PONG\r\n" {
			t.Fatalf("PING while a script runs = %q", got)
		}
		return got == busyReply
	})
}

// A runaway script makes other clients' commands BUSY once it has run past
// the threshold (set through its old name, lua-time-limit); MULTI still
// works but its queued commands are refused and EXEC aborts; SCRIPT KILL
// stops the script, its caller gets the kill error, and the server serves
// again.
func TestScript_Busy(t *testing.T) {
	n := testNode(t)
	runner, other := dialRaw(t, n.Addr()), dialRaw(t, n.Addr())
	if got := other.do("CONFIG", "SET", "lua-time-limit", "50"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET lua-time-limit = %q", got)
	}
	if got := other.do("CONFIG", "GET", "busy-reply-threshold"); got != "*2\r\n$20\r\nbusy-reply-threshold\r\n$2\r\n50\r\n" {
		t.Fatalf("CONFIG GET busy-reply-threshold = %q", got)
	}
	other.do("SET", "k", "v")
	const script = "while true do end"
	runner.send(encodeCommand([]string{"EVAL", script, "0"}))
	waitBusy(t, other)
	for _, step := range [][]string{{"GET", "k"}, {"SET", "k", "w"}, {"EVAL", "return 1", "0"}, {"SCRIPT", "FLUSH"}} {
		if got := other.do(step...); got != busyReply {
			t.Errorf("%q while busy = %q", step, got)
		}
	}
	if got := other.do("MULTI"); got != "+OK\r\n" {
		t.Fatalf("MULTI while busy = %q", got)
	}
	if got := other.do("GET", "k"); got != busyReply {
		t.Fatalf("GET queued while busy = %q", got)
	}
	if got := other.do("EXEC"); got != "-EXECABORT Transaction discarded because of: "+errBusyScript+"\r\n" {
		t.Fatalf("EXEC while busy = %q", got)
	}
	if got := other.do("SCRIPT", "KILL"); got != "+OK\r\n" {
		t.Fatalf("SCRIPT KILL = %q", got)
	}
	want := "-" + errScriptKilled + " script: " + scriptSHA([]byte(script)) + ", on @user_script:1.\r\n"
	if got := runner.reply(); got != want {
		t.Fatalf("killed script replied %q, want %q", got, want)
	}
	for _, c := range []*rawConn{other, runner} {
		if got := c.do("GET", "k"); got != "$1\r\nv\r\n" {
			t.Fatalf("GET after the kill = %q", got)
		}
	}
	// The interpreter of the killed script serves the next one.
	if got := runner.do("EVAL", "local n = 0 for i = 1, 1000 do n = n + i end return n", "0"); got != ":500500\r\n" {
		t.Fatalf("EVAL after the kill = %q", got)
	}
}

// SHUTDOWN NOSAVE stops a script that cannot be killed (it wrote), and the
// node closes; SHUTDOWN without NOSAVE is BUSY.
func TestScript_BusyShutdownNoSave(t *testing.T) {
	n := testNode(t, "busy-reply-threshold", "50")
	runner, other := dialRaw(t, n.Addr()), dialRaw(t, n.Addr())
	runner.send(encodeCommand([]string{"EVAL", "redis.call('SET', 'k', 'v') while true do end", "0"}))
	waitBusy(t, other)
	if got := other.do("SCRIPT", "KILL"); got != "-"+errUnkillable+"\r\n" {
		t.Fatalf("SCRIPT KILL of a script that wrote = %q", got)
	}
	if got := other.do("SHUTDOWN"); got != busyReply {
		t.Fatalf("SHUTDOWN while busy = %q", got)
	}
	other.send(encodeCommand([]string{"SHUTDOWN", "NOSAVE"}))
	select {
	case <-n.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the node did not close after SHUTDOWN NOSAVE during a runaway script")
	}
	for _, c := range []*rawConn{other, runner} {
		if err := readUntilEOF(c); err != nil {
			t.Fatalf("connection after SHUTDOWN NOSAVE: %v", err)
		}
	}
}

// readUntilEOF reads replies until the server closes the connection.
func readUntilEOF(c *rawConn) error {
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range 10 {
		if _, err := readReply(c.br); err != nil {
			if errors.Is(err, io.EOF) || strings.Contains(err.Error(), "connection reset") {
				return nil
			}
			return err
		}
	}
	return errors.New("still replying")
}

// busyPair is one server's connections for TestScript_BusyDiff.
type busyPair struct{ runner, other *rawConn }

// The BUSY, EXECABORT, kill and UNKILLABLE texts are Redis 7.0's.
func TestScript_BusyDiff(t *testing.T) {
	r := startRedis(t)
	n := testNode(t)
	servers := []busyPair{
		{dialRaw(t, r.addr), dialRaw(t, r.addr)},
		{dialRaw(t, n.Addr()), dialRaw(t, n.Addr())},
	}
	// both sends args on each server's other connection and compares.
	both := func(args ...string) {
		t.Helper()
		want, got := servers[0].other.do(args...), servers[1].other.do(args...)
		if got != want {
			t.Errorf("%q:\n redis: %q\n cairn: %q", args, want, got)
		}
	}
	runaway := func(script string) {
		t.Helper()
		for _, p := range servers {
			p.runner.send(encodeCommand([]string{"EVAL", script, "0"}))
		}
		for _, p := range servers {
			waitBusy(t, p.other)
		}
	}
	both("CONFIG", "SET", "busy-reply-threshold", "100")
	both("CONFIG", "GET", "lua-time-limit")
	both("CONFIG", "SET", "lua-time-limit", "abc")
	both("CONFIG", "SET", "lua-time-limit", "-1")
	both("CONFIG", "SET", "lua-time-limit", "100", "busy-reply-threshold", "100")
	both("SET", "k", "v")
	both("SCRIPT", "KILL")

	runaway("local i = 0\nwhile true do i = i + 1 end")
	for _, step := range [][]string{
		{"PING"}, {"GET", "k"}, {"SET", "k", "w"}, {"EVAL", "return 1", "0"}, {"EVALSHA", "x", "0"},
		{"SCRIPT", "LOAD", "return 1"}, {"CONFIG", "GET", "busy-reply-threshold"}, {"EXEC"},
		{"MULTI"}, {"GET", "k"}, {"PING"}, {"EXEC"}, {"EXEC"},
		{"SHUTDOWN", "NOSUCH"}, {"SHUTDOWN", "ABORT"},
	} {
		both(step...)
	}
	both("SCRIPT", "KILL")
	for i, p := range servers {
		if i == 0 {
			continue
		}
		want, got := servers[0].runner.reply(), p.runner.reply()
		if got != want {
			t.Errorf("killed script's reply:\n redis: %q\n cairn: %q", want, got)
		}
	}
	both("GET", "k")
	both("SCRIPT", "KILL")

	runaway("redis.call('SET', 'k', 'x')\nwhile true do end")
	both("SCRIPT", "KILL")
	both("GET", "k")
	both("SHUTDOWN")
	for _, p := range servers {
		p.other.send(encodeCommand([]string{"SHUTDOWN", "NOSAVE"}))
	}
	for i, p := range servers {
		for _, c := range []*rawConn{p.other, p.runner} {
			if err := readUntilEOF(c); err != nil {
				t.Errorf("server %d: connection after SHUTDOWN NOSAVE: %v", i, err)
			}
		}
	}
	select {
	case <-n.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("cairn did not close after SHUTDOWN NOSAVE")
	}
}
