package commands

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestClient_Differential(t *testing.T) {
	forEachDiffer(t, func(t *testing.T, d *differ, _ *Node) {
		cases := [][]string{
			{"CLIENT", "GETNAME"},
			{"CLIENT", "SETNAME", "a b"},
			{"CLIENT", "SETNAME", "a\nb"},
			{"CLIENT", "SETNAME", "caf\xc3\xa9"},
			{"CLIENT", "SETNAME", "foo"},
			{"CLIENT", "GETNAME"},
			{"CLIENT", "SETNAME", ""},
			{"CLIENT", "GETNAME"},
			{"client", "setname", "x", "y"},
			{"CLIENT", "SETNAME"},
			{"CLIENT", "ID", "x"},
			{"CLIENT", "GETNAME", "x"},
			{"CLIENT"},
			{"CLIENT", "nosuch"},
			{"CLIENT", "KILL"},
			{"CLIENT", "KILL", "1.2.3.4:5"},
			{"CLIENT", "KILL", "id"},
			{"CLIENT", "KILL", "ID", "999999"},
			{"CLIENT", "KILL", "ID", "x"},
			{"CLIENT", "KILL", "ID", "0"},
			{"CLIENT", "KILL", "ID", "-1"},
			{"CLIENT", "KILL", "ID", "1", "x"},
			{"CLIENT", "KILL", "TYPE", "foo"},
			{"CLIENT", "KILL", "TYPE", "master"},
			{"CLIENT", "KILL", "TYPE", "slave"},
			{"CLIENT", "KILL", "TYPE", "replica"},
			{"CLIENT", "KILL", "TYPE", "pubsub"},
			{"CLIENT", "KILL", "TYPE", "normal", "ID", "999999"},
			{"CLIENT", "KILL", "SKIPME", "maybe"},
			{"CLIENT", "KILL", "foo", "bar"},
			{"CLIENT", "KILL", "USER", "nobody"},
			{"CLIENT", "KILL", "USER", "default", "ID", "999999"},
			{"CLIENT", "KILL", "ADDR", "1.1.1.1:1", "SKIPME", "yes"},
			{"CLIENT", "KILL", "LADDR", "1.1.1.1:1"},
			{"CLIENT", "KILL", "ADDR", ""},
			{"CLIENT", "KILL", "MAXAGE", "1"},
			{"CLIENT", "LIST", "TYPE", "foo"},
			{"CLIENT", "LIST", "TYPE", "master"},
			{"CLIENT", "LIST", "TYPE", "PUBSUB"},
			{"CLIENT", "LIST", "ID", "x"},
			{"CLIENT", "LIST", "ID", "999999", "0", "-5"},
			{"CLIENT", "LIST", "ID", "1", "x"},
			{"CLIENT", "LIST", "foo"},
			{"CLIENT", "LIST", "ID"},
			{"CLIENT", "LIST", "TYPE", "normal", "ID", "1"},
			{"CLIENT", "TRACKING"},
			{"CLIENT", "TRACKING", "off"},
			{"CLIENT", "TRACKING", "OFF", "optin"},
			{"CLIENT", "TRACKING", "off", "bcast", "prefix", "a", "noloop", "optout"},
			{"CLIENT", "TRACKING", "foo"},
			{"CLIENT", "TRACKING", "off", "foo"},
			{"CLIENT", "TRACKING", "off", "prefix"},
			{"CLIENT", "TRACKING", "off", "redirect", "x"},
			{"CLIENT", "TRACKING", "on", "redirect", "999999"},
			{"CLIENT", "TRACKING", "on", "redirect", "0"},
			{"CLIENT", "TRACKING", "on", "redirect", "999999", "redirect", "1"},
			{"CLIENT", "TRACKING", "maybe", "redirect", "999999"},
			{"CLIENT", "TRACKINGINFO"},
			{"CLIENT", "GETREDIR"},
			{"CLIENT", "CACHING", "yes"},
			{"CLIENT", "CACHING", "maybe"},
			{"CLIENT", "UNBLOCK", "1", "2", "3"},
			{"CLIENT", "UNBLOCK", "x"},
			{"CLIENT", "UNBLOCK", "1", "foo"},
			{"CLIENT", "UNBLOCK", "x", "foo"},
			{"CLIENT", "UNBLOCK", "999999"},
			{"CLIENT", "UNBLOCK", "999999", "ERROR"},
			{"CLIENT", "UNBLOCK", "999999", "timeout"},
			{"CLIENT", "NO-EVICT", "on"},
			{"CLIENT", "NO-EVICT", "OFF"},
			{"CLIENT", "NO-EVICT", "maybe"},
			{"CLIENT", "NO-EVICT"},
		}
		for _, args := range cases {
			d.do(args...)
		}
	})
}

// The ID, INFO and LIST replies have Redis's shape; values such as ids and
// ports differ between the two servers.
func TestClient_Shapes(t *testing.T) {
	forEachDiffer(t, func(t *testing.T, d *differ, _ *Node) {
		for _, args := range [][]string{{"CLIENT", "ID"}, {"CLIENT", "INFO"}, {"CLIENT", "LIST"}, {"CLIENT", "LIST", "TYPE", "normal"}} {
			want, got := d.redis.do(args...), d.cairn.do(args...)
			if want[0] != got[0] {
				t.Errorf("%q: redis %q, cairn %q", args, want, got)
			}
		}
		// Every CLIENT LIST field, in Redis 7.0's order.
		keys := func(raw string) string {
			line := raw[strings.Index(raw, "id="):]
			line = line[:strings.IndexByte(line, '\n')]
			var ks []string
			for _, f := range strings.Split(line, " ") {
				k, _, _ := strings.Cut(f, "=")
				ks = append(ks, k)
			}
			return strings.Join(ks, " ")
		}
		want, got := keys(d.redis.do("CLIENT", "INFO")), keys(d.cairn.do("CLIENT", "INFO"))
		if want != got {
			t.Errorf("CLIENT INFO fields:\n redis: %s\n cairn: %s", want, got)
		}
		// Inside EXEC the client shows flags=x and the number queued.
		for _, r := range []*rawConn{d.redis, d.cairn} {
			r.do("MULTI")
			r.do("CLIENT", "INFO")
			r.do("CLIENT", "ID")
			line := r.do("EXEC")
			if !strings.Contains(line, " flags=x ") || !strings.Contains(line, " multi=2 ") {
				t.Errorf("CLIENT INFO in EXEC: %q", line)
			}
		}
	})
}

func TestClient_GoRedis(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		id, err := c.ClientID(ctx).Result()
		must(t, err)
		if id <= 0 {
			t.Fatalf("CLIENT ID = %d", id)
		}
		if _, err := c.ClientGetName(ctx).Result(); err != redis.Nil {
			t.Fatalf("CLIENT GETNAME without a name: %v", err)
		}
		// One connection so SETNAME and the reads see the same client.
		conn := c.Conn()
		defer conn.Close()
		must(t, conn.ClientSetName(ctx, "worker-1").Err())
		name, err := conn.ClientGetName(ctx).Result()
		must(t, err)
		if name != "worker-1" {
			t.Fatalf("CLIENT GETNAME = %q", name)
		}
		must(t, conn.Select(ctx, 3).Err())
		info, err := conn.ClientInfo(ctx).Result()
		must(t, err)
		cid, _ := conn.ClientID(ctx).Result()
		if info.ID != cid || info.Name != "worker-1" || info.DB != 3 || info.LastCmd != "client|info" || info.User != "default" {
			t.Fatalf("CLIENT INFO = %+v (id %d)", info, cid)
		}
		list, err := c.ClientList(ctx).Result()
		must(t, err)
		if !strings.Contains(list, "id="+strconv.FormatInt(cid, 10)+" ") || !strings.Contains(list, " name=worker-1 ") {
			t.Fatalf("CLIENT LIST lacks the named client:\n%s", list)
		}
		if got := strings.Count(list, "\n"); got < 2 {
			t.Fatalf("CLIENT LIST has %d lines, want at least 2:\n%s", got, list)
		}
		must(t, c.Do(ctx, "CLIENT", "SETINFO", "LIB-NAME", "mylib").Err())
		must(t, c.Do(ctx, "CLIENT", "SETINFO", "lib-ver", "1.2.3").Err())
		if err := c.Do(ctx, "CLIENT", "SETINFO", "lib-foo", "x").Err(); err == nil || err.Error() != "ERR Unrecognized option 'lib-foo'" {
			t.Fatalf("CLIENT SETINFO lib-foo: %v", err)
		}
		if err := c.Do(ctx, "CLIENT", "SETINFO", "LIB-NAME", "a b").Err(); err == nil || err.Error() != "ERR LIB-NAME cannot contain spaces, newlines or special characters." {
			t.Fatalf("CLIENT SETINFO with a space: %v", err)
		}
		must(t, c.Do(ctx, "CLIENT", "TRACKING", "on").Err()) // tracking_test.go tests it
		must(t, c.Do(ctx, "CLIENT", "TRACKING", "off").Err())
		help, err := c.Do(ctx, "CLIENT", "HELP").StringSlice()
		must(t, err)
		if len(help) < 10 || !strings.HasPrefix(help[0], "CLIENT <subcommand>") || help[len(help)-1] != "    Prints this help." {
			t.Fatalf("CLIENT HELP = %q", help)
		}
	})
}

// go-redis v9 sends CLIENT SETINFO after HELLO on every connection; it must
// succeed so the library name shows on the server side.
func TestClient_SetInfoFromGoRedis(t *testing.T) {
	for _, proto := range []int{2, 3} {
		n := testNode(t)
		c := newClient(t, n.Addr(), proto)
		must(t, c.Ping(ctx).Err())
		var libs []string
		for _, conn := range n.Wire.Clients() {
			name, ver := conn.Lib()
			libs = append(libs, name+"@"+ver)
		}
		if len(libs) != 1 || !strings.HasPrefix(libs[0], "go-redis") || strings.HasSuffix(libs[0], "@") {
			t.Fatalf("resp%d: lib-name/lib-ver seen by the server: %q", proto, libs)
		}
	}
}

// expectClosed reads until the server closes the connection.
func expectClosed(t *testing.T, r *rawConn) {
	t.Helper()
	r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(bufio.NewReader(r.br)); err != nil || len(b) != 0 {
		t.Fatalf("expected the connection to close without data, got %q, %v", b, err)
	}
}

func TestClient_Kill(t *testing.T) {
	n := testNode(t)
	me, victim := dialRaw(t, n.Addr()), dialRaw(t, n.Addr())
	vid := strings.TrimSpace(victim.do("CLIENT", "ID")[1:])

	t.Run("by id", func(t *testing.T) {
		if got := me.do("CLIENT", "KILL", "ID", vid); got != ":1\r\n" {
			t.Fatalf("CLIENT KILL ID = %q", got)
		}
		victim.send(encodeCommand([]string{"PING"}))
		expectClosed(t, victim)
	})
	t.Run("old form by addr", func(t *testing.T) {
		other := dialRaw(t, n.Addr())
		other.do("PING")
		addr := other.nc.LocalAddr().String()
		if got := me.do("CLIENT", "KILL", addr); got != "+OK\r\n" {
			t.Fatalf("CLIENT KILL addr = %q", got)
		}
		expectClosed(t, other)
		if got := me.do("CLIENT", "KILL", addr); got != "-ERR No such client\r\n" {
			t.Fatalf("second CLIENT KILL addr = %q", got)
		}
	})
	t.Run("type normal skips me", func(t *testing.T) {
		a, b := dialRaw(t, n.Addr()), dialRaw(t, n.Addr())
		a.do("PING")
		b.do("PING")
		if got := me.do("CLIENT", "KILL", "TYPE", "normal"); got != ":2\r\n" {
			t.Fatalf("CLIENT KILL TYPE normal = %q", got)
		}
		expectClosed(t, a)
		expectClosed(t, b)
		if got := me.do("PING"); got != "+PONG\r\n" {
			t.Fatalf("killer was killed: %q", got)
		}
	})
	t.Run("laddr", func(t *testing.T) {
		a := dialRaw(t, n.Addr())
		a.do("PING")
		if got := me.do("CLIENT", "KILL", "LADDR", n.Addr()); got != ":1\r\n" {
			t.Fatalf("CLIENT KILL LADDR = %q", got)
		}
		expectClosed(t, a)
	})
	t.Run("myself with skipme no", func(t *testing.T) {
		if got := me.do("CLIENT", "KILL", "SKIPME", "no"); got != ":1\r\n" {
			t.Fatalf("CLIENT KILL SKIPME no = %q", got)
		}
		expectClosed(t, me)
	})
}

func TestClient_ListFilters(t *testing.T) {
	n := testNode(t)
	a, b := dialRaw(t, n.Addr()), dialRaw(t, n.Addr())
	aid := strings.TrimSpace(a.do("CLIENT", "ID")[1:])
	bid := strings.TrimSpace(b.do("CLIENT", "ID")[1:])
	a.do("CLIENT", "SETNAME", "alpha")
	got := b.do("CLIENT", "LIST", "ID", aid, aid, bid)
	lines := strings.Split(strings.TrimSuffix(got[strings.Index(got, "\r\n")+2:len(got)-2], "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "id="+aid+" ") || !strings.HasPrefix(lines[2], "id="+bid+" ") {
		t.Fatalf("CLIENT LIST ID %s %s %s = %q", aid, aid, bid, got)
	}
	if !strings.Contains(lines[0], " name=alpha ") || !strings.Contains(lines[0], " cmd=client|setname ") {
		t.Errorf("line of the other client: %q", lines[0])
	}
	if !strings.Contains(lines[2], " cmd=client|list ") || !strings.Contains(lines[2], " resp=2") {
		t.Errorf("line of the caller: %q", lines[2])
	}
	all := b.do("CLIENT", "LIST", "TYPE", "NORMAL")
	if strings.Count(all, "id=") != 2 {
		t.Errorf("CLIENT LIST TYPE NORMAL = %q", all)
	}
}
