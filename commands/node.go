package commands

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"cairn/cluster"
	"cairn/resp"
	"cairn/store"
)

// Node is a running single Cairn server: the store, the command layer and
// the listeners, assembled from a Config. cmd/cairn and the tests start
// servers the same way, through StartNode.
type Node struct {
	Store    *store.Store
	Cmd      *Server
	Wire     *resp.Server
	Cluster  *cluster.Cluster // nil on a single node
	log      *slog.Logger
	addrs    []net.Addr // plain TCP listeners; none when port is 0 and tls-port is set
	tlsAddrs []net.Addr // TLS listeners (tls-port)

	// metrics serves GET /metrics on metrics-addr; nil when off (metrics.go).
	metrics *metricsServer

	closeOnce sync.Once
	closeErr  error
	done      chan struct{} // closed when the node has shut down
}

// NodeOptions are the settings of a node that have no config parameter:
// test hooks for clusters.
type NodeOptions struct {
	Faults       *cluster.Faults          // injected network faults between cluster nodes
	GossipTuning func(*memberlist.Config) // e.g. cluster.FastGossip
	// RejoinInterval overrides how often dead ring members are re-joined
	// (default 10 s); tests shorten it so healed partitions close fast.
	RejoinInterval time.Duration
	// Unfenced turns off the replicas' ballot check; only for the test that
	// shows the linearizability checker catches its absence.
	Unfenced bool
	// AnyTLSPort serves TLS on a free port although tls-port is 0, as port
	// 0 does for plain TCP; tests only.
	AnyTLSPort bool
}

// StartNode opens the store in cfg's dir and listens on every bind address
// at cfg's port (0 picks a free port); with cluster-enabled (or join) set
// it also joins the cluster before serving.
func StartNode(cfg *Config, log *slog.Logger) (*Node, error) {
	return StartNodeWith(cfg, log, NodeOptions{})
}

// StartNodeWith is StartNode with options that have no config parameter.
func StartNodeWith(cfg *Config, log *slog.Logger, o NodeOptions) (*Node, error) {
	if log == nil {
		log = slog.Default()
	}
	fsync, err := store.ParseFsync(cfg.Get("appendfsync"))
	if err != nil {
		return nil, err
	}
	clustered := cfg.Get("cluster-enabled") == "yes" || cfg.Get("join") != ""
	st, err := store.Open(store.Options{
		Dir:        cfg.Get("dir"),
		Databases:  int(cfg.Int("databases")),
		CacheSize:  cfg.Int("cache-size"),
		Fsync:      fsync,
		Tombstones: clustered,
		Logger:     log,
	})
	if err != nil {
		return nil, err
	}
	n := &Node{Store: st, log: log, done: make(chan struct{})}
	n.Cmd = New(st, Options{Logger: log, Config: cfg})
	n.Cmd.Shutdown = func() { go n.Close() }
	n.Wire = resp.NewServer(resp.Options{
		MaxClients:  int(cfg.Int("maxclients")),
		IdleTimeout: time.Duration(cfg.Int("timeout")) * time.Second,
		Limits: resp.Limits{
			MaxBulkLen:     cfg.Int("proto-max-bulk-len"),
			MaxQueryBuffer: cfg.Int("client-query-buffer-limit"),
		},
		Logger: log,
	}, n.Cmd)
	n.Cmd.Attach(n.Wire)
	var lns []net.Listener
	// As Redis, port 0 with a tls-port turns plain TCP off; alone it picks a free port.
	if port := cfg.Get("port"); port != "0" || cfg.Get("tls-port") == "0" {
		if lns, err = listenAll(cfg.Get("bind"), port); err != nil {
			n.Close()
			return nil, err
		}
		for _, ln := range lns {
			n.addrs = append(n.addrs, ln.Addr())
		}
	}
	tlsLns, err := n.listenTLS(cfg, o.AnyTLSPort)
	if err == nil && len(lns)+len(tlsLns) == 0 {
		err = fmt.Errorf("no bind address")
	}
	if err != nil {
		for _, l := range lns {
			l.Close()
		}
		n.Close()
		return nil, err
	}
	lns = append(lns, tlsLns...)
	if clustered {
		if err := n.startCluster(cfg, o); err != nil {
			for _, l := range lns {
				l.Close()
			}
			n.Close()
			return nil, err
		}
	}
	for _, ln := range lns {
		go n.Wire.Serve(ln)
	}
	if addr := cfg.Get("metrics-addr"); addr != "" {
		if n.metrics, err = startMetrics(addr, n.Cmd, log); err != nil {
			n.Close()
			return nil, err
		}
	}
	log.Info("ready to accept connections", "addr", n.Addr(), "tls", n.TLSAddr(), "dir", cfg.Get("dir"), "appendfsync", fsync.String())
	return n, nil
}

// startCluster joins the cluster with this node's first listen address
// (or cluster-announce-ip) as its advertised address.
func (n *Node) startCluster(cfg *Config, o NodeOptions) error {
	if len(n.addrs) == 0 {
		return fmt.Errorf("cluster mode needs plain TCP: peers forward and replicate over the plain port (port 0 with tls-port turns it off)")
	}
	host, port, _ := net.SplitHostPort(n.addrs[0].String())
	if ip := cfg.Get("cluster-announce-ip"); ip != "" {
		host = ip
	}
	busPort := int(cfg.Int("cluster-port"))
	if busPort == 0 {
		p, _ := strconv.Atoi(port)
		busPort = p + 10000
		if cfg.Get("port") == "0" {
			busPort = 0 // tests: any free port
		}
	}
	bindHost, _, _ := net.SplitHostPort(n.addrs[0].String())
	ms := func(name string) time.Duration { return time.Duration(cfg.Int(name)) * time.Millisecond }
	c, err := cluster.Start(cluster.Options{
		Store:               n.Store,
		Dir:                 cfg.Get("dir"),
		Addr:                net.JoinHostPort(host, port),
		BusBind:             net.JoinHostPort(bindHost, strconv.Itoa(busPort)),
		Join:                strings.Fields(cfg.Get("join")),
		Name:                cfg.Get("cluster-name"),
		Key:                 []byte(cfg.Get("cluster-key")),
		VNodes:              int(cfg.Int("cluster-vnodes")),
		N:                   int(cfg.Int("cluster-replicas")),
		W:                   int(cfg.Int("cluster-write-quorum")),
		R:                   int(cfg.Int("cluster-read-quorum")),
		ReplicationTimeout:  ms("cluster-node-timeout"),
		AntiEntropyInterval: ms("cluster-anti-entropy-interval"),
		AutoRemoveAfter:     time.Duration(cfg.Int("cluster-auto-remove-after")) * time.Second,
		RejoinInterval:      o.RejoinInterval,
		Faults:              o.Faults,
		Tuning:              o.GossipTuning,
		Unfenced:            o.Unfenced,
		Logger:              n.log,
	})
	if err != nil {
		return err
	}
	n.Cluster = c
	n.Cmd.cluster = c
	return nil
}

// listenAll listens on every bind address at port; with port 0 the first
// bind picks a free port and the others share it.
func listenAll(bind, port string) ([]net.Listener, error) {
	var lns []net.Listener
	for _, host := range strings.Fields(bind) {
		ln, err := net.Listen("tcp", net.JoinHostPort(strings.TrimPrefix(host, "-"), port))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("listen on %s port %s: %w", host, port, err)
		}
		if port == "0" {
			port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// listenTLS listens for TLS clients on every bind address at tls-port (0 =
// no TLS unless anyPort) with the tls-* settings. The returned listeners
// hand out connections that completed their handshake; pending handshakes
// are bounded by maxclients.
func (n *Node) listenTLS(cfg *Config, anyPort bool) ([]net.Listener, error) {
	port := cfg.Get("tls-port")
	if port == "0" && !anyPort {
		return nil, nil
	}
	tc, err := resp.TLSSettings{
		CertFile:    cfg.Get("tls-cert-file"),
		KeyFile:     cfg.Get("tls-key-file"),
		CACertFile:  cfg.Get("tls-ca-cert-file"),
		AuthClients: cfg.Get("tls-auth-clients"),
		Protocols:   cfg.Get("tls-protocols"),
	}.Config()
	if err != nil {
		return nil, fmt.Errorf("failed to configure TLS: %w", err)
	}
	raw, err := listenAll(cfg.Get("bind"), port)
	if err != nil {
		return nil, err
	}
	lns := make([]net.Listener, len(raw))
	for i, ln := range raw {
		n.tlsAddrs = append(n.tlsAddrs, ln.Addr())
		lns[i] = resp.NewTLSListener(ln, tc, int(cfg.Int("maxclients")), n.log)
	}
	return lns, nil
}

// Addr is the first plain TCP listening address, as "host:port", or the
// first TLS one when plain TCP is off.
func (n *Node) Addr() string {
	if len(n.addrs) == 0 {
		return n.TLSAddr()
	}
	return n.addrs[0].String()
}

// TLSAddr is the first TLS listening address, or "" without TLS.
func (n *Node) TLSAddr() string {
	if len(n.tlsAddrs) == 0 {
		return ""
	}
	return n.tlsAddrs[0].String()
}

// Done is closed once the node has shut down (Close or SHUTDOWN).
func (n *Node) Done() <-chan struct{} { return n.done }

// Close stops accepting, closes every connection, then closes the store so
// every acknowledged write is on disk. It is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		if n.metrics != nil { // first: a scrape reads the store
			n.metrics.close()
		}
		if n.Cluster != nil {
			n.Cluster.Leave() // hand the slots over before connections close
		}
		if n.Wire != nil {
			n.Wire.Close()
		}
		if n.Cluster != nil {
			n.Cluster.Close()
		}
		n.closeErr = n.Store.Close()
		n.log.Info("shut down")
		close(n.done)
	})
	return n.closeErr
}
