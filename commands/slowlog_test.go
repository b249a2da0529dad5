package commands

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestSlowlog_Differential(t *testing.T) {
	forEachDiffer(t, func(t *testing.T, d *differ, _ *Node) {
		for _, args := range [][]string{
			{"SLOWLOG", "GET", "x"},
			{"SLOWLOG", "GET", "-2"},
			{"SLOWLOG", "GET", "1", "2"},
			{"SLOWLOG", "GET", "99999999999999999999"},
			{"SLOWLOG", "LEN", "x"},
			{"SLOWLOG", "RESET", "x"},
			{"SLOWLOG", "nosuch"},
			{"SLOWLOG"},
			{"SLOWLOG", "HELP"},
			{"SLOWLOG", "HELP", "x"},
			// Nothing is slower than 10ms here, then everything is logged:
			// the counts agree, including the commands that read the log.
			{"SLOWLOG", "RESET"},
			{"SLOWLOG", "LEN"},
			{"SLOWLOG", "GET", "0"},
			{"CONFIG", "SET", "slowlog-log-slower-than", "0"},
			{"SET", "a", "1"},
			{"SLOWLOG", "LEN"},
			{"SLOWLOG", "LEN"},
			{"CONFIG", "SET", "slowlog-max-len", "3"},
			{"SLOWLOG", "LEN"},
			{"SLOWLOG", "RESET"},
			{"SLOWLOG", "LEN"},
			{"MULTI"}, {"SET", "b", "1"}, {"EXEC"},
			{"SLOWLOG", "LEN"},
			{"CONFIG", "SET", "slowlog-log-slower-than", "-1"},
			{"SLOWLOG", "RESET"},
			{"GET", "a"},
			{"SLOWLOG", "LEN"},
		} {
			d.do(args...)
		}
	})
}

// slowArgs returns the argument lists of the slow log, newest first.
func slowArgs(t *testing.T, c *redis.Client) [][]string {
	t.Helper()
	entries, err := c.SlowLogGet(ctx, -1).Result()
	must(t, err)
	var out [][]string
	for _, e := range entries {
		out = append(out, e.Args)
	}
	return out
}

// With slowlog-log-slower-than 0 every command is recorded, with its
// arguments trimmed exactly as Redis trims them.
func TestSlowlog_RecordsLikeRedis(t *testing.T) {
	r := startRedis(t)
	n := testNode(t)
	long := strings.Repeat("x", 200)
	many := []any{"DEL"}
	for i := 0; i < 40; i++ {
		many = append(many, fmt.Sprintf("k%d", i))
	}
	var logs [2][][]string
	for i, addr := range []string{r.addr, n.Addr()} {
		c := newClient(t, addr, 2)
		must(t, c.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err())
		must(t, c.SlowLogReset(ctx).Err())
		must(t, c.Set(ctx, "k", long, 0).Err())
		must(t, c.Do(ctx, many...).Err())
		must(t, c.Get(ctx, "k").Err())
		logs[i] = slowArgs(t, c)
	}
	want, got := fmt.Sprintf("%q", logs[0]), fmt.Sprintf("%q", logs[1])
	if want != got {
		t.Fatalf("slow log arguments:\n redis: %s\n cairn: %s", want, got)
	}
	if len(logs[1]) != 4 || !strings.HasSuffix(logs[1][1][31], "more arguments)") {
		t.Fatalf("unexpected slow log: %q", logs[1])
	}
}

func TestSlowlog_Entries(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		conn := c.Conn()
		defer conn.Close()
		must(t, conn.ClientSetName(ctx, "slowpoke").Err())
		must(t, conn.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err())
		start := time.Now().Unix()
		must(t, conn.Set(ctx, "k", "v", 0).Err())
		entries, err := conn.SlowLogGet(ctx, 2).Result()
		must(t, err)
		if len(entries) != 2 {
			t.Fatalf("SLOWLOG GET 2 returned %d entries", len(entries))
		}
		e := entries[0]
		if strings.Join(e.Args, " ") != "set k v" || e.ClientName != "slowpoke" || e.ID <= entries[1].ID {
			t.Fatalf("newest entry = %+v (previous %+v)", e, entries[1])
		}
		if e.Time.Unix() < start-1 || e.Duration < 0 {
			t.Fatalf("entry time %v duration %v", e.Time, e.Duration)
		}
		if !strings.HasPrefix(e.ClientAddr, "127.0.0.1:") {
			t.Fatalf("client addr %q", e.ClientAddr)
		}
		must(t, conn.ConfigSet(ctx, "slowlog-max-len", "2").Err())
		for i := 0; i < 5; i++ {
			must(t, conn.Ping(ctx).Err())
		}
		if n, err := conn.SlowLogLen(ctx).Result(); err != nil || n != 2 {
			t.Fatalf("SLOWLOG LEN = %d, %v with slowlog-max-len 2", n, err)
		}
		all, err := conn.SlowLogGet(ctx, -1).Result()
		must(t, err)
		if len(all) != 2 || all[0].Args[0] != "slowlog" || all[1].Args[0] != "ping" {
			t.Fatalf("SLOWLOG GET -1 = %+v", all)
		}
		must(t, conn.ConfigSet(ctx, "slowlog-log-slower-than", "-1").Err())
		must(t, conn.SlowLogReset(ctx).Err())
		if n, err := conn.SlowLogLen(ctx).Result(); err != nil || n != 0 {
			t.Fatalf("SLOWLOG LEN after RESET with logging off = %d, %v", n, err)
		}
	})
}
