// Command pubfanout measures PUBLISH fan-out on several servers in the
// same run: -subs subscribers on one channel (or on a pattern matching it,
// with -pattern) and -pubs publishers that PUBLISH as fast as they can for
// -duration. For each run it reports publishes/s and messages delivered/s
// (the sum over subscribers, from the first publish until the last
// subscriber received its last message), and checks that every
// subscriber got every message, each publisher's in order, and that each
// PUBLISH counted every subscriber. Servers alternate within each round.
//
//	go run ./scripts/pubfanout -targets cairn=127.0.0.1:7100,redis=127.0.0.1:7101 -rounds 3
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	targets := flag.String("targets", "cairn=127.0.0.1:6379", "comma-separated name=host:port servers")
	subs := flag.Int("subs", 100, "subscriber connections")
	pubs := flag.Int("pubs", 4, "publisher connections")
	pipeline := flag.Int("pipeline", 1, "PUBLISH commands each publisher keeps in flight")
	duration := flag.Duration("duration", 5*time.Second, "publishing time per run")
	size := flag.Int("size", 64, "message size in bytes (at least the sequence header)")
	pattern := flag.Bool("pattern", false, "subscribers use PSUBSCRIBE fan* instead of SUBSCRIBE fan")
	rounds := flag.Int("rounds", 3, "rounds; each round runs every target once")
	flag.Parse()

	type target struct{ name, addr string }
	var ts []target
	for _, t := range strings.Split(*targets, ",") {
		name, addr, ok := strings.Cut(t, "=")
		if !ok {
			name, addr = t, t
		}
		ts = append(ts, target{name, addr})
	}
	mode := "SUBSCRIBE fan"
	if *pattern {
		mode = "PSUBSCRIBE fan*"
	}
	fmt.Printf("%d subscribers (%s), %d publishers, pipeline %d, %d-byte messages, %s per run, %d rounds\n\n",
		*subs, mode, *pubs, *pipeline, *size, *duration, *rounds)
	fmt.Printf("| round | server | publishes/s | delivered/s | drain |\n|---|---|---|---|---|\n")
	delivered := map[string][]float64{}
	failed := false
	for r := 1; r <= *rounds; r++ {
		for _, t := range ts {
			res, err := run(t.addr, *subs, *pubs, *pipeline, *size, *pattern, *duration)
			if err != nil {
				fmt.Printf("| %d | %s | FAILED: %v | | |\n", r, t.name, err)
				failed = true
				continue
			}
			fmt.Printf("| %d | %s | %.0f | %.0f | %s |\n", r, t.name, res.publishRate, res.deliverRate, res.drain.Round(time.Millisecond))
			delivered[t.name] = append(delivered[t.name], res.deliverRate)
		}
	}
	fmt.Println()
	for _, t := range ts {
		fmt.Printf("%s: median delivered/s %.0f\n", t.name, median(delivered[t.name]))
	}
	if len(ts) >= 2 && len(delivered[ts[1].name]) > 0 {
		fmt.Printf("ratio %s/%s (median delivered/s): %.2f\n", ts[0].name, ts[1].name,
			median(delivered[ts[0].name])/median(delivered[ts[1].name]))
	}
	if failed {
		os.Exit(1)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type result struct {
	publishRate, deliverRate float64
	drain                    time.Duration // after the last publish, until the last delivery
}

// run does one measurement against addr.
func run(addr string, nsubs, npubs, pipeline, size int, pattern bool, d time.Duration) (result, error) {
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dial := func() (net.Conn, error) {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err == nil {
			conns = append(conns, c)
		}
		return c, err
	}

	// Subscribers: each confirms its subscription before publishing starts.
	subscribers := make([]*subscriber, nsubs)
	for i := range subscribers {
		c, err := dial()
		if err != nil {
			return result{}, err
		}
		cmd := command("SUBSCRIBE", "fan")
		if pattern {
			cmd = command("PSUBSCRIBE", "fan*")
		}
		if _, err := c.Write(cmd); err != nil {
			return result{}, err
		}
		s := &subscriber{br: bufio.NewReaderSize(c, 64<<10), next: make([]int64, npubs)}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := s.frame(); err != nil {
			return result{}, fmt.Errorf("subscribe: %w", err)
		}
		c.SetReadDeadline(time.Time{})
		subscribers[i] = s
	}
	errs := make(chan error, nsubs+npubs)
	var wg sync.WaitGroup
	for _, s := range subscribers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.receive(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs <- err
			}
		}()
	}

	// Publishers.
	start := time.Now()
	stop := start.Add(d)
	published := make([]int64, npubs)
	var pwg sync.WaitGroup
	for p := range npubs {
		c, err := dial()
		if err != nil {
			return result{}, err
		}
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			n, err := publish(c, p, pipeline, size, nsubs, stop)
			published[p] = n
			if err != nil {
				errs <- fmt.Errorf("publisher %d: %w", p, err)
			}
		}()
	}
	pwg.Wait()
	pubEnd := time.Now()
	var total int64
	for _, n := range published {
		total += n
	}
	want := total * int64(nsubs)
	got := func() (n int64) {
		for _, s := range subscribers {
			n += s.count.Load()
		}
		return n
	}
	deadline := time.Now().Add(60 * time.Second)
	for got() < want && time.Now().Before(deadline) && len(errs) == 0 {
		time.Sleep(time.Millisecond)
	}
	for _, c := range conns {
		c.Close() // ends the subscribers' reads
	}
	conns = nil
	wg.Wait()
	close(errs)
	for err := range errs {
		return result{}, err
	}
	if g := got(); g != want {
		return result{}, fmt.Errorf("%d messages delivered, want %d (%d published × %d subscribers)", g, want, total, nsubs)
	}
	for i, s := range subscribers {
		for p, n := range s.next {
			if n != published[p] {
				return result{}, fmt.Errorf("subscriber %d got %d messages of publisher %d, want %d", i, n, p, published[p])
			}
		}
	}
	var last int64
	for _, s := range subscribers {
		last = max(last, s.last.Load())
	}
	end := time.Unix(0, last)
	return result{
		publishRate: float64(total) / pubEnd.Sub(start).Seconds(),
		deliverRate: float64(want) / end.Sub(start).Seconds(),
		drain:       max(0, end.Sub(pubEnd)),
	}, nil
}

// publish sends PUBLISH fan "p<id>:<seq>:xxx..." until stop, keeping up to
// pipeline commands in flight, and returns how many were acknowledged.
// Every reply must count nsubs receivers.
func publish(c net.Conn, id, pipeline, size, nsubs int, stop time.Time) (int64, error) {
	br := bufio.NewReaderSize(c, 64<<10)
	bw := bufio.NewWriterSize(c, 64<<10)
	want := ":" + strconv.Itoa(nsubs) + "\r\n"
	var sent, acked int64
	msg := make([]byte, 0, size+32)
	for {
		for sent-acked < int64(pipeline) && time.Now().Before(stop) {
			msg = append(msg[:0], 'p')
			msg = strconv.AppendInt(msg, int64(id), 10)
			msg = append(msg, ':')
			msg = strconv.AppendInt(msg, sent, 10)
			msg = append(msg, ':')
			for len(msg) < size {
				msg = append(msg, 'x')
			}
			bw.Write(command("PUBLISH", "fan", string(msg)))
			sent++
		}
		if sent == acked {
			return acked, nil
		}
		if err := bw.Flush(); err != nil {
			return acked, err
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return acked, err
		}
		if line != want {
			return acked, fmt.Errorf("PUBLISH replied %q, want %q", line, want)
		}
		acked++
	}
}

// subscriber reads one connection's message frames.
type subscriber struct {
	br    *bufio.Reader
	buf   []byte
	next  []int64      // by publisher: the next sequence number expected
	count atomic.Int64 // messages received
	last  atomic.Int64 // unix ns of the last one
}

// receive reads messages until the connection closes, checking each
// publisher's sequence.
func (s *subscriber) receive() error {
	for {
		payload, err := s.frame()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			return err
		}
		p, seq, ok := parsePayload(payload)
		if !ok || p >= len(s.next) {
			return fmt.Errorf("bad message %q", payload)
		}
		if seq != s.next[p] {
			return fmt.Errorf("publisher %d: message %d after %d", p, seq, s.next[p]-1)
		}
		s.next[p]++
		s.count.Add(1)
		s.last.Store(time.Now().UnixNano())
	}
}

// frame reads one RESP2 array of bulk strings and returns its last element.
func (s *subscriber) frame() ([]byte, error) {
	line, err := s.br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 4 || line[0] != '*' {
		return nil, fmt.Errorf("unexpected frame %q", line)
	}
	n, err := strconv.Atoi(string(line[1 : len(line)-2]))
	if err != nil {
		return nil, err
	}
	var last []byte
	for range n {
		line, err := s.br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		if line[0] == ':' {
			last = nil
			continue
		}
		size, err := strconv.Atoi(string(line[1 : len(line)-2]))
		if err != nil || line[0] != '$' {
			return nil, fmt.Errorf("unexpected element %q", line)
		}
		if cap(s.buf) < size+2 {
			s.buf = make([]byte, size+2)
		}
		buf := s.buf[:size+2]
		if _, err := io.ReadFull(s.br, buf); err != nil {
			return nil, err
		}
		last = buf[:size]
	}
	return last, nil
}

// parsePayload splits "p<id>:<seq>:...".
func parsePayload(b []byte) (id int, seq int64, ok bool) {
	if len(b) < 4 || b[0] != 'p' {
		return 0, 0, false
	}
	parts := bytes.SplitN(b[1:], []byte(":"), 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	i, err1 := strconv.Atoi(string(parts[0]))
	n, err2 := strconv.ParseInt(string(parts[1]), 10, 64)
	return i, n, err1 == nil && err2 == nil
}

// command encodes a RESP multibulk.
func command(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}
