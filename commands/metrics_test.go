package commands

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape fetches addr's /metrics and returns each sample by its series
// as the text format prints it: `name{label="v",...}` or `name`.
func scrape(t testing.TB, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape %s: %s\n%s", addr, resp.Status, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	must(t, sc.Err())
	if len(out) == 0 {
		t.Fatal("empty scrape")
	}
	return out
}

// metric returns a series that must be present.
func metric(t testing.TB, m map[string]float64, series string) float64 {
	t.Helper()
	v, ok := m[series]
	if !ok {
		t.Fatalf("series %s missing from /metrics", series)
	}
	return v
}

func TestMetrics_OffByDefault(t *testing.T) {
	if got := NewConfig().Get("metrics-addr"); got != "" {
		t.Fatalf("metrics-addr defaults to %q, want off", got)
	}
	before := listeningPorts(t)
	n := testNode(t)
	if a := n.MetricsAddr(); a != "" {
		t.Fatalf("metrics served on %s without metrics-addr", a)
	}
	var added []int
	for p := range listeningPorts(t) {
		if !before[p] {
			added = append(added, p)
		}
	}
	_, port, _ := strings.Cut(n.Addr(), ":")
	if len(added) != 1 || strconv.Itoa(added[0]) != port {
		t.Fatalf("the node added listening ports %v; want only its RESP port %s", added, port)
	}
}

// listeningPorts returns the TCP ports this process listens on: sockets in
// /proc/net/tcp{,6} in state LISTEN whose inode is one of our descriptors.
func listeningPorts(t *testing.T) map[int]bool {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd (%v): cannot list listeners on this system", err)
	}
	ours := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:[") {
			ours[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	ports := map[int]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) < 10 || fields[3] != "0A" || !ours[fields[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(fields[1], ":")
			p, _ := strconv.ParseInt(hexPort, 16, 32)
			ports[int(p)] = true
		}
	}
	return ports
}

func TestMetrics_ScrapeMovesWithCommands(t *testing.T) {
	n := testNode(t, "metrics-addr", "127.0.0.1:0", "appendfsync", "always")
	addr := n.MetricsAddr()
	if addr == "" {
		t.Fatal("metrics-addr set but nothing served")
	}
	ctx := context.Background()
	c := newClient(t, n.Addr(), 2)
	must(t, c.Set(ctx, "k", "v", 0).Err())
	for range 3 {
		must(t, c.Get(ctx, "k").Err())
	}
	if err := c.Incr(ctx, "k").Err(); err == nil {
		t.Fatal("INCR of a non-integer succeeded")
	}
	if err := c.Do(ctx, "get").Err(); err == nil {
		t.Fatal("GET without a key succeeded")
	}
	c2 := newClient(t, n.Addr(), 3)
	must(t, c2.Do(ctx, "select", "2").Err())
	must(t, c2.Set(ctx, "a", "1", time.Hour).Err())
	must(t, c2.Set(ctx, "b", "1", 0).Err())

	m := scrape(t, addr)
	want := map[string]float64{
		`redis_commands_total{cmd="get"}`:                            3,
		`redis_commands_total{cmd="set"}`:                            3,
		`cairn_command_duration_seconds_count{cmd="get"}`:            3,
		`cairn_command_duration_seconds_bucket{cmd="get",le="+Inf"}`: 3,
		`redis_commands_failed_calls_total{cmd="incr"}`:              1,
		`redis_commands_rejected_calls_total{cmd="get"}`:             1,
		`redis_db_keys{db="db0"}`:                                    1,
		`redis_db_keys{db="db2"}`:                                    2,
		`redis_db_keys_expiring{db="db2"}`:                           1,
		`redis_db_keys{db="db1"}`:                                    0,
		`redis_connected_clients`:                                    2,
		`redis_cluster_enabled`:                                      0,
	}
	for series, v := range want {
		if got := metric(t, m, series); got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
	if s := metric(t, m, `redis_commands_duration_seconds_total{cmd="get"}`); s < 0 || s > 1 {
		t.Errorf("3 GETs took %v s", s)
	}
	if got := metric(t, m, `cairn_pebble_wal_fsync_duration_seconds_count`); got < 1 {
		t.Errorf("no WAL fsync counted under appendfsync always (%v)", got)
	}
	for _, series := range []string{"cairn_pebble_compactions_total", "cairn_pebble_write_stalls_total",
		"redis_memory_used_bytes", "redis_evicted_keys_total", "redis_uptime_in_seconds", "go_goroutines"} {
		metric(t, m, series)
	}
	if m["redis_memory_used_bytes"] <= 0 {
		t.Errorf("redis_memory_used_bytes = %v with keys stored", m["redis_memory_used_bytes"])
	}

	// The figures are INFO's: commandstats agrees with the scrape.
	info := c.Info(ctx, "commandstats").Val()
	if !strings.Contains(info, "cmdstat_get:calls=3,") || !strings.Contains(info, "rejected_calls=1,failed_calls=0") {
		t.Errorf("INFO commandstats disagrees with the scrape:\n%s", info)
	}

	// Counters and histograms move with further commands.
	for range 5 {
		must(t, c.Get(ctx, "k").Err())
	}
	must(t, c.Del(ctx, "k").Err())
	m2 := scrape(t, addr)
	if got := metric(t, m2, `redis_commands_total{cmd="get"}`); got != 8 {
		t.Errorf("GET calls after 5 more = %v, want 8", got)
	}
	if got := metric(t, m2, `cairn_command_duration_seconds_count{cmd="get"}`); got != 8 {
		t.Errorf("GET histogram count after 5 more = %v, want 8", got)
	}
	if got := metric(t, m2, `redis_db_keys{db="db0"}`); got != 0 {
		t.Errorf("db0 keys after DEL = %v", got)
	}
	if m2["redis_commands_processed_total"] <= m["redis_commands_processed_total"] {
		t.Errorf("redis_commands_processed_total did not grow: %v then %v", m["redis_commands_processed_total"], m2["redis_commands_processed_total"])
	}

	// Expiry is counted when the active cycle removes a key.
	must(t, c.Set(ctx, "short", "v", time.Millisecond).Err())
	waitFor(t, 5*time.Second, "redis_expired_keys_total to count the expired key", func() bool {
		return scrape(t, addr)["redis_expired_keys_total"] >= 1
	})

	// Close stops the endpoint.
	n.Close()
	if r, err := http.Get("http://" + addr + "/metrics"); err == nil {
		r.Body.Close()
		t.Fatalf("/metrics still served after Close: %s", r.Status)
	}
}

func TestMetrics_Evictions(t *testing.T) {
	n := testNode(t, "metrics-addr", "127.0.0.1:0")
	ctx := context.Background()
	c := newClient(t, n.Addr(), 2)
	must(t, c.ConfigSet(ctx, "maxmemory-policy", "allkeys-random").Err())
	must(t, c.ConfigSet(ctx, "maxmemory", "200000").Err())
	for i := range 2000 {
		must(t, c.Set(ctx, fmt.Sprintf("key:%d", i), strings.Repeat("x", 100), 0).Err())
	}
	// INFO runs after the last write's eviction pass, as any command does
	// when over the limit; the scrape then reads the same counters.
	info := c.Info(ctx, "stats").Val()
	m := scrape(t, n.MetricsAddr())
	evicted := metric(t, m, "redis_evicted_keys_total")
	if evicted == 0 {
		t.Fatal("no eviction counted after writing 2000 keys of ~100 bytes under maxmemory 200000")
	}
	if !strings.Contains(info, fmt.Sprintf("evicted_keys:%d\r\n", int64(evicted))) {
		t.Errorf("INFO evicted_keys disagrees with redis_evicted_keys_total %v:\n%s", evicted, info)
	}
	if got := metric(t, m, "redis_memory_max_bytes"); got != 200000 {
		t.Errorf("redis_memory_max_bytes = %v", got)
	}
	if used := metric(t, m, "redis_memory_used_bytes"); used > 200000 {
		t.Errorf("redis_memory_used_bytes %v over maxmemory", used)
	}
}

func TestMetrics_Cluster(t *testing.T) {
	tc := startCluster(t, 3, "metrics-addr", "127.0.0.1:0")
	ctx := context.Background()
	c := newClient(t, tc.Nodes[0].Addr(), 2)
	for i := range 20 {
		must(t, c.Set(ctx, fmt.Sprintf("k%d", i), "v", 0).Err())
	}
	var replicated float64
	for i, n := range tc.Nodes {
		m := scrape(t, n.MetricsAddr())
		if got := metric(t, m, "cairn_cluster_members"); got != 3 {
			t.Errorf("node %d: cairn_cluster_members = %v", i, got)
		}
		if got := metric(t, m, "cairn_cluster_members_alive"); got != 3 {
			t.Errorf("node %d: cairn_cluster_members_alive = %v", i, got)
		}
		if got := metric(t, m, "cairn_cluster_ring_epoch"); got < 1 {
			t.Errorf("node %d: cairn_cluster_ring_epoch = %v", i, got)
		}
		if got := metric(t, m, "redis_cluster_enabled"); got != 1 {
			t.Errorf("node %d: redis_cluster_enabled = %v", i, got)
		}
		metric(t, m, "cairn_cluster_quorum_failures_total")
		metric(t, m, "cairn_cluster_anti_entropy_rounds_total")
		replicated += metric(t, m, "cairn_cluster_writes_replicated_total")
	}
	if replicated < 20 {
		t.Errorf("20 writes, %v replicated in all", replicated)
	}
}
