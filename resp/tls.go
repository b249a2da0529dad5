package resp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// TLSSettings are Redis 7.0's tls-* parameters, as their config values.
type TLSSettings struct {
	CertFile   string // tls-cert-file: PEM certificate chain, leaf first
	KeyFile    string // tls-key-file: PEM private key
	CACertFile string // tls-ca-cert-file: PEM CAs that sign client certificates
	// AuthClients is tls-auth-clients: "yes" requires a client certificate
	// signed by the CA, "optional" verifies one if given, "no" asks none.
	AuthClients string
	// Protocols is tls-protocols: "TLSv1.2", "TLSv1.3" or both, space
	// separated; "" means both. TLSv1 and TLSv1.1 are refused.
	Protocols string
}

// ParseTLSProtocols returns the lowest and highest TLS versions a
// tls-protocols value enables. Names are case-insensitive, as in Redis.
func ParseTLSProtocols(s string) (lo, hi uint16, err error) {
	names := strings.Fields(s)
	if len(names) == 0 {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, name := range names {
		var v uint16
		switch strings.ToLower(name) {
		case "tlsv1.2":
			v = tls.VersionTLS12
		case "tlsv1.3":
			v = tls.VersionTLS13
		case "tlsv1", "tlsv1.1":
			return 0, 0, fmt.Errorf("%s is not supported in tls-protocols: Cairn requires TLSv1.2 or later", name)
		default:
			return 0, 0, errors.New("Invalid tls-protocols specified. Use a combination of 'TLSv1.2' and 'TLSv1.3'.")
		}
		if lo == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	return lo, hi, nil
}

// Config loads the certificates and returns the server's TLS configuration.
// The checks and their order follow Redis's tlsConfigure: a certificate and
// a key are required, and a CA is required unless tls-auth-clients is no.
func (s TLSSettings) Config() (*tls.Config, error) {
	if s.CertFile == "" {
		return nil, errors.New("No tls-cert-file configured!")
	}
	if s.KeyFile == "" {
		return nil, errors.New("No tls-key-file configured!")
	}
	var auth tls.ClientAuthType
	switch s.AuthClients {
	case "yes":
		auth = tls.RequireAndVerifyClientCert
	case "optional":
		auth = tls.VerifyClientCertIfGiven
	case "no":
		auth = tls.NoClientCert
	default:
		return nil, fmt.Errorf("invalid tls-auth-clients %q (yes, no or optional)", s.AuthClients)
	}
	if auth != tls.NoClientCert && s.CACertFile == "" {
		return nil, errors.New("tls-ca-cert-file must be specified when tls-auth-clients is enabled!")
	}
	lo, hi, err := ParseTLSProtocols(s.Protocols)
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("Failed to load certificate: %s: %w", s.CertFile, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: auth, MinVersion: lo, MaxVersion: hi}
	if s.CACertFile != "" {
		pem, err := os.ReadFile(s.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("Failed to configure CA certificate(s) file: %w", err)
		}
		cfg.ClientCAs = x509.NewCertPool()
		if !cfg.ClientCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("Failed to configure CA certificate(s) file: no PEM certificate in %s", s.CACertFile)
		}
	}
	return cfg, nil
}

// TLSHandshakeTimeout bounds how long a client may take to complete the
// TLS handshake before its connection is closed.
const TLSHandshakeTimeout = 10 * time.Second

// TLSListener wraps a TCP listener: Accept returns only connections whose
// TLS handshake has completed, so a Server serves them as any other
// connection. A client that fails the handshake (plaintext, an old protocol
// version, no or a bad client certificate) is closed and never reaches the
// Server.
//
// Handshakes run on their own goroutines, at most maxPending at once (more
// are closed at once), each bounded by TLSHandshakeTimeout.
//
// Ownership: the accept goroutine owns the inner listener's Accept; mu
// guards the set of connections still in their handshake, which Close
// closes.
type TLSListener struct {
	inner   net.Listener
	cfg     *tls.Config
	log     *slog.Logger
	slots   chan struct{} // one token per handshake in progress
	ready   chan net.Conn // handshaken connections, for Accept
	done    chan struct{} // closed by Close
	stopped chan struct{} // closed when the accept goroutine returns
	err     error         // why the accept goroutine stopped; read after stopped

	closeOnce sync.Once
	mu        struct {
		sync.Mutex
		pending map[net.Conn]struct{}
	}
	wg sync.WaitGroup // handshake goroutines
}

// NewTLSListener serves TLS with cfg on inner, running at most maxPending
// handshakes at once. It takes ownership of inner.
func NewTLSListener(inner net.Listener, cfg *tls.Config, maxPending int, log *slog.Logger) *TLSListener {
	if log == nil {
		log = slog.Default()
	}
	l := &TLSListener{
		inner: inner, cfg: cfg, log: log,
		slots:   make(chan struct{}, max(maxPending, 1)),
		ready:   make(chan net.Conn),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	l.mu.pending = make(map[net.Conn]struct{})
	go l.acceptLoop()
	return l
}

// Accept returns the next connection that completed its handshake, as a
// *tls.Conn.
func (l *TLSListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-l.stopped:
		return nil, l.err
	}
}

// Addr is the inner listener's address.
func (l *TLSListener) Addr() net.Addr { return l.inner.Addr() }

// Close stops accepting, closes the connections still in their handshake
// and waits for their goroutines.
func (l *TLSListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.inner.Close()
		<-l.stopped // no handshake starts after this
		l.mu.Lock()
		for c := range l.mu.pending {
			c.Close()
		}
		l.mu.Unlock()
		l.wg.Wait()
	})
	return err
}

func (l *TLSListener) acceptLoop() {
	defer close(l.stopped)
	for {
		nc, err := l.inner.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			l.err = err
			return
		}
		select {
		case l.slots <- struct{}{}:
		default:
			l.log.Warn("closing TLS client: too many handshakes in progress", "client", nc.RemoteAddr().String())
			nc.Close()
			continue
		}
		tc := tls.Server(nc, l.cfg)
		l.mu.Lock()
		l.mu.pending[tc] = struct{}{}
		l.mu.Unlock()
		l.wg.Add(1)
		go l.handshake(tc)
	}
}

// handshake completes tc's handshake and hands it to Accept, or closes it.
func (l *TLSListener) handshake(tc *tls.Conn) {
	defer l.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), TLSHandshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	l.mu.Lock()
	delete(l.mu.pending, tc)
	l.mu.Unlock()
	<-l.slots
	if err != nil {
		l.log.Debug("Error accepting a client connection", "client", tc.RemoteAddr().String(), "err", err)
		tc.NetConn().Close() // no close_notify: the session never started
		return
	}
	select {
	case l.ready <- tc:
	case <-l.done:
		tc.Close()
	}
}
