package store

import (
	"encoding/binary"
	"fmt"
	"maps"
	"sort"
	"sync"
)

// System records live outside every database, under the prefix 0xff 0xff
// (a database's keys start with its number and a slot below 0x4000, so no
// user key sorts there, and FLUSHALL's range [0x00, 0xff 0xff) spares them):
//
//	0xff 0xff 'b' slot(2)                      -> ballot N (8) | node ID   the promise of a slot
//	0xff 0xff 'h' len(node)(1) node db(1) key  -> empty                    a hint: node missed key
const (
	sysBallot byte = 'b'
	sysHint   byte = 'h'
)

func isSystemKey(k []byte) bool { return len(k) >= 3 && k[0] == 0xff && k[1] == 0xff }

// Ballot identifies a slot primary's term: only the node holding a ballot
// promised by a majority of a slot's replicas may write the slot, and
// replicas refuse writes of older ballots. Ballots order by N; a replica
// promises each N to one node only, so a ballot N names one node.
type Ballot struct {
	N    uint64
	Node string
}

// system is the in-memory mirror of the system records. Guarded by
// Store.mu, except backlog, which mirrors the hint counts under its own
// mutex (taken inside Store.mu, never the other way round) so that INFO can
// read it while a command holds the store.
type system struct {
	promised [SlotCount]Ballot
	hints    map[string]map[hintKey]struct{} // by node
	backlog  struct {
		sync.Mutex
		n map[string]int // len(hints[node]) by node
	}
}

type hintKey struct {
	db  int
	key string
}

func (y *system) init() {
	y.hints = make(map[string]map[hintKey]struct{})
	y.backlog.n = make(map[string]int)
}

// count mirrors the hint count of node.
func (y *system) count(node string) {
	y.backlog.Lock()
	defer y.backlog.Unlock()
	if n := len(y.hints[node]); n > 0 {
		y.backlog.n[node] = n
	} else {
		delete(y.backlog.n, node)
	}
}

// load mirrors one system record read at Open.
func (y *system) load(k, v []byte) error {
	switch k[2] {
	case sysBallot:
		if len(k) != 5 || len(v) < 8 {
			return fmt.Errorf("malformed ballot record %q", k)
		}
		y.promised[binary.BigEndian.Uint16(k[3:])&(SlotCount-1)] = Ballot{binary.BigEndian.Uint64(v), string(v[8:])}
	case sysHint:
		node, db, key, ok := decodeHintKey(k)
		if !ok {
			return fmt.Errorf("malformed hint record %q", k)
		}
		y.addHint(node, hintKey{db, string(key)})
	default:
		return fmt.Errorf("system record %q of unknown kind", k)
	}
	return nil
}

func (y *system) addHint(node string, h hintKey) bool {
	m := y.hints[node]
	if m == nil {
		m = make(map[hintKey]struct{})
		y.hints[node] = m
	}
	if _, ok := m[h]; ok {
		return false
	}
	m[h] = struct{}{}
	y.count(node)
	return true
}

func ballotKey(slot uint16) []byte { return []byte{0xff, 0xff, sysBallot, byte(slot >> 8), byte(slot)} }

func appendHintKey(dst []byte, node string, db int, key []byte) []byte {
	dst = append(dst, 0xff, 0xff, sysHint, byte(len(node)))
	dst = append(dst, node...)
	dst = append(dst, byte(db))
	return append(dst, key...)
}

func decodeHintKey(k []byte) (node string, db int, key []byte, ok bool) {
	if len(k) < 4 {
		return "", 0, nil, false
	}
	n := int(k[3])
	if len(k) < 4+n+1 {
		return "", 0, nil, false
	}
	return string(k[4 : 4+n]), int(k[4+n]), k[5+n:], true
}

// Promised returns the ballot this replica has promised for slot.
func (s *Store) Promised(slot uint16) Ballot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.system.promised[slot&(SlotCount-1)]
}

// SlotBallot is a ballot for one slot.
type SlotBallot struct {
	Slot   uint16
	Ballot Ballot
}

// Promise promises each ballot for its slot where it is not older than the
// current promise (an equal N must come from the same node), and returns
// what is promised for every slot afterwards: the caller compares to see
// which it got. The promises are synced to disk before Promise returns,
// whatever the fsync policy, so a restarted replica never forgets one.
func (s *Store) Promise(bs []SlotBallot) ([]Ballot, error) {
	out := make([]Ballot, len(bs))
	s.mu.Lock()
	tx := &Tx{s: s}
	for i, sb := range bs {
		slot := sb.Slot & (SlotCount - 1)
		tx.promise(slot, sb.Ballot)
		out[i] = s.mu.system.promised[slot]
	}
	err := s.applyLocked()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return out, s.syncWAL()
}

// promise raises slot's promise to b when b is newer and reports whether b
// is (now) the promise. REQUIRES: s.mu held.
func (tx *Tx) promise(slot uint16, b Ballot) bool {
	cur := &tx.s.mu.system.promised[slot]
	switch {
	case b.N < cur.N, b.N == cur.N && b.Node != cur.Node:
		return false
	case b == *cur:
		return true
	}
	*cur = b
	v := binary.BigEndian.AppendUint64(nil, b.N)
	tx.wb().Set(ballotKey(slot), append(v, b.Node...), nil)
	return true
}

// Hint records, in the batch of the running Update, that node missed a
// write of key in the Tx's database. A hint names the key only: replaying
// it sends the key's state at replay time. Hints never count as replicas.
func (tx *Tx) Hint(node string, key []byte) {
	if !tx.s.mu.system.addHint(node, hintKey{tx.db, string(key)}) {
		return
	}
	tx.wb().Set(appendHintKey(nil, node, tx.db, key), nil, nil)
}

// Hinted is one key a node missed.
type Hinted struct {
	DB  int
	Key []byte
}

// Hints returns up to max keys node missed, in no particular order.
func (s *Store) Hints(node string, max int) []Hinted {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Hinted
	for h := range s.mu.system.hints[node] {
		if len(out) == max {
			break
		}
		out = append(out, Hinted{h.db, []byte(h.key)})
	}
	return out
}

// DropHints deletes hints once they have been replayed.
func (s *Store) DropHints(node string, hs []Hinted) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mu.system.hints[node]
	tx := &Tx{s: s}
	for _, h := range hs {
		if _, ok := m[hintKey{h.DB, string(h.Key)}]; !ok {
			continue
		}
		delete(m, hintKey{h.DB, string(h.Key)})
		tx.wb().Delete(appendHintKey(nil, node, h.DB, h.Key), nil)
	}
	if len(m) == 0 {
		delete(s.mu.system.hints, node)
	}
	s.mu.system.count(node)
	return s.applyLocked()
}

// HintBacklog returns the number of hints held for each node. It does not
// take the store's lock, so it is safe inside Update.
func (s *Store) HintBacklog() map[string]int {
	b := &s.mu.system.backlog
	b.Lock()
	defer b.Unlock()
	return maps.Clone(b.n)
}

// HintedNodes returns the nodes that have hints, sorted.
func (s *Store) HintedNodes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.mu.system.hints))
	for node := range s.mu.system.hints {
		out = append(out, node)
	}
	sort.Strings(out)
	return out
}

// tombstone is a deleted key's last version and when it was deleted (unix
// ms; the load time for tombstones read at Open).
type tombstone struct {
	version Version
	at      int64
}

// putTombstone writes key's tombstone of version v. REQUIRES: s.mu held.
func (tx *Tx) putTombstone(key string, v Version) {
	tx.ks().tombs[key] = tombstone{v, tx.now}
	e := Entry{Type: TypeNone, Version: v}
	b := tx.wb()
	k := appendMetaKey(tx.kbuf[:0], tx.db, unsafeBytes(key))
	b.Set(k, appendMetaValue(nil, &e), nil)
	tx.kbuf = k
}

// collectTombstones deletes the tombstones older than the grace period.
func (s *Store) collectTombstones(now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := now - s.opts.TombstoneGrace.Milliseconds()
	tx := &Tx{s: s}
	for db := range s.mu.dbs {
		tx.db = db
		for key, t := range s.mu.dbs[db].tombs {
			if t.at < limit {
				delete(s.mu.dbs[db].tombs, key)
				tx.kbuf = appendMetaKey(tx.kbuf[:0], db, unsafeBytes(key))
				tx.wb().Delete(tx.kbuf, nil)
			}
		}
	}
	s.applyLocked()
}
