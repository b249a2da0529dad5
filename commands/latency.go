package commands

import (
	"math/bits"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The latency monitor (Redis latency.c): with latency-monitor-threshold
// set to T milliseconds, every command that runs for at least T ms adds a
// sample to its event's time series: "fast-command" for commands flagged
// fast, "command" for the others. A series keeps the worst latency of
// each second for the last latencyTSLen seconds that had a sample, and the
// all-time maximum. LATENCY LATEST, HISTORY and RESET read them; LATENCY
// HISTOGRAM reads the per-command histograms that also feed the
// cairn_command_duration_seconds metric (metrics.go).

const latencyTSLen = 160 // samples per event, Redis LATENCY_TS_LEN

type latencySample struct {
	at      int64 // unix seconds; 0 = empty slot
	latency int64 // milliseconds
}

// latencySeries is one event's ring of samples (Redis latencyTimeSeries).
type latencySeries struct {
	idx     int // next slot to write
	max     int64
	samples [latencyTSLen]latencySample
}

// latencyMonitor is shared by all connections. threshold is an atomic so
// the per-command check takes no lock; mu guards events.
type latencyMonitor struct {
	threshold atomic.Int64 // latency-monitor-threshold in ms; 0 disables

	mu     sync.Mutex
	events map[string]*latencySeries
}

// observe records one call's run time: in the command's histogram and, over
// the threshold, in the latency monitor. It allocates nothing unless a
// new event series is created. Called by the dispatcher's record.
func (s *Server) observe(spec *Spec, d time.Duration) {
	spec.stats.hist.observe(d)
	limit := s.latency.threshold.Load()
	if limit <= 0 {
		return
	}
	ms := d.Milliseconds()
	if ms < limit {
		return
	}
	event := "command"
	if spec.Flags&Fast != 0 {
		event = "fast-command"
	}
	s.latency.add(event, ms, time.Now().Unix())
}

// add is Redis latencyAddSample: the sample replaces the previous one when
// both fall in the same second and it is larger.
func (m *latencyMonitor) add(event string, ms, now int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[event]
	if ts == nil {
		if m.events == nil {
			m.events = make(map[string]*latencySeries)
		}
		ts = &latencySeries{}
		m.events[event] = ts
	}
	ts.max = max(ts.max, ms)
	prev := &ts.samples[(ts.idx+latencyTSLen-1)%latencyTSLen]
	if prev.at == now {
		prev.latency = max(prev.latency, ms)
		return
	}
	ts.samples[ts.idx] = latencySample{at: now, latency: ms}
	ts.idx = (ts.idx + 1) % latencyTSLen
}

// latestEvent is one line of LATENCY LATEST.
type latestEvent struct {
	name             string
	at, latency, max int64
}

// latest returns each event's newest sample and maximum, sorted by name
// (Redis lists them in hash order).
func (m *latencyMonitor) latest() []latestEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]latestEvent, 0, len(m.events))
	for name, ts := range m.events {
		last := ts.samples[(ts.idx+latencyTSLen-1)%latencyTSLen]
		out = append(out, latestEvent{name: name, at: last.at, latency: last.latency, max: ts.max})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// history returns an event's samples, oldest first.
func (m *latencyMonitor) history(event string) []latencySample {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[event]
	if ts == nil {
		return nil
	}
	var out []latencySample
	for j := range latencyTSLen {
		if s := ts.samples[(ts.idx+j)%latencyTSLen]; s.at != 0 {
			out = append(out, s)
		}
	}
	return out
}

// reset drops the named events (all of them when none is named) and
// returns how many existed.
func (m *latencyMonitor) reset(events [][]byte) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(events) == 0 {
		n := len(m.events)
		clear(m.events)
		return n
	}
	n := 0
	for _, e := range events {
		if _, ok := m.events[string(e)]; ok {
			delete(m.events, string(e))
			n++
		}
	}
	return n
}

func cmdLatencyLatest(c *Ctx) {
	events := c.Srv.latency.latest()
	c.W.Array(len(events))
	for _, e := range events {
		c.W.Array(4)
		c.W.BulkString(e.name)
		c.W.Int(e.at)
		c.W.Int(e.latency)
		c.W.Int(e.max)
	}
}

func cmdLatencyHistory(c *Ctx) {
	samples := c.Srv.latency.history(string(c.Args[2]))
	c.W.Array(len(samples))
	for _, s := range samples {
		c.W.Array(2)
		c.W.Int(s.at)
		c.W.Int(s.latency)
	}
}

func cmdLatencyReset(c *Ctx) { c.W.Int(int64(c.Srv.latency.reset(c.Args[2:]))) }

// cmdLatencyHistogram is LATENCY HISTOGRAM [command ...] (Redis 7.0
// latencyAllCommandsFillCDF / latencySpecificCommandsFillCDF): for each
// command called at least once, its call count and the cumulative count of
// calls at or below each power-of-two bound in microseconds, for the
// buckets that add calls. A container command named alone stands for its
// subcommands. Unknown names are skipped.
func cmdLatencyHistogram(c *Ctx) {
	var specs []*Spec
	if len(c.Args) == 2 {
		forEachSpec(c.Srv.table, func(s *Spec) { specs = append(specs, s) })
	} else {
		for _, a := range c.Args[2:] {
			name := strings.ToLower(string(a))
			parent, sub, _ := strings.Cut(name, "|")
			s := c.Srv.table.byName[parent]
			switch {
			case s == nil:
			case sub != "":
				if s = s.subs[sub]; s != nil {
					specs = append(specs, s)
				}
			case len(s.Sub) > 0:
				specs = append(specs, s.Sub...)
			default:
				specs = append(specs, s)
			}
		}
	}
	type row struct {
		name string
		h    histSnapshot
	}
	var rows []row
	for _, s := range specs {
		if h := s.stats.hist.snapshot(); h.count > 0 {
			rows = append(rows, row{s.fullName, h})
		}
	}
	c.W.Map(len(rows))
	for _, r := range rows {
		c.W.BulkString(r.name)
		c.W.Map(2)
		c.W.BulkString("calls")
		c.W.Int(int64(r.h.count))
		c.W.BulkString("histogram_usec")
		n, prev := 0, uint64(0)
		for _, cum := range r.h.cumulative {
			if cum > prev {
				n++
			}
			prev = cum
		}
		c.W.Map(n)
		prev = 0
		for i, cum := range r.h.cumulative {
			if cum > prev {
				c.W.Int(int64(histBoundMicros(i)))
				c.W.Int(int64(cum))
			}
			prev = cum
		}
	}
}

var latencyHelp = []string{
	"HISTORY <event>",
	"    Return time-latency samples for the <event> class.",
	"LATEST",
	"    Return the latest latency samples for all events.",
	"RESET [<event> ...]",
	"    Reset latency data of one or more <event> classes.",
	"    (default: reset all data for all event classes)",
	"HISTOGRAM [COMMAND ...]",
	"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
	"    If no commands are specified then all histograms are replied.",
}

func cmdLatencyHelp(c *Ctx) { writeHelp(c.W, "LATENCY", latencyHelp) }

// histBuckets is the number of finite buckets of a command's histogram:
// upper bounds 1 µs, 2 µs, 4 µs ... 2^23 µs (about 8.4 s).
const histBuckets = 24

// cmdHistogram counts a command's run times in power-of-two microsecond
// buckets. It is never reset (Prometheus counters only grow). observe is
// lock-free and allocation-free.
type cmdHistogram struct {
	// counts[i] counts runs in (2^(i-1), 2^i] µs (counts[0]: up to 1 µs);
	// counts[histBuckets] counts the longer ones.
	counts   [histBuckets + 1]atomic.Uint64
	sumNanos atomic.Uint64
}

func (h *cmdHistogram) observe(d time.Duration) {
	ns := max(int64(d), 0)
	us := uint64(ns+999) / 1000 // rounded up: a bucket's bound is inclusive
	i := 0
	if us > 1 {
		i = min(bits.Len64(us-1), histBuckets)
	}
	h.counts[i].Add(1)
	h.sumNanos.Add(uint64(ns))
}

// histBoundMicros is bucket i's inclusive upper bound in microseconds.
func histBoundMicros(i int) uint64 { return 1 << i }

// histSnapshot is a histogram read at one moment: cumulative counts per
// finite bucket, the total (which includes the overflow bucket) and the
// sum of run times.
type histSnapshot struct {
	cumulative [histBuckets]uint64
	count      uint64
	sum        time.Duration
}

// snapshot reads the counters. Concurrent observations may land between
// the loads; the count is the sum of the buckets so the snapshot is
// internally consistent.
func (h *cmdHistogram) snapshot() histSnapshot {
	var s histSnapshot
	for i := range histBuckets {
		s.count += h.counts[i].Load()
		s.cumulative[i] = s.count
	}
	s.count += h.counts[histBuckets].Load()
	s.sum = time.Duration(h.sumNanos.Load())
	return s
}

var latencyCommands = []*Spec{
	{Name: "latency", Arity: -2, Group: "server", Since: "2.8.13", Summary: "A container for latency diagnostics commands", Complexity: "Depends on subcommand.", Sub: []*Spec{
		{Name: "help", Arity: 2, Flags: Loading | Stale, Group: "server", Since: "2.8.13",
			Summary: "Show helpful text about the different subcommands.", Complexity: "O(1)", Handler: cmdLatencyHelp},
		{Name: "histogram", Tips: []string{"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"}, Arity: -2, Flags: Admin | NoScript | Loading | Stale,
			Group: "server", Since: "7.0.0", Summary: "Return the cumulative distribution of latencies of a subset of commands or all.",
			Complexity: "O(N) where N is the number of commands with latency information being retrieved.", Handler: cmdLatencyHistogram},
		{Name: "history", Tips: []string{"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"}, Arity: 3, Flags: Admin | NoScript | Loading | Stale,
			Group: "server", Since: "2.8.13", Summary: "Return timestamp-latency samples for the event.", Complexity: "O(1)", Handler: cmdLatencyHistory},
		{Name: "latest", Tips: []string{"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"}, Arity: 2, Flags: Admin | NoScript | Loading | Stale,
			Group: "server", Since: "2.8.13", Summary: "Return the latest latency samples for all events.", Complexity: "O(1)", Handler: cmdLatencyLatest},
		{Name: "reset", Tips: []string{"request_policy:all_nodes", "response_policy:all_succeeded"}, Arity: -2, Flags: Admin | NoScript | Loading | Stale,
			Group: "server", Since: "2.8.13", Summary: "Reset latency data for one or more events.", Complexity: "O(1)", Handler: cmdLatencyReset},
	}},
}
