package commands

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"cairn/store"
)

// INFO, TIME, LASTSAVE, SAVE, BGSAVE, SHUTDOWN.

// CairnVersion is this server's own version, reported by INFO next to the
// Redis version it reproduces.
const CairnVersion = "0.1.0"

// infoSections are the sections Cairn prints, in Redis 7.0's order.
// Errorstats and latencystats are not kept, so those sections are absent.
var infoSections = []struct {
	name, title string
	dflt        bool // part of "default" (and of no argument)
	aliases     []string
	write       func(b *infoBuf, c *Ctx, st *store.Stats)
}{
	{"server", "Server", true, nil, infoServer},
	{"clients", "Clients", true, nil, infoClients},
	{"memory", "Memory", true, nil, infoMemory},
	{"persistence", "Persistence", true, nil, infoPersistence},
	{"stats", "Stats", true, nil, infoStats},
	{"replication", "Replication", true, nil, infoReplication},
	{"cpu", "CPU", true, nil, infoCPU},
	{"modules", "Modules", true, []string{"module_list"}, func(*infoBuf, *Ctx, *store.Stats) {}},
	{"commandstats", "Commandstats", false, nil, infoCommandStats},
	{"cluster", "Cluster", true, nil, infoCluster},
	{"keyspace", "Keyspace", true, nil, infoKeyspace},
}

// cmdInfo is INFO [section ...]. Sections are chosen as Redis
// genInfoSectionDict does: none means "default"; "all" is every section;
// "everything" adds module sections (Cairn has none); unknown names are
// ignored.
func cmdInfo(c *Ctx) {
	want := map[string]bool{}
	all := false
	if len(c.Args) == 1 {
		want["default"] = true
	}
	for _, a := range c.Args[1:] {
		name := strings.ToLower(string(a))
		if name == "all" || name == "everything" {
			all = true
		}
		want[name] = true
	}
	st := c.Tx.Stats()
	var b infoBuf
	for _, sec := range infoSections {
		on := all || want[sec.name] || (sec.dflt && want["default"])
		for _, a := range sec.aliases {
			on = on || want[a]
		}
		if !on {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# ")
		b.WriteString(sec.title)
		b.WriteString("\r\n")
		sec.write(&b, c, &st)
	}
	c.W.Verbatim("txt", b.String())
}

// infoBuf builds INFO text: "key:value\r\n" lines.
type infoBuf struct{ bytes.Buffer }

func (b *infoBuf) kv(k string, v any) {
	b.WriteString(k)
	b.WriteByte(':')
	fmt.Fprint(b, v)
	b.WriteString("\r\n")
}

func infoServer(b *infoBuf, c *Ctx, _ *store.Stats) {
	now := time.Now()
	uptime := int64(now.Sub(c.Srv.start) / time.Second)
	exe, _ := os.Executable()
	b.kv("redis_version", RedisVersion)
	b.kv("redis_git_sha1", "00000000")
	b.kv("redis_git_dirty", 0)
	b.kv("redis_build_id", "0")
	b.kv("redis_mode", c.Srv.mode())
	b.kv("os", osName())
	b.kv("arch_bits", strconv.IntSize)
	b.kv("monotonic_clock", "POSIX clock_gettime")
	b.kv("multiplexing_api", pollerName())
	b.kv("go_version", runtime.Version())
	b.kv("process_id", os.Getpid())
	b.kv("process_supervised", "no")
	b.kv("run_id", c.Srv.runID("run"))
	b.kv("tcp_port", localPort(c))
	b.kv("server_time_usec", now.UnixMicro())
	b.kv("uptime_in_seconds", uptime)
	b.kv("uptime_in_days", uptime/86400)
	b.kv("hz", 10)
	b.kv("configured_hz", 10)
	b.kv("executable", exe)
	b.kv("config_file", "")
	b.kv("io_threads_active", 0)
	b.kv("cairn_version", CairnVersion)
}

// runID is a 40-hex-digit identifier stable for the life of the server
// (Redis run_id, master_replid), derived from the process and start time.
func (s *Server) runID(salt string) string {
	h := sha1.Sum([]byte(fmt.Sprintf("%s-%d-%d-%p", salt, os.Getpid(), s.start.UnixNano(), s)))
	return hex.EncodeToString(h[:])
}

func localPort(c *Ctx) string {
	if _, port, err := net.SplitHostPort(c.Conn.LocalAddr()); err == nil {
		return port
	}
	return c.Srv.config.Get("port")
}

// osName is uname's "sysname release machine", as Redis prints it.
var osName = sync.OnceValue(func() string {
	machine := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686"}[runtime.GOARCH]
	if machine == "" {
		machine = runtime.GOARCH
	}
	sys, err1 := os.ReadFile("/proc/sys/kernel/ostype")
	rel, err2 := os.ReadFile("/proc/sys/kernel/osrelease")
	if err1 != nil || err2 != nil {
		return runtime.GOOS + " " + machine
	}
	return strings.TrimSpace(string(sys)) + " " + strings.TrimSpace(string(rel)) + " " + machine
})

// pollerName is the event mechanism Go's network poller uses.
func pollerName() string {
	switch runtime.GOOS {
	case "linux":
		return "epoll"
	case "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		return "kqueue"
	case "windows":
		return "iocp"
	}
	return runtime.GOOS
}

func infoClients(b *infoBuf, c *Ctx, _ *store.Stats) {
	connected, maxClients := 0, c.Srv.config.Int("maxclients")
	if c.Srv.wire != nil {
		ws := c.Srv.wire.Stats()
		connected, maxClients = ws.ConnectedClients, int64(ws.MaxClients)
	}
	b.kv("connected_clients", connected)
	b.kv("cluster_connections", 0)
	b.kv("maxclients", maxClients)
	b.kv("client_recent_max_input_buffer", 0)
	b.kv("client_recent_max_output_buffer", 0)
	b.kv("blocked_clients", 0)
	trackers, _, _, _ := c.Srv.tracking.stats()
	b.kv("tracking_clients", trackers)
	b.kv("clients_in_timeout_table", 0)
}

func infoMemory(b *infoBuf, c *Ctx, _ *store.Stats) {
	used := uint64(c.Srv.store.UsedMemory()) // the dataset estimate maxmemory bounds (store/memory.go)
	rss := residentBytes()
	maxmem := uint64(c.Srv.config.Int("maxmemory"))
	b.kv("used_memory", used)
	b.kv("used_memory_human", bytesToHuman(used))
	b.kv("used_memory_go_heap", heapInUse())
	b.kv("used_memory_rss", rss)
	b.kv("used_memory_rss_human", bytesToHuman(rss))
	if total := systemMemory(); total > 0 {
		b.kv("total_system_memory", total)
		b.kv("total_system_memory_human", bytesToHuman(total))
	}
	b.kv("maxmemory", maxmem)
	b.kv("maxmemory_human", bytesToHuman(maxmem))
	b.kv("maxmemory_policy", c.Srv.config.Get("maxmemory-policy"))
	ratio := 0.0
	if used > 0 {
		ratio = float64(rss) / float64(used)
	}
	b.kv("mem_fragmentation_ratio", strconv.FormatFloat(ratio, 'f', 2, 64))
	b.kv("mem_allocator", "go")
	b.kv("lazyfree_pending_objects", 0)
}

// heapInUse is the Go heap occupied by objects (runtime/metrics), Cairn's
// counterpart of the allocator's used memory.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// residentBytes is the process's resident set size from /proc/self/statm,
// or 0 where that file does not exist.
func residentBytes() uint64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// systemMemory is MemTotal from /proc/meminfo in bytes, or 0.
func systemMemory() uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// bytesToHuman formats n as Redis bytesToHuman: "967.35K", "6.59M", "0B".
func bytesToHuman(n uint64) string {
	const k = 1024.0
	d := float64(n)
	switch {
	case n < 1<<10:
		return strconv.FormatUint(n, 10) + "B"
	case n < 1<<20:
		return strconv.FormatFloat(d/k, 'f', 2, 64) + "K"
	case n < 1<<30:
		return strconv.FormatFloat(d/(k*k), 'f', 2, 64) + "M"
	case n < 1<<40:
		return strconv.FormatFloat(d/(k*k*k), 'f', 2, 64) + "G"
	case n < 1<<50:
		return strconv.FormatFloat(d/(k*k*k*k), 'f', 2, 64) + "T"
	case n < 1<<60:
		return strconv.FormatFloat(d/(k*k*k*k*k), 'f', 2, 64) + "P"
	}
	return strconv.FormatUint(n, 10) + "B"
}

func infoPersistence(b *infoBuf, c *Ctx, st *store.Stats) {
	sv := &c.Srv.save
	running := sv.bgRunning.Load()
	b.kv("loading", 0)
	b.kv("async_loading", 0)
	b.kv("rdb_changes_since_last_save", st.Changes)
	b.kv("rdb_bgsave_in_progress", boolInt(running))
	b.kv("rdb_last_save_time", st.LastSave.Unix())
	b.kv("rdb_last_bgsave_status", okOrErr(!sv.lastBgFailed.Load()))
	b.kv("rdb_last_bgsave_time_sec", sv.lastBgSecs.Load()-1)
	cur := int64(-1)
	if running {
		cur = (time.Now().UnixMilli() - sv.bgStart.Load()) / 1000
	}
	b.kv("rdb_current_bgsave_time_sec", cur)
	b.kv("rdb_saves", sv.saves.Load())
	b.kv("aof_enabled", 1)
	b.kv("aof_rewrite_in_progress", 0)
	b.kv("aof_rewrite_scheduled", 0)
	b.kv("aof_last_rewrite_time_sec", -1)
	b.kv("aof_current_rewrite_time_sec", -1)
	b.kv("aof_last_bgrewrite_status", "ok")
	b.kv("aof_rewrites", 0)
	b.kv("aof_rewrites_consecutive_failures", 0)
	b.kv("aof_last_write_status", okOrErr(st.WriteError == nil))
	b.kv("module_fork_in_progress", 0)
	b.kv("module_fork_last_cow_size", 0)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func okOrErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

func infoStats(b *infoBuf, c *Ctx, st *store.Stats) {
	var conns, rejected, in, out int64
	if c.Srv.wire != nil {
		ws := c.Srv.wire.Stats()
		conns, rejected, in, out = ws.TotalConnections, ws.RejectedConnections, ws.InputBytes, ws.OutputBytes
	}
	var calls int64
	forEachSpec(c.Srv.table, func(s *Spec) { calls += s.stats.calls.Load() })
	b.kv("total_connections_received", conns)
	b.kv("total_commands_processed", calls)
	b.kv("instantaneous_ops_per_sec", 0)
	b.kv("total_net_input_bytes", in)
	b.kv("total_net_output_bytes", out)
	b.kv("total_net_repl_input_bytes", 0)
	b.kv("total_net_repl_output_bytes", 0)
	b.kv("instantaneous_input_kbps", "0.00")
	b.kv("instantaneous_output_kbps", "0.00")
	b.kv("rejected_connections", rejected)
	b.kv("sync_full", 0)
	b.kv("sync_partial_ok", 0)
	b.kv("sync_partial_err", 0)
	b.kv("expired_keys", st.ExpiredKeys)
	b.kv("evicted_keys", c.Srv.store.EvictedKeys())
	b.kv("evicted_clients", 0)
	subs := c.Srv.pubsub.sizes()
	b.kv("pubsub_channels", subs[kindChannel])
	b.kv("pubsub_patterns", subs[kindPattern])
	b.kv("pubsubshard_channels", subs[kindShard])
	b.kv("latest_fork_usec", 0)
	b.kv("total_forks", 0)
	b.kv("migrate_cached_sockets", 0)
	_, keys, items, prefixes := c.Srv.tracking.stats()
	b.kv("tracking_total_keys", keys)
	b.kv("tracking_total_items", items)
	b.kv("tracking_total_prefixes", prefixes)
}

// forEachSpec calls fn for every command and subcommand, parents first.
func forEachSpec(t *Table, fn func(s *Spec)) {
	for _, s := range t.Commands() {
		fn(s)
		for _, sub := range s.Sub {
			fn(sub)
		}
	}
}

func infoReplication(b *infoBuf, c *Ctx, _ *store.Stats) {
	b.kv("role", "master")
	b.kv("connected_slaves", 0)
	b.kv("master_failover_state", "no-failover")
	b.kv("master_replid", c.Srv.runID("replid"))
	b.kv("master_replid2", strings.Repeat("0", 40))
	b.kv("master_repl_offset", 0)
	b.kv("second_repl_offset", -1)
	b.kv("repl_backlog_active", 0)
	b.kv("repl_backlog_size", 1048576)
	b.kv("repl_backlog_first_byte_offset", 0)
	b.kv("repl_backlog_histlen", 0)
}

func infoCPU(b *infoBuf, _ *Ctx, _ *store.Stats) {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) string { return fmt.Sprintf("%d.%06d", int64(t.Sec), int64(t.Usec)) }
	b.kv("used_cpu_sys", tv(self.Stime))
	b.kv("used_cpu_user", tv(self.Utime))
	b.kv("used_cpu_sys_children", tv(children.Stime))
	b.kv("used_cpu_user_children", tv(children.Utime))
}

// infoCommandStats prints one line per command that was called, rejected
// or failed since start or CONFIG RESETSTAT (Redis infoCommandStats).
func infoCommandStats(b *infoBuf, c *Ctx, _ *store.Stats) {
	forEachSpec(c.Srv.table, func(s *Spec) {
		calls, usec := s.stats.calls.Load(), s.stats.usec.Load()
		rejected, failed := s.stats.rejected.Load(), s.stats.failed.Load()
		if calls == 0 && rejected == 0 && failed == 0 {
			return
		}
		perCall := 0.0
		if calls > 0 {
			perCall = float64(usec) / float64(calls)
		}
		fmt.Fprintf(b, "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d\r\n",
			s.fullName, calls, usec, perCall, rejected, failed)
	})
}

// infoCluster is cluster_enabled and, in cluster mode, Cairn's cluster
// figures (the lines CLUSTER INFO ends with; cluster.go).
func infoCluster(b *infoBuf, c *Ctx, _ *store.Stats) {
	if c.Srv.cluster == nil {
		b.kv("cluster_enabled", 0)
		return
	}
	b.kv("cluster_enabled", 1)
	writeClusterStats(b, c.Srv)
}

// infoKeyspace prints one line per non-empty database. Cairn does not
// sample TTLs, so avg_ttl is 0.
func infoKeyspace(b *infoBuf, _ *Ctx, st *store.Stats) {
	for db := range st.Keys {
		if st.Keys[db] == 0 && st.Expires[db] == 0 {
			continue
		}
		fmt.Fprintf(b, "db%d:keys=%d,expires=%d,avg_ttl=0\r\n", db, st.Keys[db], st.Expires[db])
	}
}

func cmdTime(c *Ctx) {
	now := time.Now()
	c.W.Array(2)
	c.W.BulkInt(now.Unix())
	c.W.BulkInt(int64(now.Nanosecond() / 1000))
}

func cmdLastSave(c *Ctx) { c.W.Int(c.Tx.Stats().LastSave.Unix()) }

// saveState tracks SAVE and BGSAVE for INFO persistence. mu serializes
// snapshots (and lets SHUTDOWN wait for a running one); the rest are
// atomics so INFO reads them without waiting for a snapshot.
type saveState struct {
	mu           sync.Mutex
	closing      bool // guarded by mu: set by SHUTDOWN; no snapshot starts after
	bgRunning    atomic.Bool
	bgStart      atomic.Int64 // unix ms when the running BGSAVE started
	lastBgFailed atomic.Bool
	lastBgSecs   atomic.Int64 // duration of the last BGSAVE in seconds, plus 1 (0: none yet)
	saves        atomic.Int64 // successful snapshots
}

// snapshot writes one snapshot of the store, serialized with the others.
func (sv *saveState) snapshot(st *store.Store) error {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.closing {
		return fmt.Errorf("server is shutting down")
	}
	if err := st.Save(); err != nil {
		return err
	}
	sv.saves.Add(1)
	return nil
}

func cmdSave(c *Ctx) {
	sv := &c.Srv.save
	if sv.bgRunning.Load() {
		c.W.Error(errBgsaveInProgress)
		return
	}
	if err := sv.snapshot(c.Srv.store); err != nil {
		c.Srv.log.Error("SAVE failed", "err", err)
		c.W.Error("ERR")
		return
	}
	c.W.OK()
}

// cmdBgsave is BGSAVE [SCHEDULE]: the snapshot is written by a goroutine;
// a second BGSAVE while one runs is refused, as Redis refuses it.
func cmdBgsave(c *Ctx) {
	if len(c.Args) > 1 && (len(c.Args) != 2 || !eqFold(c.Args[1], "schedule")) {
		c.W.Error(errSyntax)
		return
	}
	sv := &c.Srv.save
	if !sv.bgRunning.CompareAndSwap(false, true) {
		c.W.Error(errBgsaveInProgress)
		return
	}
	sv.bgStart.Store(time.Now().UnixMilli())
	srv := c.Srv
	go func() {
		start := time.Now()
		err := func() (err error) {
			defer func() { // a store closed under the snapshot panics in Pebble
				if r := recover(); r != nil {
					err = fmt.Errorf("snapshot aborted: %v", r)
				}
			}()
			return sv.snapshot(srv.store)
		}()
		if err != nil {
			srv.log.Error("BGSAVE failed", "err", err)
		} else {
			srv.log.Info("background saving terminated with success")
		}
		sv.lastBgFailed.Store(err != nil)
		sv.lastBgSecs.Store(int64(time.Since(start)/time.Second) + 1)
		sv.bgRunning.Store(false)
	}()
	c.W.Simple("Background saving started")
}

// cmdShutdown is SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. On success
// there is no reply: the node closes, and with it this connection.
func cmdShutdown(c *Ctx) {
	var noSave, save, now, force, abort bool
	for _, a := range c.Args[1:] {
		switch {
		case eqFold(a, "nosave"):
			noSave = true
		case eqFold(a, "save"):
			save = true
		case eqFold(a, "now"):
			now = true
		case eqFold(a, "force"):
			force = true
		case eqFold(a, "abort"):
			abort = true
		default:
			c.W.Error(errSyntax)
			return
		}
	}
	if (abort && (noSave || save || now || force)) || (noSave && save) {
		c.W.Error(errSyntax)
		return
	}
	if abort { // a Cairn shutdown never waits, so none is ever in progress
		c.W.Error(errNoShutdown)
		return
	}
	srv := c.Srv
	sv := &srv.save
	sv.mu.Lock() // waits for a running snapshot
	defer sv.mu.Unlock()
	if save || (!noSave && srv.config.Get("save") != "") {
		if err := srv.store.Save(); err != nil {
			srv.log.Error("error saving before shutdown", "err", err)
			if !force {
				c.W.Error(errShutdownFailed)
				return
			}
		}
	}
	if srv.Shutdown == nil {
		c.W.Error(errShutdownFailed)
		return
	}
	sv.closing = true
	srv.log.Info("user requested shutdown")
	c.Conn.CloseAfterReply()
	srv.Shutdown()
}

var infoCommands = []*Spec{
	{Name: "info", Tips: []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"}, Arity: -1, Flags: Loading | Stale | Keyspace, ACL: CatDangerous,
		Group: "server", Since: "1.0.0", Summary: "Get information and statistics about the server", Complexity: "O(1)", Handler: cmdInfo},
	{Name: "time", Tips: []string{"nondeterministic_output"}, Arity: 1, Flags: Loading | Stale | Fast,
		Group: "server", Since: "2.6.0", Summary: "Return the current server time", Complexity: "O(1)", Handler: cmdTime},
	{Name: "lastsave", Tips: []string{"nondeterministic_output"}, Arity: 1, Flags: Loading | Stale | Fast | Keyspace, ACL: CatAdmin | CatDangerous,
		Group: "server", Since: "1.0.0", Summary: "Get the UNIX time stamp of the last successful save to disk", Complexity: "O(1)", Handler: cmdLastSave},
	{Name: "save", Arity: 1, Flags: Admin | NoScript | NoAsyncLoading | NoMulti,
		Group: "server", Since: "1.0.0", Summary: "Synchronously save the dataset to disk",
		Complexity: "O(N) where N is the total number of keys in all databases", Handler: cmdSave},
	{Name: "bgsave", Arity: -1, Flags: Admin | NoScript | NoAsyncLoading,
		Group: "server", Since: "1.0.0", Summary: "Asynchronously save the dataset to disk", Complexity: "O(1)", Handler: cmdBgsave},
	{Name: "shutdown", Arity: -1, Flags: Admin | NoScript | Loading | Stale | NoMulti | AllowBusy,
		Group: "server", Since: "1.0.0", Summary: "Synchronously save the dataset to disk and then shut down the server",
		Complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)", Handler: cmdShutdown},
}
