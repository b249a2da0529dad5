package commands

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Prometheus metrics on metrics-addr (docs/metrics.md). The collector reads
// the counters INFO reads (per-command stats, the wire server's stats, the
// store's stats, the cluster's stats) when Prometheus scrapes, so nothing
// is counted twice and an idle node costs nothing. Names follow
// redis_exporter where it has the figure (redis_*); Cairn's own figures
// are cairn_*. Counters that CONFIG RESETSTAT zeroes (as it zeroes INFO's)
// look to Prometheus like a restart, which rate() handles.

// metricsServer is the HTTP server behind metrics-addr. It is started after
// the RESP listeners and shut down first in Node.Close, so no scrape reads
// a closed store.
type metricsServer struct {
	ln   net.Listener
	http *http.Server
	done chan struct{} // closed when Serve returns
}

// startMetrics listens on addr and serves GET /metrics for srv.
func startMetrics(addr string, srv *Server, log *slog.Logger) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics-addr %s: %w", addr, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collector{srv},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
	}))
	m := &metricsServer{
		ln:   ln,
		http: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(m.done)
		if err := m.http.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("serving metrics", "addr", "http://"+ln.Addr().String()+"/metrics")
	return m, nil
}

// close stops accepting scrapes and waits (at most 5 s) for running ones.
func (m *metricsServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if m.http.Shutdown(ctx) != nil {
		m.http.Close()
	}
	<-m.done
}

// MetricsAddr is the address /metrics is served on, or "" when
// metrics-addr is off.
func (n *Node) MetricsAddr() string {
	if n.metrics == nil {
		return ""
	}
	return n.metrics.ln.Addr().String()
}

type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) { l.log.Error("metrics: " + fmt.Sprint(v...)) }

// descs lists every metric the collector emits, for Describe.
var descs []*prometheus.Desc

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	d := prometheus.NewDesc(name, help, labels, nil)
	descs = append(descs, d)
	return d
}

var (
	// Server, clients, connections (INFO server, clients, stats).
	descInstanceInfo  = newDesc("redis_instance_info", "Information about the Cairn instance (value 1).", "redis_version", "cairn_version", "redis_mode", "os", "maxmemory_policy", "run_id", "process_id")
	descUptime        = newDesc("redis_uptime_in_seconds", "Seconds since the server started.")
	descStartTime     = newDesc("redis_start_time_seconds", "Start time of the server since unix epoch in seconds.")
	descClusterOn     = newDesc("redis_cluster_enabled", "1 in cluster mode, 0 on a single node.")
	descClients       = newDesc("redis_connected_clients", "Client connections open now.")
	descMaxClients    = newDesc("redis_config_maxclients", "The maxclients setting.")
	descConnsReceived = newDesc("redis_connections_received_total", "Connections accepted.")
	descConnsRejected = newDesc("redis_rejected_connections_total", "Connections refused because of maxclients.")
	descNetIn         = newDesc("redis_net_input_bytes_total", "Bytes read from clients.")
	descNetOut        = newDesc("redis_net_output_bytes_total", "Bytes written to clients.")

	// Commands (INFO commandstats).
	descProcessed   = newDesc("redis_commands_processed_total", "Commands run.")
	descCmdCalls    = newDesc("redis_commands_total", "Calls per command.", "cmd")
	descCmdSeconds  = newDesc("redis_commands_duration_seconds_total", "Seconds spent running each command.", "cmd")
	descCmdRejected = newDesc("redis_commands_rejected_calls_total", "Calls refused before running (arity, MULTI, write gate ...), per command.", "cmd")
	descCmdFailed   = newDesc("redis_commands_failed_calls_total", "Calls that ran and replied with an error, per command.", "cmd")
	descCmdLatency  = newDesc("cairn_command_duration_seconds", "Run time of each command in the dispatcher (power-of-two microsecond buckets).", "cmd")
	descPanics      = newDesc("cairn_handler_panics_total", "Command handler panics recovered.")
	descSlowlogLen  = newDesc("redis_slowlog_length", "Entries in the slow log.")
	descSlowlogLast = newDesc("redis_slowlog_last_id", "Id of the newest slow log entry (0 when empty).")
	descSpikeLast   = newDesc("redis_latency_spike_last", "Unix time of the latest latency monitor sample, per event.", "event_name")
	descSpikeLength = newDesc("redis_latency_spike_duration_seconds", "Latency of the latest latency monitor sample, per event.", "event_name")

	// Keyspace and memory (INFO keyspace, memory, stats, persistence).
	descDBKeys       = newDesc("redis_db_keys", "Keys per database.", "db")
	descDBExpiring   = newDesc("redis_db_keys_expiring", "Keys with a TTL per database.", "db")
	descExpired      = newDesc("redis_expired_keys_total", "Keys removed because their TTL passed.")
	descEvicted      = newDesc("redis_evicted_keys_total", "Keys evicted by maxmemory-policy.")
	descMemUsed      = newDesc("redis_memory_used_bytes", "Estimated bytes of the dataset in RAM (INFO used_memory).")
	descMemRSS       = newDesc("redis_memory_used_rss_bytes", "Resident set size of the process.")
	descMemMax       = newDesc("redis_memory_max_bytes", "The maxmemory setting (0: no limit).")
	descChanges      = newDesc("redis_rdb_changes_since_last_save", "Writes since the last SAVE.")
	descLastSave     = newDesc("redis_rdb_last_save_timestamp_seconds", "Unix time of the last SAVE (or of the start).")
	descWriteStatus  = newDesc("redis_aof_last_write_status", "1 while disk writes succeed, 0 after a failed write or sync.")
	descStoreDiskUse = newDesc("cairn_pebble_disk_usage_bytes", "Bytes of the Pebble database on disk.")

	// Pebble health (store.PebbleMetrics).
	descCompactions      = newDesc("cairn_pebble_compactions_total", "Compactions run by Pebble.")
	descCompacting       = newDesc("cairn_pebble_compactions_in_progress", "Compactions running now.")
	descCompactionDebt   = newDesc("cairn_pebble_compaction_debt_bytes", "Estimated bytes compactions must rewrite to settle the LSM.")
	descCompactedBytes   = newDesc("cairn_pebble_compacted_bytes_total", "Bytes written by compactions.")
	descFlushes          = newDesc("cairn_pebble_flushes_total", "Memtable flushes.")
	descReadAmp          = newDesc("cairn_pebble_read_amplification", "Sorted runs a read may visit (L0 sublevels plus non-empty levels).")
	descWriteStalls      = newDesc("cairn_pebble_write_stalls_total", "Times Pebble stopped writes (memtables full or L0 too deep).")
	descWriteStallTime   = newDesc("cairn_pebble_write_stall_seconds_total", "Seconds writes were stalled.")
	descDiskSlow         = newDesc("cairn_pebble_disk_slow_total", "Disk operations Pebble reported as slow.")
	descWALFsync         = newDesc("cairn_pebble_wal_fsync_duration_seconds", "Latency of Pebble's write-ahead log syncs.")
	descWALBytes         = newDesc("cairn_pebble_wal_bytes_written_total", "Bytes written to the write-ahead log.")
	descMemtable         = newDesc("cairn_pebble_memtable_bytes", "Bytes held by Pebble's memtables.")
	descBlockCacheBytes  = newDesc("cairn_pebble_block_cache_bytes", "Bytes in Pebble's block cache.")
	descBlockCacheHits   = newDesc("cairn_pebble_block_cache_hits_total", "Block cache hits.")
	descBlockCacheMisses = newDesc("cairn_pebble_block_cache_misses_total", "Block cache misses.")

	// Cluster (cluster.Stats, as INFO cluster and CLUSTER INFO print them).
	descRingEpoch       = newDesc("cairn_cluster_ring_epoch", "Epoch of the ring this node holds.")
	descMembers         = newDesc("cairn_cluster_members", "Nodes in the ring.")
	descMembersAlive    = newDesc("cairn_cluster_members_alive", "Ring members this node sees alive.")
	descSlotsPrimary    = newDesc("cairn_cluster_slots_primary", "Slots this node serves as ready primary.")
	descSlotsFresh      = newDesc("cairn_cluster_slots_fresh", "Slots this node replicates and has synced.")
	descHintBacklog     = newDesc("cairn_cluster_hint_backlog", "Hinted keys held for a node.", "node")
	descHintsReplayed   = newDesc("cairn_cluster_hints_replayed_total", "Hints delivered to their node.")
	descQuorumFailures  = newDesc("cairn_cluster_quorum_failures_total", "Reads and writes that did not reach their quorum (refused, or write outcome uncertain); INFO cluster_quorum_failures.")
	descWritesUncertain = newDesc("cairn_cluster_writes_uncertain_total", "Writes whose outcome is unknown (applied, quorum not confirmed).")
	descReplicated      = newDesc("cairn_cluster_writes_replicated_total", "Writes sent to replicas by this node as primary.")
	descGapResends      = newDesc("cairn_cluster_gap_resends_total", "Replication messages resent to fill a replica's gap.")
	descReadRepairs     = newDesc("cairn_cluster_read_repairs_total", "Stale replicas repaired by quorum reads.")
	descKeysRepaired    = newDesc("cairn_cluster_keys_repaired_total", "Keys repaired by anti-entropy.")
	descAERounds        = newDesc("cairn_cluster_anti_entropy_rounds_total", "Anti-entropy rounds run.")
	descSlotsCompared   = newDesc("cairn_cluster_slots_compared_total", "Slot digests compared by anti-entropy.")
	descSlotsDiffered   = newDesc("cairn_cluster_slots_differed_total", "Slot digests that differed.")
	descSlotsAcquired   = newDesc("cairn_cluster_slots_acquired_total", "Slots this node became primary of.")
	descStepDowns       = newDesc("cairn_cluster_step_downs_total", "Slots this node stopped being primary of.")
)

// walFsyncBounds are the bucket bounds (seconds) kept from Pebble's
// 100-bucket fsync histogram: each is replaced by the largest Pebble bound
// not above it, whose cumulative count is exact.
var walFsyncBounds = []float64{100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 5, 10}

// collector reads srv's counters at scrape time.
type collector struct{ srv *Server }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descs {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	e := emitter{ch}
	s := c.srv
	c.collectServer(e)
	c.collectCommands(e)
	st := s.store.Stats()
	for db := range st.Keys {
		label := "db" + strconv.Itoa(db)
		e.gauge(descDBKeys, float64(st.Keys[db]), label)
		e.gauge(descDBExpiring, float64(st.Expires[db]), label)
	}
	e.counter(descExpired, float64(st.ExpiredKeys))
	e.counter(descEvicted, float64(s.store.EvictedKeys()))
	e.gauge(descMemUsed, float64(s.store.UsedMemory()))
	e.gauge(descMemRSS, float64(residentBytes()))
	e.gauge(descMemMax, float64(s.config.Int("maxmemory")))
	e.gauge(descChanges, float64(st.Changes))
	e.gauge(descLastSave, float64(st.LastSave.Unix()))
	e.gauge(descWriteStatus, float64(boolInt(st.WriteError == nil)))
	e.gauge(descStoreDiskUse, float64(st.DiskUsage))
	c.collectPebble(e)
	if s.cluster != nil {
		c.collectCluster(e)
	}
}

func (c collector) collectServer(e emitter) {
	s := c.srv
	e.gauge(descInstanceInfo, 1, RedisVersion, CairnVersion, s.mode(), osName(),
		s.config.Get("maxmemory-policy"), s.runID("run"), strconv.Itoa(os.Getpid()))
	e.gauge(descUptime, math.Floor(time.Since(s.start).Seconds()))
	e.gauge(descStartTime, float64(s.start.Unix()))
	e.gauge(descClusterOn, float64(boolInt(s.cluster != nil)))
	e.counter(descPanics, float64(s.panics.Load()))
	if s.wire != nil {
		ws := s.wire.Stats()
		e.gauge(descClients, float64(ws.ConnectedClients))
		e.gauge(descMaxClients, float64(ws.MaxClients))
		e.counter(descConnsReceived, float64(ws.TotalConnections))
		e.counter(descConnsRejected, float64(ws.RejectedConnections))
		e.counter(descNetIn, float64(ws.InputBytes))
		e.counter(descNetOut, float64(ws.OutputBytes))
	}
	s.slow.mu.Lock()
	n, last := len(s.slow.entries), int64(0)
	if n > 0 {
		last = s.slow.entries[n-1].id
	}
	s.slow.mu.Unlock()
	e.gauge(descSlowlogLen, float64(n))
	e.gauge(descSlowlogLast, float64(last))
	for _, ev := range s.latency.latest() {
		e.gauge(descSpikeLast, float64(ev.at), ev.name)
		e.gauge(descSpikeLength, float64(ev.latency)/1000, ev.name)
	}
}

// collectCommands emits, per command or subcommand that was called,
// rejected or failed, the commandstats counters and the run-time histogram.
func (c collector) collectCommands(e emitter) {
	var total int64
	forEachSpec(c.srv.table, func(sp *Spec) {
		calls, usec := sp.stats.calls.Load(), sp.stats.usec.Load()
		rejected, failed := sp.stats.rejected.Load(), sp.stats.failed.Load()
		h := sp.stats.hist.snapshot()
		total += calls
		if calls == 0 && rejected == 0 && failed == 0 && h.count == 0 {
			return
		}
		name := sp.fullName
		e.counter(descCmdCalls, float64(calls), name)
		e.counter(descCmdSeconds, float64(usec)/1e6, name)
		e.counter(descCmdRejected, float64(rejected), name)
		e.counter(descCmdFailed, float64(failed), name)
		buckets := make(map[float64]uint64, histBuckets)
		for i, cum := range h.cumulative {
			buckets[float64(histBoundMicros(i))/1e6] = cum
		}
		e.ch <- prometheus.MustNewConstHistogram(descCmdLatency, h.count, h.sum.Seconds(), buckets, name)
	})
	e.counter(descProcessed, float64(total))
}

func (c collector) collectPebble(e emitter) {
	pm := c.srv.store.PebbleMetrics()
	e.counter(descCompactions, float64(pm.Compact.Count))
	e.gauge(descCompacting, float64(pm.Compact.NumInProgress))
	e.gauge(descCompactionDebt, float64(pm.Compact.EstimatedDebt))
	e.counter(descCompactedBytes, float64(pm.Total().TableBytesCompacted))
	e.counter(descFlushes, float64(pm.Flush.Count))
	e.gauge(descReadAmp, float64(pm.ReadAmp()))
	e.counter(descWriteStalls, float64(pm.WriteStalls))
	e.counter(descWriteStallTime, pm.WriteStallTime.Seconds())
	e.counter(descDiskSlow, float64(pm.DiskSlowEvents))
	e.counter(descWALBytes, float64(pm.WAL.BytesWritten))
	e.gauge(descMemtable, float64(pm.MemTable.Size))
	e.gauge(descBlockCacheBytes, float64(pm.BlockCache.Size))
	e.counter(descBlockCacheHits, float64(pm.BlockCache.Hits))
	e.counter(descBlockCacheMisses, float64(pm.BlockCache.Misses))
	var m dto.Metric
	if h := pm.LogWriter.FsyncLatency; h != nil && h.Write(&m) == nil && m.Histogram != nil {
		count, sum, buckets := walFsyncHistogram(m.Histogram)
		e.ch <- prometheus.MustNewConstHistogram(descWALFsync, count, sum, buckets)
	}
}

// walFsyncHistogram converts Pebble's fsync histogram (nanoseconds, 100
// buckets) to seconds with the buckets of walFsyncBounds.
func walFsyncHistogram(h *dto.Histogram) (count uint64, sum float64, buckets map[float64]uint64) {
	bs := h.GetBucket()
	buckets = make(map[float64]uint64, len(walFsyncBounds))
	for i, b := range bs {
		ub := b.GetUpperBound() / 1e9
		next := math.Inf(1)
		if i+1 < len(bs) {
			next = bs[i+1].GetUpperBound() / 1e9
		}
		for _, t := range walFsyncBounds {
			if ub <= t && t < next {
				buckets[ub] = b.GetCumulativeCount()
				break
			}
		}
	}
	return h.GetSampleCount(), h.GetSampleSum() / 1e9, buckets
}

func (c collector) collectCluster(e emitter) {
	cs := c.srv.cluster.Stats()
	e.gauge(descRingEpoch, float64(cs.Epoch))
	e.gauge(descMembers, float64(cs.Members))
	e.gauge(descMembersAlive, float64(cs.Alive))
	e.gauge(descSlotsPrimary, float64(cs.SlotsHeld))
	e.gauge(descSlotsFresh, float64(cs.SlotsFresh))
	for node, n := range cs.HintBacklog {
		e.gauge(descHintBacklog, float64(n), node)
	}
	e.counter(descHintsReplayed, float64(cs.HintsReplayed))
	e.counter(descQuorumFailures, float64(cs.NoReplicas+cs.Uncertain))
	e.counter(descWritesUncertain, float64(cs.Uncertain))
	e.counter(descReplicated, float64(cs.Replicated))
	e.counter(descGapResends, float64(cs.GapResends))
	e.counter(descReadRepairs, float64(cs.ReadRepairs))
	e.counter(descKeysRepaired, float64(cs.KeysRepaired))
	e.counter(descAERounds, float64(cs.AntiEntropyRounds))
	e.counter(descSlotsCompared, float64(cs.SlotsCompared))
	e.counter(descSlotsDiffered, float64(cs.SlotsDiffered))
	e.counter(descSlotsAcquired, float64(cs.SlotsAcquired))
	e.counter(descStepDowns, float64(cs.StepDowns))
}

// emitter sends constant metrics to a Collect channel.
type emitter struct{ ch chan<- prometheus.Metric }

func (e emitter) gauge(d *prometheus.Desc, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func (e emitter) counter(d *prometheus.Desc, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}
