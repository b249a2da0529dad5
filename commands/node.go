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
	Store   *store.Store
	Cmd     *Server
	Wire    *resp.Server
	Cluster *cluster.Cluster // nil on a single node
	log     *slog.Logger
	addrs   []net.Addr

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
	port := cfg.Get("port")
	var lns []net.Listener
	for _, host := range strings.Fields(cfg.Get("bind")) {
		ln, err := net.Listen("tcp", net.JoinHostPort(strings.TrimPrefix(host, "-"), port))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			n.Close()
			return nil, fmt.Errorf("listen on %s port %s: %w", host, port, err)
		}
		if port == "0" { // later binds share the port the first one picked
			port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		}
		n.addrs = append(n.addrs, ln.Addr())
		lns = append(lns, ln)
	}
	if len(n.addrs) == 0 {
		n.Close()
		return nil, fmt.Errorf("no bind address")
	}
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
	log.Info("ready to accept connections", "addr", n.addrs[0].String(), "dir", cfg.Get("dir"), "appendfsync", fsync.String())
	return n, nil
}

// startCluster joins the cluster with this node's first listen address
// (or cluster-announce-ip) as its advertised address.
func (n *Node) startCluster(cfg *Config, o NodeOptions) error {
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

// Addr is the first listening address, as "host:port".
func (n *Node) Addr() string { return n.addrs[0].String() }

// Done is closed once the node has shut down (Close or SHUTDOWN).
func (n *Node) Done() <-chan struct{} { return n.done }

// Close stops accepting, closes every connection, then closes the store so
// every acknowledged write is on disk. It is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
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
