package commands

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"cairn/cluster"
)

// TLS tests: a CA, a server and a client certificate made in each test
// (tlsPKI), nodes serving TLS on a free port next to plain TCP
// (startTLSNode), go-redis and redis-cli as TLS clients.

// tlsPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, as PEM files in a temporary directory.
type tlsPKI struct {
	dir                           string
	pool                          *x509.CertPool
	caFile, certFile, keyFile     string
	clientCertFile, clientKeyFile string
	client                        tls.Certificate
}

func newTLSPKI(t testing.TB) *tlsPKI {
	t.Helper()
	p := &tlsPKI{dir: t.TempDir(), pool: x509.NewCertPool()}
	caKey, caCert := p.issue(t, "ca", "Cairn test CA", nil, nil)
	p.pool.AddCert(caCert)
	p.caFile = filepath.Join(p.dir, "ca.crt")
	p.issue(t, "server", "127.0.0.1", caCert, caKey)
	p.certFile, p.keyFile = filepath.Join(p.dir, "server.crt"), filepath.Join(p.dir, "server.key")
	p.issue(t, "client", "client", caCert, caKey)
	p.clientCertFile, p.clientKeyFile = filepath.Join(p.dir, "client.crt"), filepath.Join(p.dir, "client.key")
	var err error
	if p.client, err = tls.LoadX509KeyPair(p.clientCertFile, p.clientKeyFile); err != nil {
		t.Fatal(err)
	}
	return p
}

// issue writes name.crt and name.key: a certificate for cn (and 127.0.0.1)
// signed by parent, or a self-signed CA when parent is nil.
func (p *tlsPKI) issue(t testing.TB, name, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for file, block := range map[string]*pem.Block{
		name + ".crt": {Type: "CERTIFICATE", Bytes: der},
		name + ".key": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(p.dir, file), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// settings are the tls-* config values for this PKI, then extra.
func (p *tlsPKI) settings(extra ...string) []string {
	return append([]string{"tls-cert-file", p.certFile, "tls-key-file", p.keyFile, "tls-ca-cert-file", p.caFile}, extra...)
}

// clientConfig trusts the CA and presents the client certificate.
func (p *tlsPKI) clientConfig() *tls.Config {
	return &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, ServerName: "127.0.0.1"}
}

// startTLSNode starts a node serving plain TCP and TLS, each on a free
// port, with the given settings.
func startTLSNode(t testing.TB, settings ...string) *Node {
	t.Helper()
	return startNodeOpts(t, NodeOptions{AnyTLSPort: true}, settings...)
}

// startNodeOpts starts a node in a temporary directory with options.
func startNodeOpts(t testing.TB, o NodeOptions, settings ...string) *Node {
	t.Helper()
	n, err := tryStartNode(t, o, settings...)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	return n
}

// tryStartNode is startNodeOpts returning the start-up error.
func tryStartNode(t testing.TB, o NodeOptions, settings ...string) (*Node, error) {
	t.Helper()
	cfg := NewConfig()
	must(t, cfg.Set("port", "0"))
	must(t, cfg.Set("dir", t.TempDir()))
	for i := 0; i+1 < len(settings); i += 2 {
		must(t, cfg.Set(settings[i], settings[i+1]))
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n, err := StartNodeWith(cfg, log, o)
	if err == nil {
		t.Cleanup(func() { n.Close() })
	}
	return n, err
}

// newTLSClient returns a go-redis client connecting with cfg.
func newTLSClient(t testing.TB, addr string, cfg *tls.Config, proto int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, TLSConfig: cfg,
		DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// readUntilClosed reads a plain connection until the server closes it and
// returns what arrived; it fails if the server keeps it open.
func readUntilClosed(t testing.TB, nc net.Conn) []byte {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after 5 s (read %q)", b)
	}
	return b
}

func TestTLS_GoRedis(t *testing.T) {
	p := newTLSPKI(t)
	n := startTLSNode(t, p.settings()...)
	if n.TLSAddr() == "" || n.TLSAddr() == n.Addr() {
		t.Fatalf("TLS address %q, plain %q: want two listeners", n.TLSAddr(), n.Addr())
	}
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			c := newTLSClient(t, n.TLSAddr(), p.clientConfig(), proto)
			key := fmt.Sprintf("k%d", proto)
			must(t, c.Set(ctx, key, "over tls", 0).Err())
			if got, err := c.Get(ctx, key).Result(); err != nil || got != "over tls" {
				t.Fatalf("GET over TLS = %q, %v", got, err)
			}
			// The same data on the plain port of the same node.
			if got, err := newClient(t, n.Addr(), proto).Get(ctx, key).Result(); err != nil || got != "over tls" {
				t.Fatalf("GET over plain TCP = %q, %v", got, err)
			}
			list, err := c.ClientList(ctx).Result()
			if err != nil || !strings.Contains(list, "laddr="+n.TLSAddr()) || strings.Contains(list, "fd=-1") {
				t.Fatalf("CLIENT LIST = %q, %v: want the TLS client with its socket's fd", list, err)
			}
		})
	}
}

func TestTLS_RedisCLI(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-cli is required in CI")
		}
		t.Skip("redis-cli not installed (make test installs it)")
	}
	if out, _ := exec.Command(cli, "--help").CombinedOutput(); !strings.Contains(string(out), "--tls") {
		t.Skip("this redis-cli is built without TLS support (no --tls in redis-cli --help)")
	}
	p := newTLSPKI(t)
	n := startTLSNode(t, p.settings()...)
	host, port, _ := net.SplitHostPort(n.TLSAddr())
	run := func(args ...string) string {
		t.Helper()
		base := []string{"--tls", "--cacert", p.caFile, "--cert", p.clientCertFile, "--key", p.clientKeyFile, "-h", host, "-p", port}
		out, err := exec.Command(cli, append(base, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run("SET", "greeting", "hello"); got != "OK" {
		t.Fatalf("SET = %q", got)
	}
	if got := run("GET", "greeting"); got != "hello" {
		t.Fatalf("GET = %q", got)
	}
	// Without a client certificate the server refuses the session.
	out, _ := exec.Command(cli, "--tls", "--cacert", p.caFile, "-h", host, "-p", port, "PING").CombinedOutput()
	if strings.Contains(string(out), "PONG") {
		t.Fatalf("redis-cli without a client certificate got %q", out)
	}
}

func TestTLS_PlaintextRejected(t *testing.T) {
	p := newTLSPKI(t)
	n := startTLSNode(t, p.settings()...)
	c := newTLSClient(t, n.TLSAddr(), p.clientConfig(), 2)
	must(t, c.Ping(ctx).Err()) // a TLS session open across the attempts
	for _, req := range []string{"PING\r\n", encodeCommand([]string{"SET", "plain", "text"})} {
		nc, err := net.Dial("tcp", n.TLSAddr())
		if err != nil {
			t.Fatal(err)
		}
		nc.Write([]byte(req))
		if b := readUntilClosed(t, nc); strings.Contains(string(b), "PONG") || strings.Contains(string(b), "OK") {
			t.Fatalf("plaintext %q to the TLS port was answered: %q", req, b)
		}
		nc.Close()
	}
	if n, err := c.Exists(ctx, "plain").Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS plain = %d, %v: the plaintext SET must not run", n, err)
	}
	must(t, c.Ping(ctx).Err())
	must(t, newTLSClient(t, n.TLSAddr(), p.clientConfig(), 3).Ping(ctx).Err())
}

func TestTLS_ClientCertificates(t *testing.T) {
	p := newTLSPKI(t)
	other := newTLSPKI(t) // a CA the server does not trust
	noCert := p.clientConfig()
	noCert.Certificates = nil
	foreign := p.clientConfig()
	foreign.Certificates = []tls.Certificate{other.client}
	for _, tc := range []struct {
		settings            []string
		noCertOK, foreignOK bool
	}{
		{settings: p.settings()}, // tls-auth-clients yes (default)
		{settings: p.settings("tls-auth-clients", "optional"), noCertOK: true},
		{settings: []string{"tls-cert-file", p.certFile, "tls-key-file", p.keyFile, "tls-auth-clients", "no"}, noCertOK: true, foreignOK: true},
	} {
		n := startTLSNode(t, tc.settings...)
		t.Run("auth-clients "+n.Cmd.config.Get("tls-auth-clients"), func(t *testing.T) {
			must(t, newTLSClient(t, n.TLSAddr(), p.clientConfig(), 2).Ping(ctx).Err())
			for _, c := range []struct {
				name string
				cfg  *tls.Config
				ok   bool
			}{{"no certificate", noCert, tc.noCertOK}, {"foreign certificate", foreign, tc.foreignOK}} {
				err := newTLSClient(t, n.TLSAddr(), c.cfg, 2).Ping(ctx).Err()
				if (err == nil) != c.ok {
					t.Errorf("%s: PING err = %v, want served = %v", c.name, err, c.ok)
				}
			}
		})
	}
}

func TestTLS_Protocols(t *testing.T) {
	p := newTLSPKI(t)
	versions := func(lo, hi uint16) *tls.Config {
		cfg := p.clientConfig()
		cfg.MinVersion, cfg.MaxVersion = lo, hi
		return cfg
	}
	n := startTLSNode(t, p.settings()...)
	if err := newTLSClient(t, n.TLSAddr(), versions(tls.VersionTLS10, tls.VersionTLS11), 2).Ping(ctx).Err(); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
	must(t, newTLSClient(t, n.TLSAddr(), versions(tls.VersionTLS12, tls.VersionTLS12), 2).Ping(ctx).Err())

	n13 := startTLSNode(t, p.settings("tls-protocols", "TLSv1.3")...)
	if err := newTLSClient(t, n13.TLSAddr(), versions(tls.VersionTLS12, tls.VersionTLS12), 2).Ping(ctx).Err(); err == nil {
		t.Error("tls-protocols TLSv1.3 served a TLS 1.2 client")
	}
	must(t, newTLSClient(t, n13.TLSAddr(), versions(tls.VersionTLS13, tls.VersionTLS13), 2).Ping(ctx).Err())
}

func TestTLS_OnlyTLS(t *testing.T) {
	p := newTLSPKI(t)
	// As Redis: port 0 with a tls-port serves TLS only.
	n := startNodeOpts(t, NodeOptions{}, p.settings("tls-port", strconv.Itoa(freePort(t)))...)
	if len(n.addrs) != 0 || n.Addr() != n.TLSAddr() {
		t.Fatalf("plain listeners %v, Addr %q, TLSAddr %q: want TLS only", n.addrs, n.Addr(), n.TLSAddr())
	}
	must(t, newTLSClient(t, n.Addr(), p.clientConfig(), 2).Ping(ctx).Err())

	_, err := tryStartNode(t, NodeOptions{}, p.settings("tls-port", strconv.Itoa(freePort(t)), "cluster-enabled", "yes")...)
	if err == nil || !strings.Contains(err.Error(), "cluster mode needs plain TCP") {
		t.Fatalf("cluster node without plain TCP: err = %v", err)
	}
}

func TestTLS_Config(t *testing.T) {
	p := newTLSPKI(t)
	for _, tc := range []struct {
		settings []string
		want     string
	}{
		{[]string{"tls-key-file", p.keyFile}, "No tls-cert-file configured!"},
		{[]string{"tls-cert-file", p.certFile}, "No tls-key-file configured!"},
		{[]string{"tls-cert-file", p.certFile, "tls-key-file", p.keyFile}, "tls-ca-cert-file must be specified when tls-auth-clients is enabled"},
		{[]string{"tls-cert-file", p.keyFile, "tls-key-file", p.keyFile, "tls-auth-clients", "no"}, "Failed to load certificate"},
	} {
		_, err := tryStartNode(t, NodeOptions{AnyTLSPort: true}, tc.settings...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("settings %q: start err = %v, want %q", tc.settings, err, tc.want)
		}
	}
	cfg := NewConfig()
	for _, bad := range [][2]string{
		{"tls-protocols", "TLSv1.1 TLSv1.2"}, {"tls-protocols", "SSLv3"},
		{"tls-auth-clients", "sometimes"}, {"tls-port", "65536"},
	} {
		if err := cfg.Set(bad[0], bad[1]); err == nil {
			t.Errorf("%s %q accepted", bad[0], bad[1])
		}
	}
	// Defaults and CONFIG GET as Redis 7.0.
	d := newDiffer(t)
	for _, name := range []string{"tls-port", "tls-cert-file", "tls-key-file", "tls-ca-cert-file", "tls-auth-clients", "tls-protocols"} {
		d.do("CONFIG", "GET", name)
	}
}

func TestTLS_Cluster(t *testing.T) {
	p := newTLSPKI(t)
	// Clients use TLS; peers forward and replicate over the plain port.
	tc := newTestCluster(t)
	for i := range 3 {
		settings := p.settings("cluster-enabled", "yes", "cluster-anti-entropy-interval", "500")
		if i > 0 {
			settings = append(settings, "join", tc.Nodes[0].Cluster.Membership().Self().Bus)
		}
		tc.Nodes = append(tc.Nodes, startNodeOpts(t, NodeOptions{
			AnyTLSPort: true, Faults: tc.Faults, GossipTuning: cluster.FastGossip, RejoinInterval: 500 * time.Millisecond,
		}, settings...))
	}
	tc.waitReady()
	clients := make([]*redis.Client, 3)
	for i, n := range tc.Nodes {
		clients[i] = newTLSClient(t, n.TLSAddr(), p.clientConfig(), 2)
	}
	for k := range 30 {
		key := fmt.Sprintf("tls:%d", k)
		must(t, clients[k%3].Set(ctx, key, key, 0).Err())
		for i, c := range clients {
			if got, err := c.Get(ctx, key).Result(); err != nil || got != key {
				t.Fatalf("GET %s on node %d over TLS = %q, %v", key, i, got, err)
			}
		}
	}
}

// BenchmarkTLS measures GET and SET throughput of 50 parallel go-redis
// clients over TLS and over plain TCP against the same node in the same
// run (docs/benchmarks.md, "TLS"). cpu-ns/op is the process's CPU time
// (clients and server together) per command, steadier than ns/op on a
// shared machine.
func BenchmarkTLS(b *testing.B) {
	p := newTLSPKI(b)
	n := startTLSNode(b, p.settings()...)
	const clients = 50
	dial := func(addr string, cfg *tls.Config) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: cfg, Protocol: 2, PoolSize: clients, MinIdleConns: clients})
		b.Cleanup(func() { c.Close() })
		return c
	}
	plain, secure := dial(n.Addr(), nil), dial(n.TLSAddr(), p.clientConfig())
	must(b, plain.Set(ctx, "bench:get", benchValue, 0).Err())
	// Each operation over plain TCP then TLS, back to back, so both see
	// the same load from the rest of the machine.
	for _, op := range []string{"SET", "GET"} {
		for _, mode := range []struct {
			name string
			c    *redis.Client
		}{{"plain", plain}, {"tls", secure}} {
			b.Run(op+"/"+mode.name, func(b *testing.B) {
				var seq atomic.Int64
				b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0))) // goroutines = this x GOMAXPROCS
				before := cpuTime()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						var err error
						if op == "SET" {
							err = mode.c.Set(ctx, "bench:"+strconv.FormatInt(seq.Add(1)%10000, 10), benchValue, 0).Err()
						} else {
							err = mode.c.Get(ctx, "bench:get").Err()
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(cpuTime()-before)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
