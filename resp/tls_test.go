package resp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPKI is a CA with a server and a client certificate, as PEM files in
// a temporary directory.
type testPKI struct {
	dir                       string
	ca                        *x509.CertPool
	client                    tls.Certificate
	caFile, certFile, keyFile string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir(), ca: x509.NewCertPool()}
	caKey, caCert, caPEM := issue(t, "test CA", nil, nil, true)
	p.ca.AddCert(caCert)
	p.caFile = p.write(t, "ca.crt", caPEM)
	key, _, certPEM := issue(t, "127.0.0.1", caCert, caKey, false)
	p.certFile = p.write(t, "server.crt", certPEM)
	p.keyFile = p.write(t, "server.key", keyPEM(t, key))
	ckey, _, ccertPEM := issue(t, "client", caCert, caKey, false)
	var err error
	if p.client, err = tls.X509KeyPair(ccertPEM, keyPEM(t, ckey)); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *testPKI) write(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// settings are the tls-* values for this PKI with the given auth-clients.
func (p *testPKI) settings(auth string) TLSSettings {
	return TLSSettings{CertFile: p.certFile, KeyFile: p.keyFile, CACertFile: p.caFile, AuthClients: auth}
}

// clientConfig trusts the CA and presents the client certificate.
func (p *testPKI) clientConfig() *tls.Config {
	return &tls.Config{RootCAs: p.ca, Certificates: []tls.Certificate{p.client}, ServerName: "127.0.0.1"}
}

// issue makes a key and a certificate for cn signed by parent (self-signed
// when parent is nil), valid for 127.0.0.1.
func issue(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
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
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyPEM(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func TestParseTLSProtocols(t *testing.T) {
	for _, tc := range []struct {
		in      string
		lo, hi  uint16
		wantErr string
	}{
		{in: "", lo: tls.VersionTLS12, hi: tls.VersionTLS13},
		{in: "TLSv1.2 TLSv1.3", lo: tls.VersionTLS12, hi: tls.VersionTLS13},
		{in: "tlsv1.3", lo: tls.VersionTLS13, hi: tls.VersionTLS13},
		{in: "TLSv1.2", lo: tls.VersionTLS12, hi: tls.VersionTLS12},
		{in: "TLSv1.3 TLSv1.2", lo: tls.VersionTLS12, hi: tls.VersionTLS13},
		{in: "TLSv1.1 TLSv1.2", wantErr: "TLSv1.1 is not supported"},
		{in: "TLSv1", wantErr: "TLSv1 is not supported"},
		{in: "SSLv3", wantErr: "Invalid tls-protocols specified"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			lo, hi, err := ParseTLSProtocols(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || lo != tc.lo || hi != tc.hi {
				t.Fatalf("got %x..%x, %v; want %x..%x", lo, hi, err, tc.lo, tc.hi)
			}
		})
	}
}

func TestTLSSettings_Config(t *testing.T) {
	p := newTestPKI(t)
	empty := p.write(t, "empty.pem", []byte("not a certificate\n"))
	for _, tc := range []struct {
		name     string
		edit     func(s *TLSSettings)
		wantAuth tls.ClientAuthType
		wantErr  string
	}{
		{name: "auth yes", edit: func(*TLSSettings) {}, wantAuth: tls.RequireAndVerifyClientCert},
		{name: "auth optional", edit: func(s *TLSSettings) { s.AuthClients = "optional" }, wantAuth: tls.VerifyClientCertIfGiven},
		{name: "auth no without CA", edit: func(s *TLSSettings) { s.AuthClients, s.CACertFile = "no", "" }, wantAuth: tls.NoClientCert},
		{name: "no cert", edit: func(s *TLSSettings) { s.CertFile = "" }, wantErr: "No tls-cert-file configured!"},
		{name: "no key", edit: func(s *TLSSettings) { s.KeyFile = "" }, wantErr: "No tls-key-file configured!"},
		{name: "auth yes without CA", edit: func(s *TLSSettings) { s.CACertFile = "" }, wantErr: "tls-ca-cert-file must be specified"},
		{name: "auth optional without CA", edit: func(s *TLSSettings) { s.AuthClients, s.CACertFile = "optional", "" }, wantErr: "tls-ca-cert-file must be specified"},
		{name: "bad auth", edit: func(s *TLSSettings) { s.AuthClients = "maybe" }, wantErr: "invalid tls-auth-clients"},
		{name: "old protocol", edit: func(s *TLSSettings) { s.Protocols = "TLSv1.1" }, wantErr: "TLSv1.1 is not supported"},
		{name: "missing cert file", edit: func(s *TLSSettings) { s.CertFile = filepath.Join(p.dir, "nope.crt") }, wantErr: "Failed to load certificate"},
		{name: "key mismatch", edit: func(s *TLSSettings) { s.CertFile = p.caFile }, wantErr: "Failed to load certificate"},
		{name: "CA without certificate", edit: func(s *TLSSettings) { s.CACertFile = empty }, wantErr: "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := p.settings("yes")
			tc.edit(&s)
			cfg, err := s.Config()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ClientAuth != tc.wantAuth || cfg.MinVersion != tls.VersionTLS12 || cfg.MaxVersion != tls.VersionTLS13 {
				t.Fatalf("ClientAuth %v, versions %x..%x", cfg.ClientAuth, cfg.MinVersion, cfg.MaxVersion)
			}
		})
	}
}

// startTLSListener serves s on a loopback TLS listener; every accepted
// connection echoes one line back.
func startTLSListener(t *testing.T, s TLSSettings, maxPending int) *TLSListener {
	t.Helper()
	cfg, err := s.Config()
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := NewTLSListener(inner, cfg, maxPending, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if _, ok := c.(*tls.Conn); !ok {
				t.Errorf("Accept returned %T, want *tls.Conn", c)
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64)
				n, _ := c.Read(buf)
				c.Write(buf[:n])
			}()
		}
	}()
	return l
}

// echo sends a line over a TLS client connection and returns the answer.
func echo(addr string, cfg *tls.Config) (string, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("hello")); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// readUntilClosed reads a plain connection until the server closes it and
// returns what arrived; it fails on a timeout (the server kept it open).
func readUntilClosed(t *testing.T, nc net.Conn) []byte {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after 5 s (read %q)", b)
	}
	return b
}

func TestTLSListener_Handshake(t *testing.T) {
	p := newTestPKI(t)
	l := startTLSListener(t, p.settings("yes"), 16)
	addr := l.Addr().String()

	if got, err := echo(addr, p.clientConfig()); err != nil || got != "hello" {
		t.Fatalf("client with certificate: %q, %v", got, err)
	}

	t.Run("plaintext", func(t *testing.T) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Write([]byte("*1\r\n$4\r\nPING\r\n"))
		if b := readUntilClosed(t, nc); strings.Contains(string(b), "PING") {
			t.Fatalf("plaintext was served: %q", b)
		}
	})
	t.Run("no client certificate", func(t *testing.T) {
		cfg := p.clientConfig()
		cfg.Certificates = nil
		if got, err := echo(addr, cfg); err == nil {
			t.Fatalf("served a client without certificate: %q", got)
		}
	})
	t.Run("client certificate from another CA", func(t *testing.T) {
		other := newTestPKI(t)
		cfg := p.clientConfig()
		cfg.Certificates = []tls.Certificate{other.client}
		if got, err := echo(addr, cfg); err == nil {
			t.Fatalf("served a client signed by another CA: %q", got)
		}
	})
	t.Run("TLS 1.1", func(t *testing.T) {
		cfg := p.clientConfig()
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		if got, err := echo(addr, cfg); err == nil {
			t.Fatalf("served a TLS 1.1 client: %q", got)
		}
	})
	// Failed handshakes leave the listener serving.
	if got, err := echo(addr, p.clientConfig()); err != nil || got != "hello" {
		t.Fatalf("after rejected clients: %q, %v", got, err)
	}
}

func TestTLSListener_PendingHandshakes(t *testing.T) {
	p := newTestPKI(t)
	l := startTLSListener(t, p.settings("yes"), 1)
	addr := l.Addr().String()
	silent, err := net.Dial("tcp", addr) // takes the only handshake slot
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	deadline := time.Now().Add(5 * time.Second)
	for pending := 0; pending != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("handshake of the silent client never started")
		}
		l.mu.Lock()
		pending = len(l.mu.pending)
		l.mu.Unlock()
	}
	if _, err := echo(addr, p.clientConfig()); err == nil {
		t.Fatal("a handshake over the limit was served")
	}
	// Close ends the pending handshake instead of waiting for its timeout.
	l.Close()
	readUntilClosed(t, silent)
}
