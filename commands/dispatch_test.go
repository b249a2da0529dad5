package commands

import (
	"strings"
	"testing"
)

// A panicking handler answers an error, the connection and the server keep
// serving, and the panic is counted (which fails any other test).
func TestDispatch_PanicIsRecovered(t *testing.T) {
	n := testNode(t)
	n.Cmd.table.Get("echo").Handler = func(*Ctx) { panic("boom") }
	r := dialRaw(t, n.Addr())
	if got := r.do("SET", "k", "v"); got != "+OK\r\n" {
		t.Fatalf("SET = %q", got)
	}
	r.send(encodeCommand([]string{"ECHO", "x"}) + encodeCommand([]string{"GET", "k"}))
	if got := r.reply(); got != "-"+errInternal+"\r\n" {
		t.Fatalf("panicking ECHO = %q", got)
	}
	if got := r.reply(); got != "$1\r\nv\r\n" {
		t.Fatalf("GET after the panic = %q", got)
	}
	if got := dialRaw(t, n.Addr()).do("PING"); got != "+PONG\r\n" {
		t.Fatalf("new connection PING = %q", got)
	}
	if p := n.Cmd.Panics(); p != 1 {
		t.Fatalf("Panics() = %d, want 1", p)
	}
	n.Cmd.panics.Store(0) // expected here; the cleanup fails on unexpected ones
}

// A panic inside EXEC fails only that command of the transaction.
func TestDispatch_PanicInsideExec(t *testing.T) {
	n := testNode(t)
	n.Cmd.table.Get("echo").Handler = func(*Ctx) { panic("boom") }
	r := dialRaw(t, n.Addr())
	r.do("MULTI")
	r.do("SET", "a", "1")
	r.do("ECHO", "x")
	r.do("SET", "b", "2")
	got := r.do("EXEC")
	want := "*3\r\n+OK\r\n-" + errInternal + "\r\n+OK\r\n"
	if got != want {
		t.Fatalf("EXEC = %q, want %q", got, want)
	}
	if got := r.do("MGET", "a", "b"); !strings.Contains(got, "1") || !strings.Contains(got, "2") {
		t.Fatalf("MGET = %q", got)
	}
	n.Cmd.panics.Store(0)
}

// Unknown commands and subcommands, and wrong arity, use Redis's texts
// (compared with redis-server, including inside MULTI).
func TestDispatch_RejectionsMatchRedis(t *testing.T) {
	d := newDiffer(t)
	for _, cmd := range [][]string{
		{"NOSUCH"}, {"nosuch", "a", "b", strings.Repeat("x", 200)}, {"CONFIG", "NOSUCH"},
		{"config"}, {"GET"}, {"GET", "a", "b"}, {"client", "nosuch", "x"},
		{"MULTI"}, {"GET"}, {"SET", "k", "v"}, {"EXEC"}, {"GET", "k"},
	} {
		d.do(cmd...)
	}
}
