// Package store is Cairn's durable keyspace. Pebble is the source of truth;
// an in-memory google/btree index per database holds every key's metadata
// (and string values) for reads and ordered prefix scans, and a second
// btree orders keys by expiry time for active expiry.
//
// Ownership: Store.mu guards the indexes, the version counter, the watch
// registry and the shared Pebble batch. All access goes through Update,
// which runs a function with the lock held; its writes go to the index and
// to the shared batch, and batches are applied to Pebble in order under the
// lock, so the index and Pebble change in the same order. Acknowledge
// applies (and with appendfsync always, syncs) up to a write before its
// reply goes out; the sync itself runs without the lock.
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cairn/zset"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/btree"
)

// Fsync is the durability policy, as Redis's appendfsync.
type Fsync int

const (
	// FsyncEverySec syncs the WAL once per second: a crash of the machine
	// loses at most about a second of acknowledged writes.
	FsyncEverySec Fsync = iota
	// FsyncAlways acknowledges a write only after the WAL is synced.
	FsyncAlways
	// FsyncNo leaves syncing to the operating system.
	FsyncNo
)

// ParseFsync parses "always", "everysec" or "no".
func ParseFsync(s string) (Fsync, error) {
	switch strings.ToLower(s) {
	case "always":
		return FsyncAlways, nil
	case "everysec":
		return FsyncEverySec, nil
	case "no":
		return FsyncNo, nil
	}
	return 0, fmt.Errorf("invalid appendfsync %q", s)
}

func (f Fsync) String() string {
	switch f {
	case FsyncAlways:
		return "always"
	case FsyncNo:
		return "no"
	}
	return "everysec"
}

// Options configure a Store. Zero values take the documented defaults.
type Options struct {
	Dir       string // data directory (required); Pebble lives in Dir/db
	Databases int    // number of logical databases (default 16, at most 256)
	Fsync     Fsync  // durability policy (default everysec)
	// CacheSize is Pebble's block cache in bytes (default 32 MiB).
	CacheSize int64
	// MemTableSize is Pebble's memtable size in bytes (default 32 MiB; 8 MiB
	// measured 36 B/key less RSS at 1M keys but half the load throughput).
	MemTableSize uint64
	// ExpireInterval is the period of the active expiry cycle (default 100ms, Redis hz 10).
	ExpireInterval time.Duration
	// Tombstones keeps a versioned tombstone for every deleted key, on disk
	// and in memory, for TombstoneGrace (default 1h), so that replicas
	// comparing versions never resurrect a deleted key. Cluster mode turns
	// it on; a single node does not need it.
	Tombstones     bool
	TombstoneGrace time.Duration
	Logger         *slog.Logger
	// FS is the filesystem Pebble and SAVE use (default: the operating
	// system's). Tests pass an in-memory filesystem that simulates crashes
	// or one that injects disk errors.
	FS vfs.FS
}

// ErrLocked means another process has the data directory open.
var ErrLocked = errors.New("store: data directory is in use by another process")

// ErrWriteFailed is set once a Pebble write or sync fails: the store then
// refuses further writes, because its memory may be ahead of its disk.
var ErrWriteFailed = errors.New("store: a write to disk failed")

// Store is an open keyspace. It is safe for concurrent use.
type Store struct {
	opts  Options
	pdb   *pebble.DB
	cache interface{ Unref() }
	log   *slog.Logger
	stop  chan struct{}
	wg    sync.WaitGroup

	changes  atomic.Int64 // writes since the last SAVE
	lastSave atomic.Int64 // unix ms of the last SAVE (or open)
	expired  atomic.Int64 // keys removed by expiry (INFO expired_keys)

	used      atomic.Int64 // estimated dataset bytes (memory.go); changed only under mu
	maxMemory atomic.Int64 // mirrors mu.mem.MaxMemory for the lock-free check
	evicted   atomic.Int64 // keys evicted (INFO evicted_keys)

	removalHook atomic.Pointer[func(db int, key string, why Removal)] // expire.go
	changeHook  atomic.Pointer[ChangeHook]                            // watch.go

	applied atomic.Uint64 // last batch generation applied to Pebble
	synced  atomic.Uint64 // last batch generation known synced to disk

	mu struct {
		sync.Mutex
		tx      Tx            // the Tx of the running Update, reused
		batch   *pebble.Batch // shared batch of generation gen; nil until a write
		gen     uint64        // generation of the open batch; starts at 1
		dbs     []keyspace
		clock   hlc // stamps of new versions
		watched map[watchKey][]*Watch
		blocked map[watchKey][]*Waiter
		slots   slotIndex    // per-slot key counts and digests of database 0
		system  system       // ballot promises and hint counts (system.go)
		mem     Memory       // maxmemory settings (memory.go)
		pool    evictionPool // LRU/LFU eviction candidates (evict.go)
		nextDB  int          // the database the next random eviction samples
	}
	failed atomic.Pointer[error] // first disk write error; set once, makes writes fail
	events *pebbleEvents         // write stalls and slow disks reported by Pebble (metrics.go)
}

// keyspace is one logical database. A map serves point lookups (GET and
// SET touch no tree); the btree orders the same keys for scans and is only
// changed when a key is created or deleted.
type keyspace struct {
	entries map[string]*Entry     // by key; each map key is its entry's key string
	keys    *btree.BTreeG[string] // exactly the keys of entries, in order
	expires *btree.BTreeG[expiry] // by (expireAt, key); exactly the keys with ExpireAt != 0
	// tombs holds the tombstone of each deleted key not re-created since,
	// mirroring the tombstone records on disk; nil when tombstones are off.
	// No key is in both entries and tombs.
	tombs map[string]tombstone
	// used is the accounted size of this database's keys (memory.go);
	// zbytes the accounted member bytes of each sorted set in it.
	used   int64
	zbytes map[*zset.Set]int64
}

func (s *Store) newKeyspace() keyspace {
	ks := keyspace{
		entries: make(map[string]*Entry),
		keys:    btree.NewOrderedG[string](32),
		expires: btree.NewG(32, expiryLess),
		zbytes:  make(map[*zset.Set]int64),
	}
	if s.opts.Tombstones {
		ks.tombs = make(map[string]tombstone)
	}
	return ks
}

// Open opens or creates the store in opts.Dir and rebuilds the index from Pebble.
func Open(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("store: no data directory")
	}
	if opts.Databases <= 0 {
		opts.Databases = 16
	}
	if opts.Databases > 256 {
		return nil, errors.New("store: at most 256 databases")
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 32 << 20
	}
	if opts.MemTableSize == 0 {
		opts.MemTableSize = 32 << 20
	}
	if opts.ExpireInterval <= 0 {
		opts.ExpireInterval = 100 * time.Millisecond
	}
	if opts.TombstoneGrace <= 0 {
		opts.TombstoneGrace = time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FS == nil {
		opts.FS = vfs.Default
	}
	if err := makeDurableDir(opts.FS, filepath.Join(opts.Dir, "db")); err != nil {
		return nil, err
	}
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref() // Pebble holds its own reference
	events := new(pebbleEvents)
	s := &Store{opts: opts, log: opts.Logger, stop: make(chan struct{}), events: events}
	popts := &pebble.Options{
		Cache:         cache,
		MemTableSize:  opts.MemTableSize,
		Logger:        pebbleLogger{opts.Logger, s},
		EventListener: events.listener(),
		FS:            opts.FS,
	}
	pdb, err := pebble.Open(filepath.Join(opts.Dir, "db"), popts)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, err
		}
		if isLockErr(err) {
			return nil, fmt.Errorf("%w: %s: %v", ErrLocked, opts.Dir, err)
		}
		return nil, fmt.Errorf("store: cannot open %s (corrupt or unreadable data directory): %w", opts.Dir, err)
	}
	s.pdb = pdb
	s.mu.dbs = make([]keyspace, opts.Databases)
	for i := range s.mu.dbs {
		s.mu.dbs[i] = s.newKeyspace()
	}
	s.mu.system.init()
	s.mu.watched = make(map[watchKey][]*Watch)
	s.mu.blocked = make(map[watchKey][]*Waiter)
	s.mu.gen = 1
	s.lastSave.Store(time.Now().UnixMilli())
	if err := s.load(); err != nil {
		pdb.Close()
		return nil, fmt.Errorf("store: cannot load %s (corrupt data directory): %w", opts.Dir, err)
	}
	s.wg.Add(1)
	go s.expireLoop()
	if opts.Fsync == FsyncEverySec {
		s.wg.Add(1)
		go s.syncLoop()
	}
	return s, nil
}

// makeDurableDir creates dir and its missing parents and syncs the parent
// of each one it created, so that a crash right after the first Open
// cannot lose the directory entries (Pebble syncs only inside its own
// directory).
func makeDurableDir(fs vfs.FS, dir string) error {
	if _, err := fs.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := makeDurableDir(fs, parent); err != nil {
			return err
		}
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d, err := fs.OpenDir(parent)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func isLockErr(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "lock") && (strings.Contains(msg, "resource temporarily unavailable") ||
		strings.Contains(msg, "held by current process") || strings.Contains(msg, "locked"))
}

// load rebuilds the in-memory indexes from Pebble: metadata records create
// entries, member records fill sorted sets. A key's metadata sorts before
// its members (same db and slot, kind 'm' < 'z').
func (s *Store) load() error {
	it, err := s.pdb.NewIter(nil)
	if err != nil {
		return err
	}
	defer it.Close()
	var zl zloader
	now := time.Now().UnixMilli()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if isSystemKey(k) {
			if err := s.mu.system.load(k, v); err != nil {
				return err
			}
			continue
		}
		if len(k) < keyPrefixLen || int(k[0]) >= len(s.mu.dbs) {
			return fmt.Errorf("record %q outside the %d configured databases", k, len(s.mu.dbs))
		}
		if db, key, member, ok := decodeMemberKey(k); ok {
			if err := zl.add(&s.mu.dbs[db], key, member, v); err != nil {
				return fmt.Errorf("member %q of key %q: %w", member, key, err)
			}
		} else if db, key, ok := decodeMetaKey(k); ok {
			e := &Entry{key: string(key)}
			if err := decodeMetaValue(v, e); err != nil {
				return fmt.Errorf("key %q: %w", key, err)
			}
			s.mu.clock.observe(e.Version.Stamp)
			ks := &s.mu.dbs[db]
			if e.Type == TypeNone {
				if ks.tombs != nil { // tombstones from a cluster run; a single node drops them on first write
					ks.tombs[e.key] = tombstone{e.Version, now}
				}
				continue
			}
			e.access = uint32(now / 1000)
			ks.insert(e)
			s.indexSlot(db, e)
		} else {
			return fmt.Errorf("record %q of unknown kind", k)
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	zl.build()
	for db := range s.mu.dbs { // a sorted set without members is corrupt
		var bad *Entry
		for _, e := range s.mu.dbs[db].entries {
			if e.Type == TypeZSet && e.Z.Len() == 0 {
				bad = e
				break
			}
		}
		if bad != nil {
			return fmt.Errorf("sorted set %q has no members", bad.key)
		}
	}
	s.recountLocked()
	return nil
}

// Close stops background work, syncs and closes Pebble.
func (s *Store) Close() error {
	close(s.stop)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.applyLocked(); err != nil {
		s.pdb.Close()
		return err
	}
	if err := s.pdb.LogData(nil, pebble.Sync); err != nil {
		s.pdb.Close()
		return err
	}
	return s.pdb.Close()
}

// Databases is the number of logical databases.
func (s *Store) Databases() int { return s.opts.Databases }

// Fsync is the durability policy.
func (s *Store) Fsync() Fsync { return s.opts.Fsync }

// Dir is the data directory.
func (s *Store) Dir() string { return s.opts.Dir }

// Ticket identifies the writes of one Update for acknowledgement: the
// generation of the shared batch that holds them. Zero means nothing was
// written.
type Ticket uint64

// Update runs fn with exclusive access to database db. fn's writes go to
// the index at once and into the store's shared Pebble batch, which is
// applied to Pebble in generation order under the same lock, so Pebble and
// the index always change in the same order. Before replying to a write,
// the caller passes the returned Ticket to Acknowledge.
//
// Sharing one batch between commands (and connections) until a reply is
// due is the group commit that makes pipelined writes cheap.
//
// If fn panics, the writes it made so far stay in the batch (the index
// already holds them) and the panic continues.
func (s *Store) Update(db int, fn func(tx *Tx)) (t Ticket, err error) {
	return s.UpdateAt(db, time.Now().UnixMilli(), fn)
}

// UpdateAt is Update with the caller's clock (unix ms) for expiry decisions,
// so a command reads the clock once.
func (s *Store) UpdateAt(db int, now int64, fn func(tx *Tx)) (t Ticket, err error) {
	return s.update(db, now, 0, fn, nil)
}

// Replicate is UpdateAt for the primary of a cluster slot: every version it
// assigns carries ballot, and the changes fn made, one per key written, go
// to sink while the lock is still held, in the order keys were first
// written, so successive Replicates hand their changes of a key to sink in
// version order. sink may write hints through tx. sink runs even if fn
// panics.
func (s *Store) Replicate(db int, now int64, ballot uint64, fn func(tx *Tx), sink func(tx *Tx, cs []Change)) (Ticket, error) {
	return s.update(db, now, ballot, fn, sink)
}

func (s *Store) update(db int, now int64, ballot uint64, fn func(tx *Tx), sink func(*Tx, []Change)) (t Ticket, err error) {
	s.mu.Lock()
	tx := &s.mu.tx
	*tx = Tx{s: s, db: db, now: now, ballot: ballot, kbuf: tx.kbuf[:0]}
	if sink != nil {
		tx.cap = &capture{}
	}
	defer func() {
		if tx.cap != nil {
			cs := tx.cap.changes(tx)
			tx.cap = nil
			if len(cs) > 0 {
				sink(tx, cs)
			}
		}
		if tx.wrote {
			t = Ticket(s.mu.gen)
			if s.mu.batch.Len() >= maxBatchBytes {
				err = s.applyLocked()
			}
		}
		s.mu.Unlock()
	}()
	fn(tx)
	return 0, nil
}

// maxBatchBytes bounds the shared batch between acknowledgements.
const maxBatchBytes = 4 << 20

// Acknowledge returns once every write up to t may be acknowledged under
// the fsync policy: applied to Pebble's write-ahead log (handed to the OS),
// and also synced to disk with appendfsync always. An error means the
// writes must not be acknowledged.
func (s *Store) Acknowledge(t Ticket) error {
	if t == 0 {
		return nil
	}
	if s.applied.Load() < uint64(t) {
		s.mu.Lock()
		var err error
		if s.applied.Load() < uint64(t) {
			err = s.applyLocked()
		}
		s.mu.Unlock()
		if err != nil {
			return err
		}
	}
	if s.opts.Fsync == FsyncAlways && s.synced.Load() < uint64(t) {
		return s.syncWAL()
	}
	return nil
}

// syncWAL syncs Pebble's WAL, covering every batch applied so far.
// Concurrent callers are group-committed by Pebble.
func (s *Store) syncWAL() error {
	upTo := s.applied.Load()
	if err := s.pdb.LogData(nil, pebble.Sync); err != nil {
		s.fail(err)
	}
	if s.failed.Load() != nil { // a failed sync reaches Fatalf, not err
		return ErrWriteFailed
	}
	for {
		cur := s.synced.Load()
		if cur >= upTo || s.synced.CompareAndSwap(cur, upTo) {
			return nil
		}
	}
}

// applyLocked applies the shared batch, if any, to Pebble without syncing.
// REQUIRES: s.mu held.
func (s *Store) applyLocked() error {
	b := s.mu.batch
	if b == nil {
		return s.Failed()
	}
	s.mu.batch = nil
	gen := s.mu.gen
	s.mu.gen++
	if s.failed.Load() != nil {
		b.Close()
		return ErrWriteFailed
	}
	err := s.pdb.Apply(b, pebble.NoSync)
	b.Close()
	if err != nil {
		s.fail(err)
	}
	if s.failed.Load() != nil { // also set by a commit error Pebble reported to Fatalf
		return ErrWriteFailed
	}
	s.applied.Store(gen)
	return nil
}

// flush applies the shared batch.
func (s *Store) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applyLocked()
}

// Failed returns the first disk write error, or nil. Safe to call inside Update.
func (s *Store) Failed() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Store) fail(err error) {
	if s.failed.CompareAndSwap(nil, &err) {
		s.log.Error("disk write failed; refusing further writes", "err", err)
	}
}

// syncLoop syncs the WAL once per second (appendfsync everysec).
func (s *Store) syncLoop() {
	defer s.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if s.flush() == nil {
				s.syncWAL()
			}
		}
	}
}

// Save writes a consistent checkpoint of the whole store to Dir/snapshot,
// replacing the previous one (SAVE, BGSAVE).
func (s *Store) Save() error {
	if err := s.flush(); err != nil {
		return err
	}
	fs := s.opts.FS
	tmp := filepath.Join(s.opts.Dir, fmt.Sprintf("snapshot.tmp-%d", time.Now().UnixNano()))
	if err := s.pdb.Checkpoint(tmp, pebble.WithFlushedWAL()); err != nil {
		fs.RemoveAll(tmp)
		return err
	}
	final := filepath.Join(s.opts.Dir, "snapshot")
	if err := fs.RemoveAll(final); err != nil {
		return err
	}
	if err := fs.Rename(tmp, final); err != nil {
		return err
	}
	s.changes.Store(0)
	s.lastSave.Store(time.Now().UnixMilli())
	return nil
}

// Stats are counters for INFO.
type Stats struct {
	Keys, Expires  []int // per database
	Changes        int64 // writes since the last save
	LastSave       time.Time
	ExpiredKeys    int64
	DiskUsage      uint64
	WriteError     error
	PebbleMemtable uint64
}

// Stats returns a snapshot of the counters. Inside Update use Tx.Stats.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statsLocked()
}

// Stats is Store.Stats for use inside Update.
func (tx *Tx) Stats() Stats { return tx.s.statsLocked() }

// REQUIRES: s.mu held.
func (s *Store) statsLocked() Stats {
	m := s.pdb.Metrics()
	st := Stats{
		Changes:        s.changes.Load(),
		LastSave:       time.UnixMilli(s.lastSave.Load()),
		ExpiredKeys:    s.expired.Load(),
		DiskUsage:      m.DiskSpaceUsage(),
		WriteError:     s.Failed(),
		PebbleMemtable: m.MemTable.Size,
	}
	for _, ks := range s.mu.dbs {
		st.Keys = append(st.Keys, len(ks.entries))
		st.Expires = append(st.Expires, ks.expires.Len())
	}
	return st
}

// ResetStats zeroes the cumulative counters (CONFIG RESETSTAT). It does not
// lock, so it is safe inside Update.
func (s *Store) ResetStats() {
	s.expired.Store(0)
	s.evicted.Store(0)
}

// pebbleLogger routes Pebble's log to the store's logger. s is the store
// whose Pebble logs through it.
type pebbleLogger struct {
	l *slog.Logger
	s *Store
}

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf reports an error Pebble does not continue from. A failed commit
// (the write-ahead log could not be written or synced) marks the store
// failed instead of exiting: Pebble then returns from the commit as if it
// had succeeded, so applyLocked and syncWAL check the mark, the write is
// never acknowledged, later writes are refused (MISCONF) and reads go on
// from memory. Any other fatal error exits, as Pebble expects.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	if strings.HasPrefix(format, "pebble: fatal commit error") {
		p.s.fail(fmt.Errorf(format, args...))
		return
	}
	os.Exit(1)
}
