package commands

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"cairn/resp"
	"cairn/store"
)

// Node is a running single Cairn server: the store, the command layer and
// the listeners, assembled from a Config. cmd/cairn and the tests start
// servers the same way, through StartNode.
type Node struct {
	Store *store.Store
	Cmd   *Server
	Wire  *resp.Server
	log   *slog.Logger
	addrs []net.Addr

	closeOnce sync.Once
	closeErr  error
	done      chan struct{} // closed when the node has shut down
}

// StartNode opens the store in cfg's dir and listens on every bind address
// at cfg's port (0 picks a free port).
func StartNode(cfg *Config, log *slog.Logger) (*Node, error) {
	if log == nil {
		log = slog.Default()
	}
	fsync, err := store.ParseFsync(cfg.Get("appendfsync"))
	if err != nil {
		return nil, err
	}
	st, err := store.Open(store.Options{
		Dir:       cfg.Get("dir"),
		Databases: int(cfg.Int("databases")),
		Fsync:     fsync,
		Logger:    log,
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
	for _, host := range strings.Fields(cfg.Get("bind")) {
		ln, err := net.Listen("tcp", net.JoinHostPort(strings.TrimPrefix(host, "-"), port))
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("listen on %s port %s: %w", host, port, err)
		}
		if port == "0" { // later binds share the port the first one picked
			port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		}
		n.addrs = append(n.addrs, ln.Addr())
		go n.Wire.Serve(ln)
	}
	if len(n.addrs) == 0 {
		n.Close()
		return nil, fmt.Errorf("no bind address")
	}
	log.Info("ready to accept connections", "addr", n.addrs[0].String(), "dir", cfg.Get("dir"), "appendfsync", fsync.String())
	return n, nil
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
		n.closeErr = n.Store.Close()
		n.log.Info("shut down")
		close(n.done)
	})
	return n.closeErr
}
