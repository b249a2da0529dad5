package commands

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Tests of blocking.go through BZPOPMIN, BZPOPMAX and BZMPOP: waking on a
// write, timeouts, MULTI, kills and shutdown while blocked. A blocked
// client is a raw connection whose reply is read later; the test waits for
// it to be running the command (CLIENT LIST cmd=) before writing, and every
// wait is bounded (rawConn reads time out after 5s).

// blkClient opens a raw connection speaking proto and returns it with
// its client id.
func blkClient(t *testing.T, addr string, proto int) (*rawConn, int64) {
	t.Helper()
	r := dialRaw(t, addr)
	if proto == 3 {
		if got := r.do("HELLO", "3"); !strings.HasPrefix(got, "%") {
			t.Fatalf("HELLO 3: %q", got)
		}
	}
	got := r.do("CLIENT", "ID")
	id, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(got, ":")), 10, 64)
	if err != nil {
		t.Fatalf("CLIENT ID: %q", got)
	}
	return r, id
}

// blkWaitRunning waits until client id is running (or last ran) cmd.
func blkWaitRunning(t *testing.T, admin *redis.Client, id int64, cmd string) {
	t.Helper()
	idField := fmt.Sprintf("id=%d ", id)
	waitFor(t, 5*time.Second, fmt.Sprintf("client %d to run %s", id, cmd), func() bool {
		list, err := admin.ClientList(ctx).Result()
		if err != nil {
			t.Fatalf("CLIENT LIST: %v", err)
		}
		for _, line := range strings.Split(list, "\n") {
			if strings.HasPrefix(line, idField) && strings.Contains(line, " cmd="+cmd+" ") {
				return true
			}
		}
		return false
	})
}

// blkNoReply fails if r receives anything within d.
func blkNoReply(t *testing.T, r *rawConn, d time.Duration) {
	t.Helper()
	r.nc.SetReadDeadline(time.Now().Add(d))
	b, err := r.br.Peek(1)
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("expected no reply for %v, got %q (err %v)", d, b, err)
	}
}

// blkExpectClosed fails unless r's connection is closed by the server before
// any reply arrives.
func blkExpectClosed(t *testing.T, r *rawConn) {
	t.Helper()
	r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := r.br.ReadByte()
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("expected the connection closed, got byte %q (err %v)", b, err)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read after close: %v", err)
	}
}

func blkNull(proto int) string {
	if proto == 3 {
		return "_\r\n"
	}
	return "*-1\r\n"
}

func blkScore(proto int, s string) string {
	if proto == 3 {
		return "," + s + "\r\n"
	}
	return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s)
}

func blkForEachProto(t *testing.T, fn func(t *testing.T, n *Node, admin *redis.Client, proto int)) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			n := testNode(t)
			fn(t, n, newClient(t, n.Addr(), proto), proto)
		})
	}
}

func TestBlocking_WakesOnWrite(t *testing.T) {
	blkForEachProto(t, func(t *testing.T, n *Node, admin *redis.Client, proto int) {
		cases := []struct {
			name  string
			block []string
			zadd  []any
			want  string
		}{
			{"bzpopmin", zopsArgs("BZPOPMIN k 5"), []any{"k", "2", "b", "1.5", "a"},
				"*3\r\n$1\r\nk\r\n$1\r\na\r\n" + blkScore(proto, "1.5")},
			{"bzpopmax", zopsArgs("BZPOPMAX k 0"), []any{"k", "2", "b", "1.5", "a"},
				"*3\r\n$1\r\nk\r\n$1\r\nb\r\n" + blkScore(proto, "2")},
			{"bzpopmin-second-key", zopsArgs("BZPOPMIN k1 k2 0"), []any{"k2", "7", "x"},
				"*3\r\n$2\r\nk2\r\n$1\r\nx\r\n" + blkScore(proto, "7")},
			{"bzmpop-count", zopsArgs("BZMPOP 0 2 k1 k2 MAX COUNT 2"), []any{"k2", "1", "a", "2", "b", "3", "c"},
				"*2\r\n$2\r\nk2\r\n*2\r\n*2\r\n$1\r\nc\r\n" + blkScore(proto, "3") + "*2\r\n$1\r\nb\r\n" + blkScore(proto, "2")},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				must(t, admin.FlushAll(ctx).Err())
				r, id := blkClient(t, n.Addr(), proto)
				r.send(encodeCommand(tc.block))
				blkWaitRunning(t, admin, id, strings.ToLower(tc.block[0]))
				must(t, admin.Do(ctx, append([]any{"zadd"}, tc.zadd...)...).Err())
				if got := r.reply(); got != tc.want {
					t.Fatalf("%v woken by ZADD %v: %q, want %q", tc.block, tc.zadd, got, tc.want)
				}
			})
		}
	})
}

func TestBlocking_TimeoutRepliesNull(t *testing.T) {
	blkForEachProto(t, func(t *testing.T, n *Node, admin *redis.Client, proto int) {
		for _, args := range [][]string{zopsArgs("BZPOPMIN k 0.05"), zopsArgs("BZPOPMAX k1 k2 0.05"), zopsArgs("BZMPOP 0.05 2 k1 k2 MIN COUNT 3")} {
			t.Run(args[0], func(t *testing.T) {
				r, _ := blkClient(t, n.Addr(), proto)
				start := time.Now()
				if got := r.do(args...); got != blkNull(proto) {
					t.Fatalf("%v: %q, want %q", args, got, blkNull(proto))
				}
				if el := time.Since(start); el < 50*time.Millisecond {
					t.Fatalf("%v replied after %v, before its timeout", args, el)
				}
			})
		}
	})
}

// The reply bytes of a timeout are Redis's (RESP2 *-1, RESP3 _).
func TestBlocking_DiffTimeoutBytes(t *testing.T) {
	zopsForEachProto(t, func(t *testing.T, d *differ) {
		d.do("BZPOPMIN", "k", "0.01")
		d.do("BZPOPMAX", "k1", "k2", "0.01")
		d.do("BZMPOP", "0.01", "2", "k1", "k2", "MIN", "COUNT", "2")
		d.do("SET", "s", "v")
		d.do("BZPOPMIN", "k", "s", "0.01")
	})
}

func TestBlocking_ZeroTimeoutWaitsForData(t *testing.T) {
	blkForEachProto(t, func(t *testing.T, n *Node, admin *redis.Client, proto int) {
		r, id := blkClient(t, n.Addr(), proto)
		r.send(encodeCommand(zopsArgs("BZPOPMIN k 0")))
		blkWaitRunning(t, admin, id, "bzpopmin")
		must(t, admin.ZAdd(ctx, "other", redis.Z{Score: 1, Member: "x"}).Err())
		blkNoReply(t, r, 100*time.Millisecond)
		must(t, admin.ZAdd(ctx, "k", redis.Z{Score: 3, Member: "m"}).Err())
		if got, want := r.reply(), "*3\r\n$1\r\nk\r\n$1\r\nm\r\n"+blkScore(proto, "3"); got != want {
			t.Fatalf("BZPOPMIN k 0: %q, want %q", got, want)
		}
	})
}

// Two clients blocked on one key are both served by two ZADDs (Cairn wakes
// both on each write; whoever locks first pops, the other blocks again).
func TestBlocking_TwoClientsOneKey(t *testing.T) {
	blkForEachProto(t, func(t *testing.T, n *Node, admin *redis.Client, proto int) {
		a, ida := blkClient(t, n.Addr(), proto)
		b, idb := blkClient(t, n.Addr(), proto)
		a.send(encodeCommand(zopsArgs("BZPOPMIN k 0")))
		b.send(encodeCommand(zopsArgs("BZPOPMIN k 0")))
		blkWaitRunning(t, admin, ida, "bzpopmin")
		blkWaitRunning(t, admin, idb, "bzpopmin")
		must(t, admin.ZAdd(ctx, "k", redis.Z{Score: 1, Member: "m1"}).Err())
		must(t, admin.ZAdd(ctx, "k", redis.Z{Score: 2, Member: "m2"}).Err())
		got := map[string]bool{a.reply(): true, b.reply(): true}
		want1 := "*3\r\n$1\r\nk\r\n$2\r\nm1\r\n" + blkScore(proto, "1")
		want2 := "*3\r\n$1\r\nk\r\n$2\r\nm2\r\n" + blkScore(proto, "2")
		if len(got) != 2 || !got[want1] || !got[want2] {
			t.Fatalf("replies %v, want one each of %q and %q", got, want1, want2)
		}
		if n, err := admin.Exists(ctx, "k").Result(); err != nil || n != 0 {
			t.Fatalf("EXISTS k: %d %v", n, err)
		}
	})
}

// Inside MULTI a blocking pop on empty keys replies a null array at once.
func TestBlocking_InsideMultiDoesNotBlock(t *testing.T) {
	blkForEachProto(t, func(t *testing.T, n *Node, admin *redis.Client, proto int) {
		r, _ := blkClient(t, n.Addr(), proto)
		for _, args := range [][]string{zopsArgs("MULTI"), zopsArgs("BZPOPMIN k 0"), zopsArgs("BZPOPMAX k 0"), zopsArgs("BZMPOP 0 1 k MIN")} {
			r.do(args...)
		}
		want := "*3\r\n" + blkNull(proto) + blkNull(proto) + blkNull(proto)
		if got := r.do("EXEC"); got != want {
			t.Fatalf("EXEC: %q, want %q", got, want)
		}
	})
}

// Replies to commands pipelined before a blocking command are sent before
// it blocks; commands pipelined after it wait for its reply.
func TestBlocking_PipelineOrder(t *testing.T) {
	blkForEachProto(t, func(t *testing.T, n *Node, admin *redis.Client, proto int) {
		r, id := blkClient(t, n.Addr(), proto)
		r.send(encodeCommand(zopsArgs("PING")) + encodeCommand(zopsArgs("BZPOPMIN k 0")) + encodeCommand(zopsArgs("ECHO after")))
		if got := r.reply(); got != "+PONG\r\n" {
			t.Fatalf("PING before BZPOPMIN: %q", got)
		}
		blkWaitRunning(t, admin, id, "bzpopmin")
		blkNoReply(t, r, 50*time.Millisecond)
		must(t, admin.ZAdd(ctx, "k", redis.Z{Score: 1, Member: "m"}).Err())
		if got, want := r.reply(), "*3\r\n$1\r\nk\r\n$1\r\nm\r\n"+blkScore(proto, "1"); got != want {
			t.Fatalf("BZPOPMIN: %q, want %q", got, want)
		}
		if got := r.reply(); got != "$5\r\nafter\r\n" {
			t.Fatalf("ECHO after BZPOPMIN: %q", got)
		}
	})
}

// As Redis 7.0: a key turned into another type does not wake the blocked
// client with WRONGTYPE; it keeps waiting for a sorted set.
func TestBlocking_WrongTypeWhileBlockedIsIgnored(t *testing.T) {
	blkForEachProto(t, func(t *testing.T, n *Node, admin *redis.Client, proto int) {
		r, id := blkClient(t, n.Addr(), proto)
		r.send(encodeCommand(zopsArgs("BZPOPMIN k 0")))
		blkWaitRunning(t, admin, id, "bzpopmin")
		must(t, admin.Set(ctx, "k", "v", 0).Err())
		blkNoReply(t, r, 100*time.Millisecond)
		must(t, admin.Del(ctx, "k").Err())
		must(t, admin.ZAdd(ctx, "k", redis.Z{Score: 1, Member: "m"}).Err())
		if got, want := r.reply(), "*3\r\n$1\r\nk\r\n$1\r\nm\r\n"+blkScore(proto, "1"); got != want {
			t.Fatalf("BZPOPMIN after SET, DEL, ZADD: %q, want %q", got, want)
		}
	})
}

// The deadline counts from the command's start, not from the last wake-up.
func TestBlocking_DeadlineKeptAcrossWakeups(t *testing.T) {
	n := testNode(t)
	admin := newClient(t, n.Addr(), 2)
	r, id := blkClient(t, n.Addr(), 2)
	start := time.Now()
	r.send(encodeCommand(zopsArgs("BZPOPMIN k 0.3")))
	blkWaitRunning(t, admin, id, "bzpopmin")
	for i := range 3 {
		must(t, admin.Set(ctx, "k", strconv.Itoa(i), 0).Err()) // wakes it; the retry skips the string
	}
	if got := r.reply(); got != "*-1\r\n" {
		t.Fatalf("BZPOPMIN k 0.3: %q, want a null array", got)
	}
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Fatalf("timed out after %v, before its 300ms", el)
	}
}

// A write to the same key in another database does not serve the client.
func TestBlocking_OtherDatabase(t *testing.T) {
	n := testNode(t)
	admin := newClient(t, n.Addr(), 2)
	r, id := blkClient(t, n.Addr(), 2)
	if got := r.do("SELECT", "1"); got != "+OK\r\n" {
		t.Fatalf("SELECT 1: %q", got)
	}
	r.send(encodeCommand(zopsArgs("BZPOPMIN k 0")))
	blkWaitRunning(t, admin, id, "bzpopmin")
	must(t, admin.ZAdd(ctx, "k", redis.Z{Score: 1, Member: "db0"}).Err())
	blkNoReply(t, r, 100*time.Millisecond)
	pipe := admin.TxPipeline()
	pipe.Select(ctx, 1)
	pipe.ZAdd(ctx, "k", redis.Z{Score: 2, Member: "db1"})
	pipe.Select(ctx, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.reply(); got != "*3\r\n$1\r\nk\r\n$3\r\ndb1\r\n$1\r\n2\r\n" {
		t.Fatalf("BZPOPMIN in db 1: %q", got)
	}
}

func TestBlocking_ClientKillUnblocks(t *testing.T) {
	n := testNode(t)
	admin := newClient(t, n.Addr(), 2)
	r, id := blkClient(t, n.Addr(), 2)
	r.send(encodeCommand(zopsArgs("BZPOPMIN k 0")))
	blkWaitRunning(t, admin, id, "bzpopmin")
	if killed, err := admin.ClientKillByFilter(ctx, "ID", strconv.FormatInt(id, 10)).Result(); err != nil || killed != 1 {
		t.Fatalf("CLIENT KILL ID %d: %d %v", id, killed, err)
	}
	blkExpectClosed(t, r)
	waitFor(t, 5*time.Second, "the killed client's goroutine to exit", func() bool {
		list, err := admin.ClientList(ctx).Result()
		return err == nil && !strings.Contains(list, fmt.Sprintf("id=%d ", id))
	})
	// The killed client pops nothing: a later write to k stays.
	must(t, admin.ZAdd(ctx, "k", redis.Z{Score: 1, Member: "m"}).Err())
	if c, err := admin.ZCard(ctx, "k").Result(); err != nil || c != 1 {
		t.Fatalf("ZCARD k: %d %v", c, err)
	}
}

func TestBlocking_NodeCloseUnblocks(t *testing.T) {
	n := testNode(t)
	admin := newClient(t, n.Addr(), 2)
	r, id := blkClient(t, n.Addr(), 2)
	r.send(encodeCommand(zopsArgs("BZMPOP 0 1 k MIN")))
	blkWaitRunning(t, admin, id, "bzmpop")
	done := make(chan error, 1)
	go func() { done <- n.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("node Close did not return while a client was blocked")
	}
	blkExpectClosed(t, r)
}

// A blocking call counts once in INFO commandstats, and the slow log sees
// the time it ran, not the time it waited; a timed-out call is not
// slow-logged (Redis 7.0).
func TestBlocking_StatsAndSlowlog(t *testing.T) {
	n := testNode(t)
	admin := newClient(t, n.Addr(), 2)
	must(t, admin.ConfigSet(ctx, "slowlog-log-slower-than", "100000").Err())
	must(t, admin.SlowLogReset(ctx).Err())
	r, id := blkClient(t, n.Addr(), 2)
	r.send(encodeCommand(zopsArgs("BZPOPMIN k 0")))
	blkWaitRunning(t, admin, id, "bzpopmin")
	blkNoReply(t, r, 150*time.Millisecond) // blocked longer than the threshold
	must(t, admin.ZAdd(ctx, "k", redis.Z{Score: 1, Member: "m"}).Err())
	if got := r.reply(); !strings.HasPrefix(got, "*3\r\n") {
		t.Fatalf("BZPOPMIN: %q", got)
	}
	if got := r.do("BZPOPMIN", "k", "0.01"); got != "*-1\r\n" {
		t.Fatalf("BZPOPMIN timeout: %q", got)
	}
	info, err := admin.Info(ctx, "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "cmdstat_bzpopmin:calls=2,") {
		t.Fatalf("commandstats: want bzpopmin calls=2 in\n%s", info)
	}
	if l, err := admin.SlowLogLen(ctx).Result(); err != nil || l != 0 {
		t.Fatalf("SLOWLOG LEN = %d, %v; the wait must not count", l, err)
	}
	must(t, admin.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err())
	if got := r.do("BZPOPMIN", "k", "0.01"); got != "*-1\r\n" {
		t.Fatalf("BZPOPMIN timeout: %q", got)
	}
	must(t, admin.ZAdd(ctx, "k", redis.Z{Score: 1, Member: "m"}).Err())
	if got := r.do("BZPOPMIN", "k", "0.01"); !strings.HasPrefix(got, "*3\r\n") {
		t.Fatalf("BZPOPMIN: %q", got)
	}
	logged, err := admin.SlowLogGet(ctx, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	var bz []string
	for _, e := range logged {
		if len(e.Args) > 0 && strings.EqualFold(e.Args[0], "bzpopmin") {
			bz = append(bz, strings.Join(e.Args, " "))
		}
	}
	if len(bz) != 1 {
		t.Fatalf("slow log bzpopmin entries %q, want only the served call", bz)
	}
}
