package commands

import (
	"bufio"
	"strings"
	"testing"
)

// AUTH and ACL replies compared byte for byte with redis-server 7.0.

func TestACLDiff_Replies(t *testing.T) {
	d := newDiffer(t)
	d.do("AUTH", "foo")
	d.do("AUTH", "nouser", "x")
	d.do("AUTH", "a", "b", "c")
	d.do("ACL", "WHOAMI")
	d.do("ACL", "LIST")
	d.do("ACL", "GETUSER", "default")
	d.do("ACL", "GETUSER", "nosuch")
	d.do("ACL", "USERS")
	for _, cmd := range [][]string{
		// Category rules in the order Redis's best-fit description prints
		// them (TestACL_DescribeOrder covers the other order).
		{"ACL", "SETUSER", "u1", "on", ">p1", "~bench:*", "%R~r:*", "&ch", "+@write", "+@read"},
		{"ACL", "SETUSER", "u2", "+get", "-@all", "+config|get"}, // one single command: Redis prints several in hash order
		{"ACL", "SETUSER", "u3", "allcommands", "-@dangerous"},
		{"ACL", "SETUSER", "u4", "reset", "+@read", "-@read"},
		{"ACL", "SETUSER", "u5", "+config", "-config|set", "~a", "%R~a", "%W~b", "%R~b", "nopass"},
		{"ACL", "SETUSER", "u6", "#" + strings.Repeat("ab", 32), ">x", "<x", "allchannels", "allkeys"},
		{"ACL", "SETUSER", "u7", "+@all", "-get", "+get", "resetkeys", "~k*", "on", "nopass"},
	} {
		d.do(cmd...)
		d.do("ACL", "GETUSER", cmd[2])
	}
	d.do("ACL", "LIST")
	d.do("ACL", "USERS")
	for _, bad := range [][]string{
		{"ACL", "SETUSER", "x", "foo"},
		{"ACL", "SETUSER", "x", "+nosuch"},
		{"ACL", "SETUSER", "x", "#abc"},
		{"ACL", "SETUSER", "x", "<nopw"},
		{"ACL", "SETUSER", "x", "%X~a"},
		{"ACL", "SETUSER", "x", "%~a"},
		{"ACL", "SETUSER", "x", "+config|get|x"},
		{"ACL", "SETUSER", "x", "allkeys", "~b"},
		{"ACL", "SETUSER", "x", "&*", "&c"},
		{"ACL", "SETUSER", "a b"},
		{"ACL", "DELUSER", "default"},
		{"ACL", "CAT", "nosuch"},
		{"ACL", "GENPASS", "0"},
		{"ACL", "GENPASS", "5000"},
		{"ACL", "GENPASS", "x"},
		{"ACL", "LOG", "1", "2"},
		{"ACL", "LOG", "x"},
		{"ACL", "SAVE"},
		{"ACL", "LOAD"},
		{"ACL", "DRYRUN", "nouser", "get", "x"},
		{"ACL", "DRYRUN", "u1", "nocmd"},
		{"ACL", "DRYRUN", "u1", "get"},
	} {
		d.do(bad...)
	}
	d.do("ACL", "USERS") // the failed SETUSERs created no user
	d.do("ACL", "DRYRUN", "u1", "set", "bench:1", "x")
	d.do("ACL", "DRYRUN", "u1", "config", "get", "x")
	d.do("ACL", "DRYRUN", "u1", "set", "foo", "x")
	d.do("ACL", "DRYRUN", "u5", "get", "b")
	d.do("ACL", "DRYRUN", "u5", "set", "b", "1")
	d.do("ACL", "DRYRUN", "u5", "set", "a", "1")
	d.do("ACL", "DELUSER", "u6", "nosuch", "u4")
	d.do("ACL", "USERS")
	d.do("ACL", "CAT")
	d.do("ACL", "HELP")

	// A restricted user: NOPERM texts and the MULTI interplay.
	d.do("ACL", "SETUSER", "lim", "on", ">pw", "~k*", "%R~ro*", "+get", "+set", "+multi", "+exec", "+incr")
	d.do("AUTH", "lim", "wrong")
	d.do("AUTH", "lim", "pw")
	d.do("ACL", "WHOAMI")
	d.do("SET", "k1", "v")
	d.do("GET", "k1")
	d.do("GET", "other")
	d.do("SET", "ro1", "v")
	d.do("GET", "ro1")
	d.do("DEL", "k1")
	d.do("CONFIG", "GET", "maxmemory")
	d.do("MULTI")
	d.do("GET", "other")
	d.do("INCR", "k2")
	d.do("EXEC")
	d.do("HELLO", "2", "AUTH", "lim", "bad")
	d.do("HELLO", "2", "AUTH", "nosuch", "x")
	d.do("AUTH", "default", "x")
	d.do("QUIT")
}

// The ACL LOG entries have Redis's fields, values and order; only the age
// and the client-info line (ids, ports, memory) differ.
func TestACLDiff_Log(t *testing.T) {
	d := newDiffer(t)
	d.do("ACL", "SETUSER", "lg", "on", "nopass", "~k*", "+get", "+multi")
	d.do("AUTH", "lg", "x")
	d.do("GET", "zz")
	d.do("GET", "zz")
	d.do("SET", "k", "v")
	d.do("MULTI")
	d.do("GET", "other")
	d.do("AUTH", "bad", "pw")
	want, got := d.redis.do("ACL", "LOG"), d.cairn.do("ACL", "LOG")
	if w, g := logShape(t, want), logShape(t, got); w != g {
		t.Errorf("ACL LOG:\n redis: %s\n cairn: %s", w, g)
	}
	d.do("ACL", "LOG", "RESET")
	d.do("ACL", "LOG")
}

// logShape renders an ACL LOG reply with age-seconds and client-info
// replaced by placeholders.
func logShape(t *testing.T, raw string) string {
	t.Helper()
	n, err := rtParse(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	var b strings.Builder
	for _, e := range n.elems {
		b.WriteString("{")
		for i := 0; i+1 < len(e.elems); i += 2 {
			k, v := e.elems[i].str, e.elems[i+1].str
			switch k {
			case "age-seconds":
				v = "<age>"
			case "client-info":
				v = "<client-info>"
			}
			b.WriteString(k + "=" + v + " ")
		}
		b.WriteString("}")
	}
	return b.String()
}

// The unauthenticated limits answer exactly as Redis and close the
// connection.
func TestACLDiff_UnauthenticatedLimits(t *testing.T) {
	r := startRedis(t)
	rc := dialRaw(t, r.addr)
	rc.do("CONFIG", "SET", "requirepass", "s3cret")
	n := testNode(t, "requirepass", "s3cret")
	for _, req := range []string{
		"*11\r\n",
		"*1\r\n$16385\r\n",
		"*10\r\n$4\r\nPING\r\n",
		"*2\r\n$16384\r\n",
	} {
		red, cai := dialRaw(t, r.addr), dialRaw(t, n.Addr())
		red.send(req)
		cai.send(req)
		if strings.HasSuffix(req, "\r\n$4\r\nPING\r\n") || strings.HasSuffix(req, "$16384\r\n") {
			// Within the limits: both wait for the rest of the command.
			red.send("\r\n")
			continue
		}
		want, got := red.reply(), cai.reply()
		if want != got {
			t.Errorf("%q:\n redis: %q\n cairn: %q", req, want, got)
		}
		if !strings.Contains(got, "unauthenticated") {
			t.Errorf("%q: got %q", req, got)
		}
	}
	// Authenticated clients have the normal limits.
	big := strings.Repeat("x", 20000)
	for _, addr := range []string{r.addr, n.Addr()} {
		c := dialRaw(t, addr)
		if got := c.do("AUTH", "s3cret"); got != "+OK\r\n" {
			t.Fatalf("AUTH: %q", got)
		}
		args := []string{"MSET"}
		for i := 0; i < 12; i++ {
			args = append(args, "k", big)
		}
		if got := c.do(args...); got != "+OK\r\n" {
			t.Errorf("%s: big MSET after AUTH: %q", addr, got)
		}
	}
}

// NOAUTH for every command but AUTH/HELLO/QUIT while the default user has
// a password; CONFIG SET requirepass at run time.
func TestACLDiff_RequirePass(t *testing.T) {
	d := newDiffer(t)
	d.do("CONFIG", "SET", "requirepass", "pw")
	// Connections made before keep their authentication (Redis).
	d.do("GET", "x")
	red, cai := dialRaw(t, d.redis.nc.RemoteAddr().String()), dialRaw(t, d.cairn.nc.RemoteAddr().String())
	d2 := &differ{t: t, redis: red, cairn: cai}
	d2.do("GET", "x")
	d2.do("PING")
	d2.do("MULTI")
	d2.do("HELLO", "3")
	d2.do("HELLO", "2", "SETNAME", "x")
	d2.do("AUTH", "wrong")
	d2.do("AUTH", "default", "wrong")
	d2.do("AUTH", "pw")
	d2.do("GET", "x")
	d2.do("CONFIG", "SET", "requirepass", "")
	d2.do("AUTH", "pw")
	d2.do("CONFIG", "GET", "requirepass")
}
