package commands

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The slow log records commands slower than slowlog-log-slower-than
// microseconds, newest first, at most slowlog-max-len entries. Arguments are
// trimmed as Redis trims them.
const (
	slowlogMaxArgc   = 32
	slowlogMaxString = 128
)

type slowEntry struct {
	id         int64
	at         int64 // unix seconds
	micros     int64
	args       []string
	addr, name string
}

// slowlog is shared by all connections; mu guards nextID and entries. The
// settings are atomics so the per-command check takes no lock.
type slowlog struct {
	threshold atomic.Int64 // slowlog-log-slower-than, microseconds; <0 disables
	maxLen    atomic.Int64 // slowlog-max-len

	mu      sync.Mutex
	nextID  int64
	entries []slowEntry // oldest first; at most maxLen after each add
}

func (l *slowlog) init() {
	l.threshold.Store(10000)
	l.maxLen.Store(128)
}

func (l *slowlog) maybeAdd(d time.Duration, c *Ctx) {
	limit := l.threshold.Load()
	if limit < 0 || d.Microseconds() < limit {
		return
	}
	max := int(l.maxLen.Load())
	e := slowEntry{at: time.Now().Unix(), micros: d.Microseconds(), addr: c.Conn.RemoteAddr(), name: c.Conn.Name()}
	argc := min(len(c.Args), slowlogMaxArgc)
	for i := 0; i < argc; i++ {
		a := c.Args[i]
		switch {
		case argc != len(c.Args) && i == argc-1:
			e.args = append(e.args, fmt.Sprintf("... (%d more arguments)", len(c.Args)-argc+1))
		case len(a) > slowlogMaxString:
			e.args = append(e.args, fmt.Sprintf("%s... (%d more bytes)", a[:slowlogMaxString], len(a)-slowlogMaxString))
		default:
			e.args = append(e.args, string(a))
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, e)
	if drop := len(l.entries) - max; drop > 0 {
		// Trimming from the front keeps adds O(1) amortized; append copies
		// the survivors to a fresh array once the old one is full.
		clear(l.entries[:drop])
		l.entries = l.entries[drop:]
	}
}

// cmdSlowlogGet is SLOWLOG GET [count]: the newest count entries (10 by
// default, -1 for all), newest first.
func cmdSlowlogGet(c *Ctx) {
	if len(c.Args) > 3 {
		c.W.Error(subcommandSyntaxError(c.Args))
		return
	}
	count := int64(10)
	if len(c.Args) == 3 {
		n, ok := parseInt(c.Args[2])
		if !ok || n < -1 {
			c.W.Error(errSlowlogCount)
			return
		}
		count = n
	}
	l := &c.Srv.slow
	l.mu.Lock()
	n := len(l.entries)
	if count >= 0 && int64(n) > count {
		n = int(count)
	}
	entries := make([]slowEntry, n)
	for i := range entries {
		entries[i] = l.entries[len(l.entries)-1-i]
	}
	l.mu.Unlock()
	c.W.Array(len(entries))
	for _, e := range entries {
		c.W.Array(6)
		c.W.Int(e.id)
		c.W.Int(e.at)
		c.W.Int(e.micros)
		c.W.Array(len(e.args))
		for _, a := range e.args {
			c.W.BulkString(a)
		}
		c.W.BulkString(e.addr)
		c.W.BulkString(e.name)
	}
}

func cmdSlowlogLen(c *Ctx) {
	c.Srv.slow.mu.Lock()
	n := len(c.Srv.slow.entries)
	c.Srv.slow.mu.Unlock()
	c.W.Int(int64(n))
}

func cmdSlowlogReset(c *Ctx) {
	c.Srv.slow.mu.Lock()
	c.Srv.slow.entries = nil
	c.Srv.slow.mu.Unlock()
	c.W.OK()
}

var slowlogHelp = []string{
	"GET [<count>]",
	"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
	"    Entries are made of:",
	"    id, timestamp, time in microseconds, arguments array, client IP and port,",
	"    client name",
	"LEN",
	"    Return the length of the slowlog.",
	"RESET",
	"    Reset the slowlog.",
}

func cmdSlowlogHelp(c *Ctx) { writeHelp(c.W, "SLOWLOG", slowlogHelp) }
