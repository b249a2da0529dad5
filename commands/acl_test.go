package commands

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"cairn/resp"
)

// A restricted user through go-redis: command, category and key rules are
// enforced, and the denials reach ACL LOG.
func TestACL_Permissions(t *testing.T) {
	n := testNode(t, "requirepass", "adminpw")
	admin := redis.NewClient(&redis.Options{Addr: n.Addr(), Password: "adminpw"})
	t.Cleanup(func() { admin.Close() })
	must(t, admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "%R~shared:*", "+@read", "+@write", "-del").Err())

	anon := newClient(t, n.Addr(), 2)
	if err := anon.Get(ctx, "x").Err(); err == nil || err.Error() != errNoAuth {
		t.Fatalf("GET without AUTH: %v", err)
	}
	// DisableIdentity: go-redis's CLIENT SETINFO would be denied (and logged) too.
	app := redis.NewClient(&redis.Options{Addr: n.Addr(), Username: "app", Password: "apppw", DisableIdentity: true})
	t.Cleanup(func() { app.Close() })
	must(t, app.Set(ctx, "app:1", "v", 0).Err())
	if v, err := app.Get(ctx, "app:1").Result(); err != nil || v != "v" {
		t.Fatalf("GET app:1 = %q, %v", v, err)
	}
	must(t, admin.Set(ctx, "shared:1", "s", 0).Err())
	if v, err := app.Get(ctx, "shared:1").Result(); err != nil || v != "s" {
		t.Fatalf("GET shared:1 (read-only pattern) = %q, %v", v, err)
	}
	for _, denied := range []struct {
		args []any
		err  string
	}{
		{[]any{"SET", "shared:1", "x"}, errNoPermKeys},
		{[]any{"GET", "other"}, errNoPermKeys},
		{[]any{"DEL", "app:1"}, errNoPermCmd("del")},
		{[]any{"CONFIG", "GET", "maxmemory"}, errNoPermCmd("config|get")},
		{[]any{"ACL", "WHOAMI"}, errNoPermCmd("acl|whoami")},
	} {
		if err := app.Do(ctx, denied.args...).Err(); err == nil || err.Error() != denied.err {
			t.Errorf("%v: got %v, want %q", denied.args, err, denied.err)
		}
	}
	entries, err := admin.Do(ctx, "ACL", "LOG").Slice()
	must(t, err)
	if len(entries) != 5 {
		t.Fatalf("ACL LOG has %d entries, want 5: %v", len(entries), entries)
	}
	// The newest first: ACL WHOAMI denied as a command.
	first := fmt.Sprint(entries[0])
	for _, want := range []string{"reason:command", "object:acl|whoami", "username:app", "context:toplevel"} {
		if !strings.Contains(first, want) {
			t.Errorf("newest ACL LOG entry %s lacks %q", first, want)
		}
	}

	// SETUSER changes apply to connected sessions; DELUSER disconnects them.
	must(t, admin.Do(ctx, "ACL", "SETUSER", "app", "+del").Err())
	must(t, app.Del(ctx, "app:1").Err())
	must(t, admin.Do(ctx, "ACL", "DELUSER", "app").Err())
	if err := app.Get(ctx, "app:2").Err(); err == nil || err == redis.Nil {
		t.Fatalf("a deleted user's connection still runs commands: %v", err)
	}
}

// Category rules are described in the order they were given, and ACL
// LIST reflects the exact permissions.
func TestACL_DescribeOrder(t *testing.T) {
	n := testNode(t)
	c := newClient(t, n.Addr(), 2)
	must(t, c.Do(ctx, "ACL", "SETUSER", "u", "~*", "+@read", "+@write", "-set", "+@read").Err())
	got, err := c.Do(ctx, "ACL", "GETUSER", "u").Slice()
	must(t, err)
	if cmds := got[5]; cmds != "-@all +@write +@read -set" {
		t.Errorf("commands = %q", cmds)
	}
	if r, _ := c.Do(ctx, "ACL", "DRYRUN", "u", "set", "k", "v").Text(); !strings.Contains(r, "'set' command") {
		t.Errorf("DRYRUN set = %q", r)
	}
	if r, _ := c.Do(ctx, "ACL", "DRYRUN", "u", "incr", "k").Text(); r != "OK" {
		t.Errorf("DRYRUN incr = %q", r)
	}
}

// ACL SAVE writes ACL LIST to the aclfile; a restarted node loads it; ACL
// LOAD replaces the users and refuses a bad file without changing them.
func TestACL_File(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "users.acl")
	must(t, os.WriteFile(file, []byte("user default on nopass ~* &* +@all\n"), 0o600))
	n := testNodeIn(t, dir, "aclfile", file)
	c := newClient(t, n.Addr(), 2)
	must(t, c.Do(ctx, "ACL", "SETUSER", "ops", "on", ">opspw", "~ops:*", "+get").Err())
	must(t, c.Do(ctx, "ACL", "SETUSER", "default", "resetpass", ">defpw").Err())
	want, err := c.Do(ctx, "ACL", "LIST").StringSlice()
	must(t, err)
	must(t, c.Do(ctx, "ACL", "SAVE").Err())
	saved, err := os.ReadFile(file)
	must(t, err)
	if string(saved) != strings.Join(want, "\n")+"\n" {
		t.Fatalf("saved file:\n%s\nwant ACL LIST:\n%v", saved, want)
	}
	n.Close()

	n2 := testNodeIn(t, dir, "aclfile", file, "requirepass", "ignored")
	c2 := redis.NewClient(&redis.Options{Addr: n2.Addr(), Username: "ops", Password: "opspw"})
	t.Cleanup(func() { c2.Close() })
	if err := c2.Get(ctx, "ops:1").Err(); err != redis.Nil {
		t.Fatalf("GET as ops after restart: %v", err)
	}
	admin := redis.NewClient(&redis.Options{Addr: n2.Addr(), Password: "defpw"})
	t.Cleanup(func() { admin.Close() })
	got, err := admin.Do(ctx, "ACL", "LIST").StringSlice()
	must(t, err)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("after restart ACL LIST = %v, want %v", got, want)
	}
	must(t, os.WriteFile(file, []byte("user default on nopass ~* &* +@all\nuser bad +nosuchcmd\n"), 0o600))
	if err := admin.Do(ctx, "ACL", "LOAD").Err(); err == nil || !strings.Contains(err.Error(), aclErrUnknownCmd) {
		t.Fatalf("ACL LOAD of a bad file: %v", err)
	}
	if err := admin.Ping(ctx).Err(); err != nil { // the old users are still in place
		t.Fatal(err)
	}
	must(t, os.WriteFile(file, []byte("user default on nopass ~* &* +@all\n"), 0o600))
	must(t, admin.Do(ctx, "ACL", "LOAD").Err())
	if users, _ := admin.Do(ctx, "ACL", "USERS").StringSlice(); fmt.Sprint(users) != "[default]" {
		t.Fatalf("after ACL LOAD users = %v", users)
	}
	// A file that does not load is refused at start-up.
	cfg := NewConfig()
	if err := cfg.Set("aclfile", filepath.Join(dir, "missing.acl")); err == nil {
		t.Fatal("a missing aclfile was accepted")
	}
}

// The default listeners are on loopback only: every socket of the node's
// port in /proc/net/tcp and /proc/net/tcp6 is bound to 127.0.0.1.
func TestACL_DefaultBindLoopback(t *testing.T) {
	n := testNode(t)
	_, port, _ := net.SplitHostPort(n.Addr())
	p, _ := strconv.Atoi(port)
	local := fmt.Sprintf(":%04X", p)
	found := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || !strings.HasSuffix(fields[1], local) || fields[3] != "0A" { // 0A = LISTEN
				continue
			}
			found++
			if fields[1] != "0100007F"+local {
				t.Errorf("%s: listening socket on %s, not 127.0.0.1", f, fields[1])
			}
		}
		fh.Close()
	}
	if found == 0 {
		t.Fatalf("no listening socket for port %d in /proc/net/tcp", p)
	}
}

// Protected mode: a node bound to a non-loopback address, with no
// password, answers clients coming from another network namespace (over a
// veth pair) with Redis's DENIED text and closes; loopback clients, and
// every client once a password is set, are served.
func TestACL_ProtectedMode(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: protected mode needs root to create a network namespace and a veth pair; run as root to check it")
	}
	ns := fmt.Sprintf("cairnacl%d", os.Getpid()%100000)
	hostIf, nsIf := "ca"+strconv.Itoa(os.Getpid()%100000), "cb"+strconv.Itoa(os.Getpid()%100000)
	hostIP, nsIP := "10.213.7.1", "10.213.7.2"
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run("ip", "link", "add", hostIf, "type", "veth", "peer", "name", nsIf)
	t.Cleanup(func() { exec.Command("ip", "link", "del", hostIf).Run() })
	run("ip", "link", "set", nsIf, "netns", ns)
	run("ip", "addr", "add", hostIP+"/24", "dev", hostIf)
	run("ip", "link", "set", hostIf, "up")
	run("ip", "netns", "exec", ns, "ip", "addr", "add", nsIP+"/24", "dev", nsIf)
	run("ip", "netns", "exec", ns, "ip", "link", "set", nsIf, "up")
	run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")

	n := testNode(t, "bind", "127.0.0.1 "+hostIP)
	_, port, _ := net.SplitHostPort(n.Addr())
	remote := func() string {
		t.Helper()
		out, err := exec.Command("ip", "netns", "exec", ns, "redis-cli", "-h", hostIP, "-p", port, "PING").CombinedOutput()
		if err != nil && len(out) == 0 {
			t.Fatalf("redis-cli in the namespace: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := remote(); !strings.Contains(got, resp.DeniedProtectedMode) {
		t.Fatalf("non-loopback client got %q, want the DENIED text", got)
	}
	if got := newClient(t, n.Addr(), 2).Ping(ctx).Val(); got != "PONG" {
		t.Fatalf("loopback client: %q", got)
	}
	local := newClient(t, n.Addr(), 2)
	must(t, local.ConfigSet(ctx, "requirepass", "pw").Err())
	if got := remote(); !strings.Contains(got, "NOAUTH") {
		t.Fatalf("with a password the remote client should reach the NOAUTH check, got %q", got)
	}
	must(t, local.ConfigSet(ctx, "requirepass", "").Err())
	must(t, local.ConfigSet(ctx, "protected-mode", "no").Err())
	if got := remote(); got != "PONG" {
		t.Fatalf("protected-mode no: remote client got %q", got)
	}
}

// Cluster peers authenticate with CAIRN.PEER, not AUTH: a cluster whose
// nodes require a password replicates and forwards writes, including
// commands over the unauthenticated limits.
func TestACL_ClusterPeers(t *testing.T) {
	tc := startCluster(t, 3, "requirepass", "pw", "cluster-key", "k3y")
	c := redis.NewClient(&redis.Options{Addr: tc.Nodes[0].Addr(), Password: "pw", ReadTimeout: 10 * time.Second})
	t.Cleanup(func() { c.Close() })
	big := strings.Repeat("v", 40000)
	for i := 0; i < 20; i++ {
		must(t, c.Set(ctx, fmt.Sprintf("key:%d", i), big, 0).Err())
	}
	for i, n := range tc.Nodes {
		r := redis.NewClient(&redis.Options{Addr: n.Addr(), Password: "pw"})
		for k := 0; k < 20; k++ {
			if v, err := r.Get(ctx, fmt.Sprintf("key:%d", k)).Result(); err != nil || v != big {
				t.Errorf("node %d GET key:%d: %d bytes, %v", i, k, len(v), err)
			}
		}
		r.Close()
	}
	if err := newClient(t, tc.Nodes[1].Addr(), 2).Get(ctx, "key:1").Err(); err == nil || err.Error() != errNoAuth {
		t.Errorf("a client without AUTH on a cluster node: %v", err)
	}
}

// BenchmarkACLCheck measures the per-command permission check of the
// dispatcher for the default user (fast path) and for a user restricted to
// +@read +@write ~bench:* (command lookup, key extraction, glob match).
func BenchmarkACLCheck(b *testing.B) {
	a := newACLState(NewTable(allCommands()))
	restricted := a.newUser("bench")
	for _, r := range []string{"on", "nopass", "+@read", "+@write", "~bench:*"} {
		if why := a.apply(restricted, r); why != "" {
			b.Fatal(why)
		}
	}
	a.publish(&userRef{}, restricted)
	set := a.tab.Get("set")
	args := [][]byte{[]byte("SET"), []byte("bench:123456"), []byte("xxx")}
	for _, u := range []*aclUser{a.def.load(), restricted} {
		b.Run(u.name, func(b *testing.B) {
			for b.Loop() {
				if _, ok := u.check(set, args); !ok {
					b.Fatal("denied")
				}
			}
		})
	}
}
