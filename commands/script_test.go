package commands

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"cairn/cluster"
	"cairn/resp"
)

// Scripting tests that need no redis-server: atomicity, the server log,
// the interpreter pool, and cluster routing. The replies themselves are
// compared with Redis in script_diff_test.go.

// EVALSHA of a script hashes to what Redis computes (sha1hex of the exact
// body), so hashes precomputed by client libraries hit.
func TestScript_SHA(t *testing.T) {
	for body, want := range map[string]string{
		"return 1": "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
		"":         "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		// The SHA1s go-redsync ships with its scripts.
		redsyncDelete:  "e950836ed1e694540c503ef9972b8de518044d3b",
		redsyncTouchNX: "b6b55c439e02c6f52ffb8be7ec8c0d0ac816ea79",
		redsyncTouch:   "d75bb8b5bd13532ddedd17762e772346e39b321e",
	} {
		if got := scriptSHA([]byte(body)); got != want {
			t.Errorf("scriptSHA(%q) = %s, want %s", body, got, want)
		}
	}
	n := testNode(t)
	c := dialRaw(t, n.Addr())
	if got := c.do("SCRIPT", "LOAD", "return 1"); got != "$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n" {
		t.Fatalf("SCRIPT LOAD = %q", got)
	}
	if got := c.do("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"); got != ":1\r\n" {
		t.Fatalf("EVALSHA = %q", got)
	}
}

// A script is atomic: concurrent read-modify-write scripts lose no update.
func TestScript_Atomic(t *testing.T) {
	n := testNode(t)
	const clients, each = 4, 100
	const incr = `local v = tonumber(redis.call('GET', KEYS[1]) or '0') redis.call('SET', KEYS[1], v + 1) return v + 1`
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for range clients {
		c := dialRaw(t, n.Addr())
		wg.Go(func() {
			for range each {
				if got := c.do("EVAL", incr, "1", "counter"); !strings.HasPrefix(got, ":") {
					errs <- got
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("EVAL replied %q", e)
	}
	want := fmt.Sprintf("$%d\r\n%d\r\n", len(fmt.Sprint(clients*each)), clients*each)
	if got := dialRaw(t, n.Addr()).do("GET", "counter"); got != want {
		t.Fatalf("GET counter = %q, want %q", got, want)
	}
}

// redis.log writes to the server log at the matching level; debug lines are
// below the default level, as under Redis's default loglevel notice.
func TestScript_Log(t *testing.T) {
	logs := &lockedBuffer{}
	cfg := NewConfig()
	must(t, cfg.Set("port", "0"))
	must(t, cfg.Set("dir", t.TempDir()))
	n, err := StartNode(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	must(t, err)
	t.Cleanup(func() { n.Close() })
	c := dialRaw(t, n.Addr())
	for _, script := range []string{
		"redis.log(redis.LOG_WARNING, 'disk', 'almost', 'full')",
		"redis.log(redis.LOG_NOTICE, 'hello', 42)",
		"redis.log(redis.LOG_DEBUG, 'hidden')",
	} {
		if got := c.do("EVAL", script, "0"); got != "$-1\r\n" {
			t.Fatalf("EVAL %s = %q", script, got)
		}
	}
	out := logs.String()
	for _, want := range []string{`level=WARN msg="disk almost full"`, `level=INFO msg="hello 42"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("debug line logged at the default level:\n%s", out)
	}
}

// Interpreters are reused between scripts (and between clients) without
// leaking globals or library changes, and SCRIPT FLUSH empties the cache.
func TestScript_NoLeaks(t *testing.T) {
	n := testNode(t)
	c1, c2 := dialRaw(t, n.Addr()), dialRaw(t, n.Addr())
	for range 3 {
		for script, want := range map[string]string{
			"rawset(_G, 'leak', 1)":           "readonly table",
			"string.leak = 1":                 "readonly table",
			"redis.call = nil":                "readonly table",
			"setmetatable(_G, nil) x = 1":     "",
			"return type(rawget(_G, 'leak'))": "$3\r\nnil\r\n",
		} {
			got := c1.do("EVAL", script, "0")
			if want != "" && !strings.Contains(got, want) {
				t.Fatalf("EVAL %s = %q, want %q", script, got, want)
			}
		}
		for script, want := range map[string]string{
			"return type(leak)":        "nonexistent global variable 'leak'",
			"return type(string.leak)": "$3\r\nnil\r\n",
			"return type(redis.call)":  "$8\r\nfunction\r\n",
			"return type(x)":           "nonexistent global variable 'x'",
		} {
			if got := c2.do("EVAL", script, "0"); !strings.Contains(got, want) {
				t.Fatalf("EVAL %s = %q, want %q", script, got, want)
			}
		}
	}
	sha := scriptSHA([]byte("return type(leak)"))
	if got := c1.do("SCRIPT", "EXISTS", sha); got != "*1\r\n:1\r\n" {
		t.Fatalf("SCRIPT EXISTS after EVAL = %q", got)
	}
	c1.do("SCRIPT", "FLUSH")
	if got := c2.do("EVALSHA", sha, "0"); got != "-"+errNoScript+"\r\n" {
		t.Fatalf("EVALSHA after SCRIPT FLUSH = %q", got)
	}
}

// In a cluster a script is routed by its keys: it runs on the slot's
// primary from any node, its writes replicate, keys in two slots get
// CROSSSLOT, and a key outside the declared keys' slot is refused.
func TestScript_Cluster(t *testing.T) {
	tc := startCluster(t, 3)
	ctx := context.Background()
	const incr = "return redis.call('INCR', KEYS[1])"
	for i, n := range tc.Nodes {
		c := newClient(t, n.Addr(), 2)
		got, err := c.Eval(ctx, incr, []string{"counter"}).Int()
		if err != nil || got != i+1 {
			t.Fatalf("node %d EVAL INCR = %d, %v; want %d", i, got, err, i+1)
		}
	}
	// The script's writes went through the replicated write path: before
	// any read could repair them, a quorum of nodes holds the last one,
	// stamped with the slot's ballot.
	holding := 0
	for _, n := range tc.Nodes {
		st := n.Store.KeyState(0, []byte("counter"))
		if string(st.Str) == "3" && st.Version.Ballot != 0 {
			holding++
		}
	}
	if holding < 2 {
		t.Fatalf("%d of 3 nodes hold the script's last write as a replicated write; want a quorum", holding)
	}
	for i, n := range tc.Nodes {
		c := newClient(t, n.Addr(), 3)
		if got, err := c.Get(ctx, "counter").Int(); err != nil || got != 3 {
			t.Fatalf("node %d GET counter = %d, %v; want 3", i, got, err)
		}
	}
	// A script without keys may not touch keys: it runs on whichever node
	// receives it, outside any slot's replication.
	c := newClient(t, tc.Nodes[0].Addr(), 2)
	err := c.Eval(ctx, "return redis.call('SET', 'x', 1)", nil).Err()
	if err == nil || !strings.Contains(err.Error(), errScriptNonLocal) {
		t.Fatalf("keyless script writing a key: %v", err)
	}
	if got, err := c.Eval(ctx, "return redis.call('PING')", nil).Text(); err != nil || got != "PONG" {
		t.Fatalf("keyless script running PING = %q, %v", got, err)
	}
	a, b := "a", "b"
	if cluster.KeySlot([]byte(a)) == cluster.KeySlot([]byte(b)) {
		t.Fatal("test keys share a slot")
	}
	if err := c.Eval(ctx, "return 1", []string{a, b}).Err(); err == nil || !strings.HasPrefix(err.Error(), "CROSSSLOT") {
		t.Fatalf("EVAL over two slots: %v, want CROSSSLOT", err)
	}
	err = c.Eval(ctx, "return redis.call('GET', ARGV[1])", []string{a}, b).Err()
	if err == nil || !strings.Contains(err.Error(), errScriptNonLocal) {
		t.Fatalf("EVAL reaching another slot's key: %v", err)
	}
	// "{counter}x" shares counter's slot and is missing: a nil reply.
	if err := c.Eval(ctx, "return redis.call('GET', KEYS[1])", []string{"{counter}x"}).Err(); err != redis.Nil {
		t.Fatalf("EVAL GET of a missing key in the slot: %v, want redis.Nil", err)
	}
}

// A runaway script is stopped by SCRIPT KILL, even one that catches errors
// with pcall, and the server keeps serving, including the keys it read.
func TestScript_Kill(t *testing.T) {
	n := testNode(t)
	runner, killer := dialRaw(t, n.Addr()), dialRaw(t, n.Addr())
	if got := killer.do("SCRIPT", "KILL"); got != "-"+errNotBusy+"\r\n" {
		t.Fatalf("SCRIPT KILL with no script = %q", got)
	}
	for _, script := range []string{
		"redis.call('GET', 'k') while true do end",
		"\nwhile true do pcall(function() while true do end end) end",
	} {
		runner.send(encodeCommand([]string{"EVAL", script, "0"}))
		var got string
		waitFor(t, 10*time.Second, "SCRIPT KILL to find the script", func() bool {
			got = killer.do("SCRIPT", "KILL")
			return got != "-"+errNotBusy+"\r\n"
		})
		if got != "+OK\r\n" {
			t.Fatalf("SCRIPT KILL = %q", got)
		}
		reply := runner.reply()
		if !strings.HasPrefix(reply, "-ERR Script killed by user with SCRIPT KILL... script: "+scriptSHA([]byte(script))+", on @user_script:") {
			t.Fatalf("killed script replied %q", reply)
		}
		if got := killer.do("SET", "k", "v"); got != "+OK\r\n" {
			t.Fatalf("SET after the kill = %q", got)
		}
		if got := runner.do("GET", "k"); got != "$1\r\nv\r\n" {
			t.Fatalf("GET after the kill = %q", got)
		}
	}
}

// SCRIPT KILL refuses when a running script has written.
func TestScript_KillUnkillable(t *testing.T) {
	sc := newScripting()
	killed := 0
	clean, dirty := &scriptRun{}, &scriptRun{}
	clean.cancel = func() { killed++ }
	dirty.cancel = func() { killed++ }
	dirty.wrote.Store(true)
	kill := func() string {
		c := &Ctx{W: resp.NewWriter()}
		sc.cmdKill(c)
		return string(c.W.Buffered())
	}
	sc.running = []*scriptRun{clean, dirty}
	if got := kill(); got != "-"+errUnkillable+"\r\n" || killed != 0 {
		t.Fatalf("SCRIPT KILL with a script that wrote = %q (%d cancelled)", got, killed)
	}
	sc.running = []*scriptRun{clean}
	if got := kill(); got != "+OK\r\n" || killed != 1 || !clean.killed.Load() {
		t.Fatalf("SCRIPT KILL = %q (%d cancelled)", got, killed)
	}
	sc.running = nil
	if got := kill(); got != "-"+errNotBusy+"\r\n" {
		t.Fatalf("SCRIPT KILL with nothing running = %q", got)
	}
}
