package commands

import (
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/redis/go-redis/v9"

	"cairn/resp"
	"cairn/store"
)

var crashRounds = flag.Int("crash.rounds", 5, "kill -9 rounds of TestCrash_KillLoop (make crash runs more)")

// crashWorker is one writer of one kill round. Each step i: SET a unique
// key, INCR the worker's counter, ZINCRBY its member of the round's board,
// and advance its IFEQ chain from value i-1 to i (SET ... IFEQ). Counts are
// read only after the worker stopped.
type crashWorker struct {
	round, id int
	setAcked  []int  // steps whose SET was acknowledged
	incr      [2]int // INCRs acknowledged, attempted
	zincr     [2]int // ZINCRBYs acknowledged, attempted
	chain     [2]int // last chain value acknowledged (-1: none), last attempted
}

func (w *crashWorker) key(kind string) string { return fmt.Sprintf("r%d:%s:%d", w.round, kind, w.id) }

// run writes until stop is closed or the server goes away.
func (w *crashWorker) run(addr string, stop <-chan struct{}) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1})
	defer c.Close()
	w.chain = [2]int{-1, -1}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if c.Set(ctx, fmt.Sprintf("%s:%d", w.key("set"), i), i, 0).Err() != nil {
			return
		}
		w.setAcked = append(w.setAcked, i)
		w.incr[1]++
		if c.Incr(ctx, w.key("counter")).Err() != nil {
			return
		}
		w.incr[0]++
		w.zincr[1]++
		if c.ZIncrBy(ctx, fmt.Sprintf("r%d:board", w.round), 1, w.key("player")).Err() != nil {
			return
		}
		w.zincr[0]++
		w.chain[1] = i
		var err error
		if i == 0 {
			err = c.Set(ctx, w.key("chain"), 0, 0).Err()
		} else {
			err = c.SetIFEQ(ctx, w.key("chain"), i, i-1, 0).Err()
		}
		if err != nil {
			return
		}
		w.chain[0] = i
	}
}

// verify checks the worker's writes on a restarted server and returns the
// number of acknowledged writes, and of those lost.
func (w *crashWorker) verify(t *testing.T, c *redis.Client) (acked, lost int) {
	t.Helper()
	for _, i := range w.setAcked {
		if c.Get(ctx, fmt.Sprintf("%s:%d", w.key("set"), i)).Val() != strconv.Itoa(i) {
			lost++
		}
	}
	n, _ := c.Get(ctx, w.key("counter")).Int()
	if n < w.incr[0] || n > w.incr[1] {
		t.Errorf("%s = %d, want within [%d acknowledged, %d attempted]", w.key("counter"), n, w.incr[0], w.incr[1])
	}
	score := int(c.ZScore(ctx, fmt.Sprintf("r%d:board", w.round), w.key("player")).Val())
	if score < w.zincr[0] || score > w.zincr[1] {
		t.Errorf("ZSCORE of %s = %d, want within [%d acknowledged, %d attempted]", w.key("player"), score, w.zincr[0], w.zincr[1])
	}
	if w.chain[1] >= 0 {
		v, err := c.Get(ctx, w.key("chain")).Int()
		if w.chain[0] >= 0 && err != nil || err == nil && v != w.chain[0] && v != w.chain[1] {
			t.Errorf("%s = %d (%v), want the last acknowledged %d or the last attempted %d", w.key("chain"), v, err, w.chain[0], w.chain[1])
		}
	}
	if n < w.incr[0] || score < w.zincr[0] {
		lost++ // counted once, as one lost write, when a counter went back
	}
	return len(w.setAcked) + w.incr[0] + w.zincr[0] + max(w.chain[0]+1, 0), lost
}

// cairnProcess is cmd/cairn running as a child process.
type cairnProcess struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
}

func startCairnProcess(t *testing.T, dir string) *cairnProcess {
	t.Helper()
	port := freePort(t)
	p := &cairnProcess{
		cmd: exec.Command(binPath(t), "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
			"--appendfsync", "always", "--loglevel", "warning"),
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		exited: make(chan struct{}),
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test binary
	must(t, p.cmd.Start())
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	waitFor(t, 30*time.Second, "cairn to accept connections", func() bool {
		nc, err := net.Dial("tcp", p.addr)
		if err == nil {
			nc.Close()
		}
		return err == nil
	})
	return p
}

func (p *cairnProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// kill -9 at random moments under concurrent SET, INCR, ZINCRBY and SET
// IFEQ writers with appendfsync always: after each restart every
// acknowledged write of every earlier round is present, counters and scores
// lie within [acknowledged, attempted], IFEQ chains hold the last
// acknowledged or the last attempted value, and cairn check finds the
// directory clean.
func TestCrash_KillLoop(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("seed %d, %d rounds", seed, *crashRounds)
	dir := t.TempDir()
	const workers = 6
	var all []*crashWorker
	var acked, lost int
	verifyAll := func(addr string) {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		acked, lost = 0, 0
		for _, w := range all {
			a, l := w.verify(t, c)
			acked += a
			lost += l
		}
	}
	for round := 0; round < *crashRounds; round++ {
		p := startCairnProcess(t, dir)
		verifyAll(p.addr)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for id := 0; id < workers; id++ {
			w := &crashWorker{round: round, id: id}
			all = append(all, w)
			wg.Add(1)
			go func() { defer wg.Done(); w.run(p.addr, stop) }()
		}
		time.Sleep(time.Duration(100+rng.IntN(701)) * time.Millisecond) // the crash moment, not an assertion
		p.kill()
		close(stop)
		wg.Wait()
	}
	p := startCairnProcess(t, dir)
	verifyAll(p.addr)
	p.kill()
	out, err := exec.Command(binPath(t), "check", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Errorf("cairn check after the crashes: %v\n%s", err, out)
	}
	t.Logf("kill -9 loop: %d runs, %d writes acknowledged, %d lost", *crashRounds, acked, lost)
	if acked == 0 {
		t.Fatal("no write was acknowledged; the test proved nothing")
	}
	if lost != 0 {
		t.Fatalf("%d acknowledged writes lost with appendfsync always", lost)
	}
}

// lockedBuffer is an io.Writer safe for the logger's concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A disk that fails the write-ahead log's sync: the write whose sync
// failed gets MISCONF, not OK; later writes get MISCONF; reads still work;
// INFO persistence and the log report the error.
func TestCrash_DiskErrorMisconf(t *testing.T) {
	var failing atomic.Bool
	inj := errorfs.InjectorFunc(func(op errorfs.Op) error {
		if failing.Load() && strings.HasSuffix(op.Path, ".log") && (op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData) {
			return errorfs.ErrInjected
		}
		return nil
	})
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	st, err := store.Open(store.Options{Dir: "/data", Fsync: store.FsyncAlways, FS: errorfs.Wrap(vfs.NewMem(), inj), Logger: log})
	must(t, err)
	srv := New(st, Options{Logger: log})
	wire := resp.NewServer(resp.Options{Logger: log}, srv)
	srv.Attach(wire)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go wire.Serve(ln)
	t.Cleanup(func() { wire.Close(); st.Close() })
	c := newClient(t, ln.Addr().String(), 2)

	must(t, c.Set(ctx, "before", "1", 0).Err())
	failing.Store(true) // the disk fails from now on
	err = c.Set(ctx, "during", "1", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "MISCONF ") {
		t.Fatalf("SET whose sync failed: err = %v, want MISCONF", err)
	}
	for _, cmd := range [][]any{{"SET", "after", "1"}, {"INCR", "n"}, {"ZADD", "z", "1", "m"}} {
		if err := c.Do(ctx, cmd...).Err(); err == nil || !strings.HasPrefix(err.Error(), "MISCONF ") {
			t.Errorf("%v after the failure: err = %v, want MISCONF", cmd, err)
		}
	}
	if got, err := c.Get(ctx, "before").Result(); err != nil || got != "1" {
		t.Errorf("GET after the failure = %q, %v; want the acknowledged value", got, err)
	}
	if info := c.Info(ctx, "persistence").Val(); !strings.Contains(info, "aof_last_write_status:err") {
		t.Errorf("INFO persistence does not report the failure:\n%s", info)
	}
	if !strings.Contains(logs.String(), "disk write failed") {
		t.Errorf("the log does not report the failure:\n%s", logs.String())
	}
	if st.Failed() == nil {
		t.Error("store.Failed() is nil after a failed sync")
	}
}
