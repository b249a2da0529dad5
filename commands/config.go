package commands

import (
	"bytes"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cairn/resp"
)

// Config holds the settings CONFIG GET and CONFIG SET see. Values are kept
// as Redis prints them. Mutable settings are applied to the running server
// by their setter.
//
// Ownership: mu guards values; params is immutable after NewConfig.
type Config struct {
	params map[string]*param
	mu     sync.Mutex
	values map[string]string
	level  slog.LevelVar // follows loglevel
}

type param struct {
	name    string
	mutable bool
	// check validates a new value and returns the canonical text, or an
	// error suffix for "CONFIG SET failed (possibly related to argument 'x') - <suffix>".
	check func(v string) (string, string)
	// apply pushes the value to the running server (may be nil).
	apply func(s *Server, v string)
	// of is the setting an alias stands for (lua-time-limit:
	// busy-reply-threshold); "" for a setting of its own.
	of string
}

// key is the name p's value is kept under: an alias shares its setting's.
func (p *param) key() string {
	if p.of != "" {
		return p.of
	}
	return p.name
}

// LogLevel is the level behind the loglevel setting, for the server's
// logger; it follows CONFIG SET loglevel.
func (c *Config) LogLevel() *slog.LevelVar { return &c.level }

// NewConfig returns the settings with Redis's defaults for those Cairn has.
func NewConfig() *Config {
	c := &Config{params: map[string]*param{}, values: map[string]string{}}
	fixed := func(name, def string) { c.add(&param{name: name}, def) }
	fixed("bind", "127.0.0.1")
	fixed("port", "6379")
	fixed("dir", "./data")
	fixed("databases", "16")
	fixed("appendonly", "yes")
	fixed("appendfsync", "everysec")
	fixed("save", "")
	fixed("proto-max-bulk-len", "536870912")
	fixed("client-query-buffer-limit", "1073741824")
	// maxmemory and eviction (maxmemory.go, store/evict.go); cache-size bounds Pebble's block cache.
	memory := func(s *Server, _ string) { s.applyMemory() }
	c.add(&param{name: "maxmemory", mutable: true, check: memoryValue, apply: memory}, "0")
	c.add(&param{name: "maxmemory-policy", mutable: true, check: oneOf("volatile-lru", "volatile-lfu", "volatile-random",
		"volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"), apply: memory}, "noeviction")
	c.add(&param{name: "maxmemory-samples", mutable: true, check: intRange(1, 1<<31-1), apply: memory}, "5")
	c.add(&param{name: "lfu-log-factor", mutable: true, check: intRange(0, 1<<31-1), apply: memory}, "10")
	c.add(&param{name: "lfu-decay-time", mutable: true, check: intRange(0, 1<<31-1), apply: memory}, "1")
	c.add(&param{name: "cache-size", check: memoryValue}, "33554432")
	c.add(&param{name: "tracking-table-max-keys", mutable: true, check: intRange(0, 1<<63-1), // tracking.go
		apply: func(s *Server, v string) { n, _ := parseInt([]byte(v)); s.tracking.maxKeys.Store(n) }}, "1000000")
	c.add(&param{name: "notify-keyspace-events", mutable: true, check: checkNotifyFlags, // notify.go
		apply: func(s *Server, v string) { s.setNotifyFlags(v) }}, "")
	// Cluster mode (docs/cluster.md). join implies cluster-enabled.
	c.add(&param{name: "cluster-enabled", check: oneOf("yes", "no")}, "no")
	c.add(&param{name: "cluster-port", check: intRange(0, 65535)}, "0") // gossip port; 0 = port + 10000
	fixed("join", "")                                                   // gossip addresses host:port of members
	fixed("cluster-name", "cairn")
	fixed("cluster-key", "")         // shared secret: encrypts gossip, authenticates peer connections
	fixed("cluster-announce-ip", "") // advertised host; "" = the first listen address
	c.add(&param{name: "cluster-replicas", check: intRange(1, 16)}, "3")
	c.add(&param{name: "cluster-write-quorum", check: intRange(1, 16)}, "2")
	c.add(&param{name: "cluster-read-quorum", check: intRange(1, 16)}, "2")
	c.add(&param{name: "cluster-vnodes", check: intRange(1, 4096)}, "128")
	c.add(&param{name: "cluster-node-timeout", check: intRange(100, 1<<31-1)}, "2000")           // ms: replication and peer call timeout
	c.add(&param{name: "cluster-anti-entropy-interval", check: intRange(100, 1<<31-1)}, "10000") // ms
	c.add(&param{name: "cluster-auto-remove-after", check: intRange(0, 1<<31-1)}, "0")           // seconds; 0 = never
	// TLS (README "TLS"): tls-port 0 = off; with tls-port set, port 0 turns plain TCP off.
	c.add(&param{name: "tls-port", check: intRange(0, 65535)}, "0")
	fixed("tls-cert-file", "")
	fixed("tls-key-file", "")
	fixed("tls-ca-cert-file", "")
	c.add(&param{name: "tls-auth-clients", check: oneOf("no", "yes", "optional")}, "yes")
	c.add(&param{name: "tls-protocols", check: tlsProtocols}, "") // "" = TLSv1.2 TLSv1.3
	c.add(&param{name: "maxclients", mutable: true, check: intRange(1, 1<<32-1),
		apply: func(s *Server, v string) { n, _ := strconv.Atoi(v); s.wire.SetMaxClients(n) }}, "10000")
	c.add(&param{name: "timeout", mutable: true, check: intRange(0, 1<<31-1),
		apply: func(s *Server, v string) {
			n, _ := strconv.Atoi(v)
			s.wire.SetIdleTimeout(time.Duration(n) * time.Second)
		}}, "0")
	c.add(&param{name: "slowlog-log-slower-than", mutable: true, check: intRange(-1, 1<<63-1),
		apply: func(s *Server, v string) { n, _ := strconv.ParseInt(v, 10, 64); s.slow.threshold.Store(n) }}, "10000")
	c.add(&param{name: "slowlog-max-len", mutable: true, check: intRange(0, 1<<63-1),
		apply: func(s *Server, v string) { n, _ := strconv.ParseInt(v, 10, 64); s.slow.maxLen.Store(n) }}, "128")
	c.add(&param{name: "latency-monitor-threshold", mutable: true, check: intRange(0, 1<<63-1),
		apply: func(s *Server, v string) { n, _ := strconv.ParseInt(v, 10, 64); s.latency.threshold.Store(n) }}, "0")
	// client-output-buffer-limit: the normal class bounds the replies a client leaves
	// unwritten (resp.Conn.write); Cairn's default differs from Redis (outputlimit.go).
	c.add(&param{name: "client-output-buffer-limit", mutable: true,
		check: func(v string) (string, string) { return parseOutputLimits(c.Get("client-output-buffer-limit"), v) },
		apply: func(s *Server, v string) { s.wire.SetOutputLimit(normalOutputLimit(v)) }}, defaultOutputLimits)
	fixed("metrics-addr", "") // host:port of the Prometheus /metrics endpoint; "" = off (metrics.go)
	c.add(&param{name: "loglevel", mutable: true, check: oneOf("debug", "verbose", "notice", "warning"),
		apply: func(_ *Server, v string) { c.level.Set(slogLevel(v)) }}, "notice")
	aclConfigParams(c) // requirepass, aclfile, protected-mode, acllog-max-len, acl-pubsub-default (aclcmd.go)
	// busy-reply-threshold (ms): a script running longer makes other clients' commands BUSY (script.go).
	c.add(&param{name: "busy-reply-threshold", mutable: true, check: intRange(0, 1<<63-1),
		apply: func(s *Server, v string) { n, _ := strconv.ParseInt(v, 10, 64); s.scripts.setBusyThreshold(n) }}, "5000")
	c.alias("lua-time-limit", "busy-reply-threshold")
	return c
}

func (c *Config) add(p *param, def string) {
	c.params[p.name] = p
	c.values[p.name] = def
}

// alias makes name another name of the setting of: CONFIG GET lists both
// names, and errors name the one given.
func (c *Config) alias(name, of string) {
	a := *c.params[of]
	a.name, a.of = name, of
	c.params[name] = &a
}

// Set stores a value at start-up (flags, config file), validating it as
// CONFIG SET would. Immutable settings are accepted here.
func (c *Config) Set(name, value string) error {
	p := c.params[strings.ToLower(name)]
	if p == nil {
		return errUnknownConfig(name)
	}
	v := value
	if p.check != nil {
		var why string
		if v, why = p.check(value); why != "" {
			return errBadConfig(name, why)
		}
	}
	c.mu.Lock()
	c.values[p.key()] = v
	c.mu.Unlock()
	if p.name == "loglevel" { // the logger exists before any server
		p.apply(nil, v)
	}
	return nil
}

// Get returns a setting's value.
func (c *Config) Get(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.values[name]
}

// Int returns a numeric setting.
func (c *Config) Int(name string) int64 {
	n, _ := strconv.ParseInt(c.Get(name), 10, 64)
	return n
}

// apply pushes every mutable value to the server (at Attach).
func (c *Config) apply(s *Server) {
	for name, p := range c.params {
		if p.apply != nil && p.of == "" {
			p.apply(s, c.Get(name))
		}
	}
}

type configError string

func (e configError) Error() string { return string(e) }

func errUnknownConfig(name string) error {
	return configError("ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'")
}

func errBadConfig(name, why string) error {
	return configError("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + why)
}

func intRange(lo, hi int64) func(string) (string, string) {
	return func(v string) (string, string) {
		n, ok := parseInt([]byte(v))
		if !ok {
			return "", "argument couldn't be parsed into an integer"
		}
		if n < lo || n > hi {
			return "", "argument must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10) + " inclusive"
		}
		return strconv.FormatInt(n, 10), ""
	}
}

func oneOf(vals ...string) func(string) (string, string) {
	return func(v string) (string, string) {
		for _, x := range vals {
			if strings.EqualFold(v, x) {
				return x, ""
			}
		}
		return "", "argument(s) must be one of the following: " + strings.Join(vals, ", ")
	}
}

// tlsProtocols accepts a tls-protocols value the TLS listener can use.
func tlsProtocols(v string) (string, string) {
	if _, _, err := resp.ParseTLSProtocols(v); err != nil {
		return "", err.Error()
	}
	return v, ""
}

func slogLevel(v string) slog.Level {
	switch v {
	case "debug", "verbose":
		return slog.LevelDebug
	case "warning":
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// cmdConfigGet is CONFIG GET parameter [parameter ...] (Redis 7.0
// configGetCommand): an argument without glob characters is looked up
// exactly and echoed as given; a pattern matches canonical names. Each
// setting is listed once. Redis lists them in hash order; Cairn sorts them.
func cmdConfigGet(c *Ctx) {
	cfg := c.Srv.config
	type match struct{ key, name string }
	var out []match
	seen := map[string]bool{}
	for _, arg := range c.Args[2:] {
		if !bytes.ContainsAny(arg, "[*?") {
			name := strings.ToLower(string(arg))
			if cfg.params[name] != nil && !seen[name] {
				seen[name] = true
				out = append(out, match{string(arg), name})
			}
			continue
		}
		for name := range cfg.params {
			if !seen[name] && globMatch(arg, []byte(name), true) {
				seen[name] = true
				out = append(out, match{name, name})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	c.W.Map(len(out))
	for _, m := range out {
		c.W.BulkString(m.key)
		c.W.BulkString(cfg.Get(cfg.params[m.name].key()))
	}
}

// cmdConfigSet is CONFIG SET parameter value [parameter value ...] (Redis
// 7.0 configSetCommand): all names are checked first (unknown, immutable,
// duplicate: the first problem wins, named as given), then all values (the
// first bad one wins, named canonically); nothing changes unless all pass.
func cmdConfigSet(c *Ctx) {
	args := c.Args[2:]
	if len(args)%2 != 0 {
		c.W.Error(errSyntax)
		return
	}
	cfg := c.Srv.config
	params := make([]*param, 0, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		p := cfg.params[strings.ToLower(string(args[i]))]
		switch {
		case p == nil:
			c.W.Error(errUnknownConfig(string(args[i])).Error())
			return
		case !p.mutable:
			c.W.Error(errBadConfig(string(args[i]), "can't set immutable config").Error())
			return
		case slices.Contains(params, p):
			c.W.Error(errBadConfig(string(args[i]), "duplicate parameter").Error())
			return
		}
		params = append(params, p)
	}
	values := make([]string, len(params))
	for i, p := range params {
		v, why := p.check(string(args[2*i+1]))
		if why != "" {
			c.W.Error(errBadConfig(p.name, why).Error())
			return
		}
		values[i] = v
	}
	cfg.mu.Lock()
	for i, p := range params {
		cfg.values[p.key()] = values[i]
	}
	cfg.mu.Unlock()
	for i, p := range params {
		if p.apply != nil {
			p.apply(c.Srv, values[i])
		}
	}
	c.W.OK()
}

var configHelp = []string{
	"GET <pattern>",
	"    Return parameters matching the glob-like <pattern> and their values.",
	"SET <directive> <value>",
	"    Set the configuration <directive> to <value>.",
	"RESETSTAT",
	"    Reset statistics reported by the INFO command.",
}

func cmdConfigHelp(c *Ctx) { writeHelp(c.W, "CONFIG", configHelp) }

func cmdConfigResetStat(c *Ctx) {
	for _, spec := range c.Srv.table.list {
		spec.stats.reset()
		for _, sub := range spec.Sub {
			sub.stats.reset()
		}
	}
	if c.Srv.wire != nil {
		c.Srv.wire.ResetStats()
	}
	c.Srv.store.ResetStats()
	c.W.OK()
}

func (st *cmdStats) reset() {
	st.calls.Store(0)
	st.usec.Store(0)
	st.rejected.Store(0)
	st.failed.Store(0)
}
