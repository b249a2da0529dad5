package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// Crash tests of the store alone (no processes): Pebble's crash-simulating
// in-memory filesystem, and injected disk errors. The kill -9 loop through
// the server is commands/crash_test.go.

const crashDir = "/data"

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// crashWriter is one writer's progress. Its round i sets key w<id>:<i> to
// i, increments counter c<id> and adds 1 to member p<id> of "board", all in
// one Update; attempted counts rounds started, acked rounds whose
// Acknowledge returned nil.
type crashWriter struct {
	id               int
	attempted, acked atomic.Int64
}

// round runs one write round and acknowledges it.
func (w *crashWriter) round(s *Store) error {
	i := w.attempted.Add(1) - 1
	t, err := s.Update(0, func(tx *Tx) {
		tx.SetString([]byte(fmt.Sprintf("w%d:%d", w.id, i)), []byte(strconv.FormatInt(i, 10)), 0)
		ck := []byte(fmt.Sprintf("c%d", w.id))
		n := int64(0)
		if e := tx.Get(ck); e != nil {
			n, _ = strconv.ParseInt(string(e.Str), 10, 64)
		}
		tx.SetString(ck, []byte(strconv.FormatInt(n+1, 10)), 0)
		member := fmt.Sprintf("p%d", w.id)
		score := 0.0
		if e := tx.Get([]byte("board")); e != nil {
			score, _ = e.Z.Score(member)
		}
		tx.ZAdd([]byte("board"), []byte(member), score+1)
	})
	if err == nil {
		err = s.Acknowledge(t)
	}
	if err != nil {
		return err
	}
	w.acked.Store(i + 1)
	return nil
}

// verify checks, in a store recovered from a crash, that the first acked
// rounds of w are all present and that its counter and score lie within
// [acked, attempted]; it returns the number of acknowledged rounds lost.
func (w *crashWriter) verify(t *testing.T, s *Store, acked, attempted int64) (lost int) {
	t.Helper()
	_, err := s.Update(0, func(tx *Tx) {
		for i := int64(0); i < acked; i++ {
			e := tx.Get([]byte(fmt.Sprintf("w%d:%d", w.id, i)))
			if e == nil || string(e.Str) != strconv.FormatInt(i, 10) {
				lost++
			}
		}
		n := int64(0)
		if e := tx.Get([]byte(fmt.Sprintf("c%d", w.id))); e != nil {
			n, _ = strconv.ParseInt(string(e.Str), 10, 64)
		}
		if n < acked || n > attempted {
			t.Errorf("counter c%d = %d, want within [%d acknowledged, %d attempted]", w.id, n, acked, attempted)
		}
		score := 0.0
		if e := tx.Get([]byte("board")); e != nil {
			score, _ = e.Z.Score(fmt.Sprintf("p%d", w.id))
		}
		if int64(score) < acked || int64(score) > attempted {
			t.Errorf("score of p%d = %v, want within [%d acknowledged, %d attempted]", w.id, score, acked, attempted)
		}
	})
	must(t, err)
	return lost
}

// Pebble's crash-simulating filesystem: concurrent writers acknowledge
// rounds with appendfsync always while crash clones are taken at random
// moments (keeping a random share of the unsynced data). Each clone checks
// clean with Check and opens with every round acknowledged before the clone.
func TestCrash_CrashableFS(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	mem := vfs.NewCrashableMem()
	s, err := Open(Options{Dir: crashDir, Fsync: FsyncAlways, FS: mem, MemTableSize: 256 << 10, Logger: quietLog()})
	must(t, err)
	defer s.Close()

	const writers = 4
	ws := make([]*crashWriter, writers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &crashWriter{id: i}
		wg.Add(1)
		go func(w *crashWriter) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := w.round(s); err != nil {
					t.Errorf("writer %d: %v", w.id, err)
					return
				}
			}
		}(ws[i])
	}
	defer func() { close(stop); wg.Wait() }()

	const clones = 25
	var acked, lost int64
	for c := 0; c < clones; c++ {
		waitRounds(t, ws, int64(c+1)*20) // let the writers get ahead between clones
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		ack := make([]int64, writers)
		for i, w := range ws {
			ack[i] = w.acked.Load() // acknowledged before the clone: must survive it
		}
		clone := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rng})
		att := make([]int64, writers)
		for i, w := range ws {
			att[i] = w.attempted.Load()
		}
		r, err := Check(crashDir, CheckOptions{FS: clone})
		must(t, err)
		if !r.OK() {
			t.Fatalf("clone %d: Check found %q", c, r.Problems)
		}
		rs, err := Open(Options{Dir: crashDir, Fsync: FsyncAlways, FS: clone, Logger: quietLog()})
		if err != nil {
			t.Fatalf("clone %d: open: %v", c, err)
		}
		for i, w := range ws {
			acked += ack[i]
			lost += int64(w.verify(t, rs, ack[i], att[i]))
		}
		must(t, rs.Close())
	}
	t.Logf("crash clones: %d runs, %d acknowledged rounds checked (3 writes each), %d lost", clones, acked, lost)
	if lost != 0 {
		t.Fatalf("%d acknowledged rounds lost in crash clones", lost)
	}
}

// waitRounds waits until the writers together have acknowledged n rounds.
func waitRounds(t *testing.T, ws []*crashWriter, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var sum int64
		for _, w := range ws {
			sum += w.acked.Load()
		}
		if sum >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("writers acknowledged %d rounds, want %d", sum, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// diskFault fails every write or sync of Pebble's write-ahead log once on.
type diskFault struct {
	on    atomic.Bool
	kinds []errorfs.OpKind
}

func (f *diskFault) injector() errorfs.Injector {
	return errorfs.InjectorFunc(func(op errorfs.Op) error {
		if !f.on.Load() || !strings.HasSuffix(op.Path, ".log") {
			return nil
		}
		for _, k := range f.kinds {
			if op.Kind == k {
				return errorfs.ErrInjected
			}
		}
		return nil
	})
}

// A failed WAL sync (or write) is never acknowledged: Acknowledge returns
// ErrWriteFailed, later writes fail, reads still work, Stats reports the
// error, and a restart on the same disk has every acknowledged write.
func TestCrash_DiskErrors(t *testing.T) {
	for name, kinds := range map[string][]errorfs.OpKind{
		"sync":  {errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo},
		"write": {errorfs.OpFileWrite, errorfs.OpFileWriteAt},
	} {
		t.Run(name, func(t *testing.T) {
			mem := vfs.NewMem()
			fault := &diskFault{kinds: kinds}
			s, err := Open(Options{Dir: crashDir, Fsync: FsyncAlways, FS: errorfs.Wrap(mem, fault.injector()), Logger: quietLog()})
			must(t, err)
			w := &crashWriter{}
			for i := 0; i < 50; i++ {
				must(t, w.round(s))
			}
			fault.on.Store(true)
			if err := w.round(s); !errors.Is(err, ErrWriteFailed) {
				t.Fatalf("round with a failing disk: err = %v, want ErrWriteFailed", err)
			}
			if w.acked.Load() != 50 {
				t.Fatalf("acked = %d after the failed round, want 50", w.acked.Load())
			}
			if err := w.round(s); !errors.Is(err, ErrWriteFailed) {
				t.Fatalf("round after the failure: err = %v, want ErrWriteFailed", err)
			}
			if st := s.Stats(); st.WriteError == nil {
				t.Error("Stats().WriteError is nil after a failed sync")
			}
			_, err = s.Update(0, func(tx *Tx) {
				if e := tx.Get([]byte("w0:49")); e == nil || string(e.Str) != "49" {
					t.Errorf("read after the failure: w0:49 = %v", e)
				}
			})
			must(t, err)
			fault.on.Store(false)
			if err := w.round(s); !errors.Is(err, ErrWriteFailed) {
				t.Fatalf("round after the disk recovered: err = %v, want ErrWriteFailed until restart", err)
			}
			s.Close() // reports the failure; the disk keeps what was synced

			rs, err := Open(Options{Dir: crashDir, Fsync: FsyncAlways, FS: mem, Logger: quietLog()})
			must(t, err)
			defer rs.Close()
			if lost := w.verify(t, rs, w.acked.Load(), w.attempted.Load()); lost != 0 {
				t.Fatalf("%d acknowledged rounds lost after a disk error", lost)
			}
		})
	}
}
