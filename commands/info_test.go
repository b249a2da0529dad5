package commands

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// infoHeaders lists the "# Section" headers of a raw INFO reply.
func infoHeaders(raw string) []string {
	var out []string
	for _, line := range strings.Split(raw, "\r\n") {
		line = strings.TrimPrefix(line, "txt:")
		if h, ok := strings.CutPrefix(line, "# "); ok {
			out = append(out, h)
		}
	}
	return out
}

// infoKV parses an INFO text into key -> value.
func infoKV(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			m[k] = v
		}
	}
	return m
}

func info(t *testing.T, c *redis.Client, section ...string) map[string]string {
	t.Helper()
	s, err := c.Info(ctx, section...).Result()
	must(t, err)
	return infoKV(s)
}

// INFO picks and orders sections as Redis does; Cairn keeps no error or
// latency statistics, so those two sections are the only ones missing.
func TestInfo_SectionsLikeRedis(t *testing.T) {
	forEachDiffer(t, func(t *testing.T, d *differ, _ *Node) {
		for _, args := range [][]string{
			{"INFO"}, {"INFO", "default"}, {"INFO", "all"}, {"INFO", "everything"}, {"INFO", "ALL", "server"},
			{"INFO", "keyspace", "server"}, {"INFO", "Server"}, {"INFO", "commandstats"}, {"INFO", "cpu", "memory", "cpu"},
			{"INFO", "modules"}, {"INFO", "module_list"}, {"INFO", "default", "commandstats"}, {"INFO", "replication", "cluster"},
		} {
			want := strings.Join(slices.DeleteFunc(infoHeaders(d.redis.do(args...)), func(h string) bool {
				return h == "Errorstats" || h == "Latencystats"
			}), ",")
			got := strings.Join(infoHeaders(d.cairn.do(args...)), ",")
			if got != want {
				t.Errorf("%q sections:\n redis: %s\n cairn: %s", args, want, got)
			}
		}
		// Byte-identical where the content is deterministic.
		d.do("INFO", "nosuch")
		d.do("INFO", "keyspace")
		d.do("INFO", "cluster")
		d.do("INFO", "nosuch", "keyspace", "KEYSPACE")
		// After a reset only the reset itself is counted, by both.
		d.do("CONFIG", "RESETSTAT")
		usec := regexp.MustCompile(`usec=\d+,usec_per_call=\d+\.\d\d`)
		want := usec.ReplaceAllString(d.redis.do("INFO", "commandstats"), "usec=U")
		got := usec.ReplaceAllString(d.cairn.do("INFO", "commandstats"), "usec=U")
		want, got = want[strings.Index(want, "\r\n"):], got[strings.Index(got, "\r\n"):]
		if want != got {
			t.Errorf("INFO commandstats after CONFIG RESETSTAT:\n redis: %q\n cairn: %q", want, got)
		}
	})
}

// Every line of the sections Cairn prints is "key:value", and the keys Cairn
// shares with Redis appear in Redis's order.
func TestInfo_FieldsLikeRedis(t *testing.T) {
	d, _ := srvDiffer(t, 2)
	for _, sec := range []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu"} {
		keys := func(raw string) []string {
			var ks []string
			for _, line := range strings.Split(raw, "\r\n")[2:] {
				if line == "" {
					continue
				}
				k, _, ok := strings.Cut(line, ":")
				if !ok {
					t.Errorf("INFO %s: bad line %q", sec, line)
				}
				ks = append(ks, k)
			}
			return ks
		}
		want, got := keys(d.redis.do("INFO", sec)), keys(d.cairn.do("INFO", sec))
		pos := map[string]int{}
		for i, k := range want {
			pos[k] = i
		}
		last := -1
		shared := 0
		for _, k := range got {
			p, ok := pos[k]
			if !ok {
				continue
			}
			shared++
			if p < last {
				t.Errorf("INFO %s: %s out of Redis's order", sec, k)
			}
			last = p
		}
		if shared < 4 {
			t.Errorf("INFO %s shares only %d keys with Redis: %v", sec, shared, got)
		}
	}
}

func TestInfo_GoRedis(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		srv := info(t, c, "server")
		want := map[string]string{"redis_version": RedisVersion, "cairn_version": CairnVersion, "redis_mode": "standalone",
			"arch_bits": "64", "process_id": strconv.Itoa(os.Getpid()), "config_file": ""}
		for k, v := range want {
			if srv[k] != v {
				t.Errorf("INFO server %s = %q, want %q", k, srv[k], v)
			}
		}
		_, port, _ := net.SplitHostPort(c.Options().Addr)
		if srv["tcp_port"] != port {
			t.Errorf("tcp_port = %q, want %s", srv["tcp_port"], port)
		}
		if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(srv["run_id"]) || info(t, c, "server")["run_id"] != srv["run_id"] {
			t.Errorf("run_id %q is not a stable 40-digit hex id", srv["run_id"])
		}
		if up, err := strconv.Atoi(srv["uptime_in_seconds"]); err != nil || up < 0 || srv["uptime_in_days"] != "0" {
			t.Errorf("uptime %q days %q", srv["uptime_in_seconds"], srv["uptime_in_days"])
		}

		must(t, c.Set(context.Background(), "info:dataset", "v", 0).Err()) // used_memory estimates the dataset
		mem := info(t, c, "memory")
		must(t, c.Del(context.Background(), "info:dataset").Err())
		used, err := strconv.ParseUint(mem["used_memory"], 10, 64)
		if err != nil || used == 0 || mem["used_memory_human"] == "" {
			t.Errorf("used_memory %q human %q", mem["used_memory"], mem["used_memory_human"])
		}
		if rss, _ := strconv.Atoi(mem["used_memory_rss"]); rss == 0 {
			t.Errorf("used_memory_rss = %q", mem["used_memory_rss"])
		}
		if mem["maxmemory"] != "0" || mem["maxmemory_human"] != "0B" || mem["maxmemory_policy"] != "noeviction" {
			t.Errorf("maxmemory fields: %v", mem)
		}

		cl := info(t, c, "clients")
		if cl["connected_clients"] != "1" || cl["maxclients"] != "10000" || cl["blocked_clients"] != "0" {
			t.Errorf("INFO clients = %v", cl)
		}
		if role := info(t, c, "replication")["role"]; role != "master" {
			t.Errorf("role = %q", role)
		}

		// keyspace: only non-empty databases, counted by the store.
		if ks, err := c.Info(ctx, "keyspace").Result(); err != nil || ks != "# Keyspace\r\n" {
			t.Fatalf("empty INFO keyspace = %q, %v", ks, err)
		}
		must(t, c.Set(ctx, "a", "1", 0).Err())
		must(t, c.Set(ctx, "b", "2", time.Hour).Err())
		conn := c.Conn()
		defer conn.Close()
		must(t, conn.Select(ctx, 5).Err())
		must(t, conn.Set(ctx, "c", "3", 0).Err())
		ks, err := c.Info(ctx, "keyspace").Result()
		must(t, err)
		if ks != "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb5:keys=1,expires=0,avg_ttl=0\r\n" {
			t.Fatalf("INFO keyspace = %q", ks)
		}
		m, err := c.InfoMap(ctx, "keyspace").Result()
		must(t, err)
		if m["Keyspace"]["db0"] != "keys=2,expires=1,avg_ttl=0" {
			t.Fatalf("InfoMap keyspace = %v", m)
		}
		all, err := c.Info(ctx, "everything").Result()
		must(t, err)
		if !strings.Contains(all, "\r\n\r\n# Commandstats\r\ncmdstat_") || !strings.HasPrefix(all, "# Server\r\n") {
			t.Fatalf("INFO everything:\n%s", all)
		}
	})
}

func TestInfo_StatsAndCommandStats(t *testing.T) {
	n := testNode(t)
	r := dialRaw(t, n.Addr())
	r.do("CONFIG", "RESETSTAT")
	r.do("GET", "x")
	r.do("GET", "x")
	r.do("GET")
	r.do("CONFIG", "SET", "maxclients", "abc")
	raw := r.do("INFO", "commandstats")
	for _, re := range []string{
		`\r\ncmdstat_get:calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0\r\n`,
		`\r\ncmdstat_config\|set:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=1\r\n`,
		`\r\ncmdstat_config\|resetstat:calls=1,`,
	} {
		if !regexp.MustCompile(re).MatchString(raw) {
			t.Errorf("INFO commandstats does not match %s:\n%s", re, raw)
		}
	}
	if strings.Contains(raw, "cmdstat_info") {
		t.Errorf("INFO counts itself before it ran:\n%s", raw)
	}
	dialRaw(t, n.Addr()).do("PING")
	st := infoKV(r.do("INFO", "stats"))
	if st["total_connections_received"] != "1" {
		t.Errorf("total_connections_received = %q after CONFIG RESETSTAT and one connection", st["total_connections_received"])
	}
	if n, _ := strconv.Atoi(st["total_commands_processed"]); n < 5 {
		t.Errorf("total_commands_processed = %q", st["total_commands_processed"])
	}
	for _, k := range []string{"total_net_input_bytes", "total_net_output_bytes"} {
		if v, _ := strconv.Atoi(st[k]); v <= 0 {
			t.Errorf("%s = %q", k, st[k])
		}
	}
	r.do("SET", "gone", "1", "PX", "1")
	waitFor(t, 5*time.Second, "the key to expire", func() bool {
		return infoKV(r.do("INFO", "stats"))["expired_keys"] == "1"
	})
}

func TestInfo_Persistence(t *testing.T) {
	n := testNode(t)
	r := dialRaw(t, n.Addr())
	p := infoKV(r.do("INFO", "persistence"))
	if p["loading"] != "0" || p["aof_enabled"] != "1" || p["rdb_bgsave_in_progress"] != "0" || p["aof_last_write_status"] != "ok" ||
		p["rdb_last_bgsave_status"] != "ok" || p["rdb_last_bgsave_time_sec"] != "-1" || p["rdb_saves"] != "0" {
		t.Fatalf("INFO persistence = %v", p)
	}
	r.do("SET", "a", "1")
	r.do("SET", "b", "1")
	if got := infoKV(r.do("INFO", "persistence"))["rdb_changes_since_last_save"]; got != "2" {
		t.Fatalf("rdb_changes_since_last_save = %q after two writes", got)
	}
	if got := r.do("SAVE"); got != "+OK\r\n" {
		t.Fatalf("SAVE = %q", got)
	}
	p = infoKV(r.do("INFO", "persistence"))
	if p["rdb_changes_since_last_save"] != "0" || p["rdb_saves"] != "1" {
		t.Fatalf("after SAVE: %v", p)
	}
	if last, _ := strconv.ParseInt(p["rdb_last_save_time"], 10, 64); time.Since(time.Unix(last, 0)) > time.Minute {
		t.Fatalf("rdb_last_save_time = %d", last)
	}
}

func TestServer_Time(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		got, err := c.Time(ctx).Result()
		must(t, err)
		if d := time.Since(got); d < -5*time.Second || d > 5*time.Second {
			t.Fatalf("TIME = %v, now %v", got, time.Now())
		}
	})
	n := testNode(t)
	raw := dialRaw(t, n.Addr()).do("TIME")
	if !regexp.MustCompile(`^\*2\r\n\$10\r\n\d{10}\r\n\$\d\r\n\d{1,6}\r\n$`).MatchString(raw) {
		t.Fatalf("TIME = %q", raw)
	}
}

func TestServer_Differential(t *testing.T) {
	forEachDiffer(t, func(t *testing.T, d *differ, _ *Node) {
		for _, args := range [][]string{
			{"TIME", "x"}, {"LASTSAVE", "x"}, {"SAVE", "x"},
			{"BGSAVE", "x"}, {"BGSAVE", "SCHEDULE", "x"}, {"BGSAVE", "now"},
			{"SHUTDOWN", "ABORT"}, {"SHUTDOWN", "abort"}, {"SHUTDOWN", "foo"}, {"SHUTDOWN", "NOSAVE", "SAVE"},
			{"SHUTDOWN", "ABORT", "NOW"}, {"SHUTDOWN", "force", "abort"}, {"SHUTDOWN", "NOW", "foo"},
			{"SAVE"},
			{"MULTI"}, {"SAVE"}, {"SHUTDOWN"}, {"LASTSAVE"}, {"EXEC"},
			{"MULTI"}, {"TIME"}, {"DISCARD"},
		} {
			d.do(args...)
		}
	})
}

func TestServer_LastSaveAndSave(t *testing.T) {
	forEachProto(t, func(t *testing.T, c *redis.Client) {
		before, err := c.LastSave(ctx).Result()
		must(t, err)
		if d := time.Since(time.Unix(before, 0)); d < 0 || d > time.Minute {
			t.Fatalf("LASTSAVE = %d", before)
		}
		must(t, c.Set(ctx, "k", "v", 0).Err())
		must(t, c.Save(ctx).Err())
		after, err := c.LastSave(ctx).Result()
		must(t, err)
		if after < before {
			t.Fatalf("LASTSAVE went back from %d to %d", before, after)
		}
	})
	// The snapshot is a complete Pebble checkpoint that opens as a data dir.
	dir := t.TempDir()
	n := testNodeIn(t, dir)
	c := newClient(t, n.Addr(), 2)
	must(t, c.Set(ctx, "saved", "yes", 0).Err())
	must(t, c.Save(ctx).Err())
	must(t, c.Set(ctx, "later", "x", 0).Err())
	n.Close()
	snap := t.TempDir()
	must(t, os.Rename(filepath.Join(dir, "snapshot"), filepath.Join(snap, "db")))
	n2 := testNodeIn(t, snap)
	c2 := newClient(t, n2.Addr(), 2)
	if v, err := c2.Get(ctx, "saved").Result(); err != nil || v != "yes" {
		t.Fatalf("GET saved from the snapshot = %q, %v", v, err)
	}
	if n, err := c2.Exists(ctx, "later").Result(); err != nil || n != 0 {
		t.Fatalf("the snapshot has a key written after SAVE: %d, %v", n, err)
	}
}

func TestServer_Bgsave(t *testing.T) {
	n := testNode(t)
	r := dialRaw(t, n.Addr())
	r.do("SET", "k", "v")
	sv := &n.Cmd.save
	sv.mu.Lock() // holds the snapshot, so the BGSAVE stays in progress
	if got := r.do("BGSAVE"); got != "+Background saving started\r\n" {
		sv.mu.Unlock()
		t.Fatalf("BGSAVE = %q", got)
	}
	second, save := r.do("BGSAVE", "SCHEDULE"), r.do("SAVE")
	inProgress := infoKV(r.do("INFO", "persistence"))["rdb_bgsave_in_progress"]
	sv.mu.Unlock()
	if second != "-"+errBgsaveInProgress+"\r\n" || save != "-"+errBgsaveInProgress+"\r\n" {
		t.Fatalf("BGSAVE / SAVE during a BGSAVE = %q / %q", second, save)
	}
	if inProgress != "1" {
		t.Fatalf("rdb_bgsave_in_progress = %q during a BGSAVE", inProgress)
	}
	waitFor(t, 10*time.Second, "BGSAVE to finish", func() bool {
		return infoKV(r.do("INFO", "persistence"))["rdb_bgsave_in_progress"] == "0"
	})
	p := infoKV(r.do("INFO", "persistence"))
	if p["rdb_last_bgsave_status"] != "ok" || p["rdb_last_bgsave_time_sec"] == "-1" || p["rdb_saves"] != "1" || p["rdb_changes_since_last_save"] != "0" {
		t.Fatalf("after BGSAVE: %v", p)
	}
	if _, err := os.Stat(filepath.Join(n.Store.Dir(), "snapshot")); err != nil {
		t.Fatalf("no snapshot after BGSAVE: %v", err)
	}
	if got := r.do("BGSAVE", "schedule"); got != "+Background saving started\r\n" {
		t.Fatalf("BGSAVE SCHEDULE = %q", got)
	}
	waitFor(t, 10*time.Second, "BGSAVE SCHEDULE to finish", func() bool {
		return infoKV(r.do("INFO", "persistence"))["rdb_saves"] == "2"
	})
}

// SHUTDOWN closes the node without a reply; a restart on the same directory
// has the data.
func TestServer_Shutdown(t *testing.T) {
	for _, args := range [][]string{{"SHUTDOWN"}, {"shutdown", "NOSAVE", "NOW"}, {"SHUTDOWN", "SAVE", "FORCE"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			n := testNodeIn(t, dir, "appendfsync", "always")
			r := dialRaw(t, n.Addr())
			r.do("SET", "k", "v")
			r.send(encodeCommand(args) + encodeCommand([]string{"SET", "after", "1"}))
			expectClosed(t, r)
			select {
			case <-n.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the node did not shut down")
			}
			if _, err := net.DialTimeout("tcp", n.Addr(), time.Second); err == nil {
				t.Fatal("the node still accepts connections")
			}
			_, err := os.Stat(filepath.Join(dir, "snapshot"))
			if save := len(args) > 1 && strings.EqualFold(args[1], "save"); save != (err == nil) {
				t.Fatalf("snapshot present = %v after %q", err == nil, args)
			}
			n2 := testNodeIn(t, dir)
			c := newClient(t, n2.Addr(), 3)
			if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
				t.Fatalf("GET k after restart = %q, %v", v, err)
			}
			if n, err := c.Exists(ctx, "after").Result(); err != nil || n != 0 {
				t.Fatalf("a command pipelined after SHUTDOWN ran: %d, %v", n, err)
			}
		})
	}
}
