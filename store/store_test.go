package store

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var modelSeed = flag.Uint64("store.seed", 0, "seed of TestStore_Model (0: time-based, logged)")

// openTestStore opens a store in dir; the caller closes it (restart tests
// close and reopen the same dir) or leaves it to the cleanup.
func openTestStore(t testing.TB, dir string, dbs int) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, Databases: dbs})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return s
}

// closeOnCleanup closes *sp at the end of the test, whichever store it
// points to by then.
func closeOnCleanup(t testing.TB, sp **Store) {
	t.Cleanup(func() {
		if *sp != nil {
			(*sp).Close()
		}
	})
}

// update runs fn in one Update on db and fails the test on a store error.
func update(t testing.TB, s *Store, db int, fn func(tx *Tx)) {
	t.Helper()
	if _, err := s.Update(db, fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

// modelEntry is the reference value of one key.
type modelEntry struct {
	val string
	exp int64 // absolute unix ms, 0 = none
}

// storeModel is the naive reference: one map per database, keeping keys
// expired in (virtual) time until something looks them up, exactly as the
// store's lazy expiry does.
type storeModel struct {
	dbs     []map[string]modelEntry
	expired int // keys found expired by a lookup
}

func newStoreModel(n int) *storeModel {
	m := &storeModel{dbs: make([]map[string]modelEntry, n)}
	for i := range m.dbs {
		m.dbs[i] = map[string]modelEntry{}
	}
	return m
}

// get is Tx.Get: an expired key is removed and reported missing.
func (m *storeModel) get(db int, key string, now int64) (modelEntry, bool) {
	e, ok := m.dbs[db][key]
	if ok && e.exp != 0 && e.exp <= now {
		m.expired++
		delete(m.dbs[db], key)
		return modelEntry{}, false
	}
	return e, ok
}

// ascend is Tx.Ascend: live keys >= from in order, at most limit.
func (m *storeModel) ascend(db int, from string, limit int, now int64) []string {
	var out []string
	for k, e := range m.dbs[db] {
		if k >= from && (e.exp == 0 || e.exp > now) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// checkIndex compares the store's indexes of every database with the
// model: the key btree holds exactly the model's entries (expired ones
// included, until removed), and the expiry btree holds exactly (ExpireAt,
// key) of the entries with a TTL.
func checkIndex(t testing.TB, s *Store, m *storeModel, when string) {
	t.Helper()
	update(t, s, 0, func(tx *Tx) {
		for db := range m.dbs {
			ks := &s.mu.dbs[db]
			got := map[string]modelEntry{}
			if ks.keys.Len() != len(ks.entries) {
				t.Errorf("%s: db %d: btree has %d keys, map %d", when, db, ks.keys.Len(), len(ks.entries))
			}
			prev := ""
			ks.keys.Ascend(func(k string) bool {
				e := ks.entries[k]
				if e == nil || e.key != k || (prev != "" && k <= prev) {
					t.Errorf("%s: db %d: btree key %q after %q has map entry %+v", when, db, k, prev, e)
					return false
				}
				prev = k
				if e.Type != TypeString {
					t.Errorf("%s: db %d key %q has type %v", when, db, e.key, e.Type)
				}
				got[e.key] = modelEntry{string(e.Str), e.ExpireAt}
				return true
			})
			for k, want := range m.dbs[db] {
				if g, ok := got[k]; !ok || g != want {
					t.Errorf("%s: db %d key %q: index %+v (present %v), model %+v", when, db, k, g, ok, want)
				}
			}
			for k, g := range got {
				if _, ok := m.dbs[db][k]; !ok {
					t.Errorf("%s: db %d key %q in the index (%+v) but not in the model", when, db, k, g)
				}
			}
			var wantExp []expiry
			for k, e := range m.dbs[db] {
				if e.exp != 0 {
					wantExp = append(wantExp, expiry{e.exp, k})
				}
			}
			slices.SortFunc(wantExp, func(a, b expiry) int {
				if expiryLess(a, b) {
					return -1
				}
				if expiryLess(b, a) {
					return 1
				}
				return 0
			})
			var gotExp []expiry
			ks.expires.Ascend(func(x expiry) bool { gotExp = append(gotExp, x); return true })
			if !slices.Equal(gotExp, wantExp) {
				t.Errorf("%s: db %d expiry index %v, want %v", when, db, gotExp, wantExp)
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}
}

// TestStore_Model runs random operations against the store and a map,
// across several databases and in multi-operation Updates, with a virtual
// clock (Tx.now moved forward, so keys expire lazily without waiting) and
// restarts in the middle, and checks that the index, the expiry index and
// every reply equal the model's. Real TTLs are at least an hour away, so
// active expiry never races the model. -store.seed reproduces a run.
func TestStore_Model(t *testing.T) {
	seed := *modelSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -store.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	const (
		dbs      = 4
		ops      = 3000
		restarts = 3
	)
	dir := t.TempDir()
	s := openTestStore(t, dir, dbs)
	closeOnCleanup(t, &s)
	m := newStoreModel(dbs)

	var offset int64 // virtual time ahead of the wall clock, ms
	key := func() string { return fmt.Sprintf("k%03d", rng.IntN(120)) }
	futureTTL := func() int64 { return int64(time.Hour/time.Millisecond) + rng.Int64N(int64(time.Hour/time.Millisecond)) }
	counts := map[string]int{}

	nextRestart := ops / (restarts + 1)
	var expiredBefore int64 // expiries counted by closed store instances
	nextFlush := ops / 3
	for i := 0; i < ops; {
		if i >= nextRestart && counts["restart"] < restarts {
			nextRestart += ops / (restarts + 1)
			counts["restart"]++
			expiredBefore += s.Stats().ExpiredKeys
			if err := s.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			s = openTestStore(t, dir, dbs)
			checkIndex(t, s, m, fmt.Sprintf("after restart %d (op %d)", counts["restart"], i))
		}
		if i >= nextFlush { // FLUSHDB is costly (a range deletion per slot): twice a run
			nextFlush += ops / 3
			counts["flush"]++
			db := rng.IntN(dbs)
			update(t, s, db, func(tx *Tx) { tx.Flush() })
			m.dbs[db] = map[string]modelEntry{}
			checkIndex(t, s, m, fmt.Sprintf("after flushing db %d (op %d)", db, i))
		}
		if rng.IntN(40) == 0 { // let virtual time pass: some TTLs run out
			offset += rng.Int64N(int64(30 * time.Minute / time.Millisecond))
		}
		db := rng.IntN(dbs)
		n := 1 + rng.IntN(4) // operations in this Update
		i += n
		update(t, s, db, func(tx *Tx) {
			tx.now += offset
			now := tx.now
			for range n {
				opDB := db
				otx := tx
				if rng.IntN(4) == 0 { // another database in the same Update
					opDB = rng.IntN(dbs)
					otx = tx.In(opDB)
				}
				k := key()
				switch op := rng.IntN(100); {
				case op < 30:
					counts["set"]++
					v := fmt.Sprintf("v%d", rng.IntN(1000))
					var exp int64
					if rng.IntN(3) == 0 {
						exp = now + futureTTL()
					}
					e := otx.SetString([]byte(k), []byte(v), exp)
					if string(e.Str) != v || e.ExpireAt != exp || e.Key() != k {
						t.Errorf("SetString returned %q %q %d", e.Key(), e.Str, e.ExpireAt)
					}
					m.dbs[opDB][k] = modelEntry{v, exp}
				case op < 42:
					counts["delete"]++
					_, want := m.get(opDB, k, now)
					delete(m.dbs[opDB], k)
					if got := otx.Delete([]byte(k)); got != want {
						t.Errorf("db %d Delete(%q) = %v, model %v", opDB, k, got, want)
					}
				case op < 57:
					counts["setexpire"]++
					var at int64
					switch rng.IntN(3) {
					case 0: // persist
					case 1:
						at = now - rng.Int64N(1000) // past: deletes
						if at == 0 {
							at = -1
						}
					default:
						at = now + futureTTL()
					}
					e, want := m.get(opDB, k, now)
					if want {
						if at != 0 && at <= now {
							delete(m.dbs[opDB], k)
						} else {
							e.exp = at
							m.dbs[opDB][k] = e
						}
					}
					if got := otx.SetExpire([]byte(k), at); got != want {
						t.Errorf("db %d SetExpire(%q, %d) = %v, model %v", opDB, k, at, got, want)
					}
				case op < 80:
					counts["get"]++
					want, ok := m.get(opDB, k, now)
					e := otx.Get([]byte(k))
					switch {
					case (e != nil) != ok:
						t.Errorf("db %d Get(%q) = %v, model present %v", opDB, k, e, ok)
					case e != nil && (string(e.Str) != want.val || e.ExpireAt != want.exp):
						t.Errorf("db %d Get(%q) = %q exp %d, model %+v", opDB, k, e.Str, e.ExpireAt, want)
					}
				case op < 90:
					counts["ascend"]++
					limit := 1 + rng.IntN(30)
					want := m.ascend(opDB, k, limit, now)
					var got []string
					otx.Ascend([]byte(k), func(e *Entry) bool {
						got = append(got, e.Key())
						return len(got) < limit
					})
					if !slices.Equal(got, want) {
						t.Errorf("db %d Ascend(%q, %d) = %v, model %v", opDB, k, limit, got, want)
					}
				case op < 94:
					counts["rename"]++
					dst := key()
					e, want := m.get(opDB, k, now)
					if want {
						delete(m.dbs[opDB], k)
						m.dbs[opDB][dst] = e
					}
					if got := otx.Rename([]byte(k), []byte(dst)); got != want {
						t.Errorf("db %d Rename(%q, %q) = %v, model %v", opDB, k, dst, got, want)
					}
				case op < 98:
					counts["copy"]++
					dst, toDB := key(), rng.IntN(dbs)
					e, want := m.get(opDB, k, now)
					if want {
						m.dbs[toDB][dst] = e
					}
					if got := otx.Copy([]byte(k), tx.In(toDB), []byte(dst)); got != want {
						t.Errorf("db %d Copy(%q, db %d %q) = %v, model %v", opDB, k, toDB, dst, got, want)
					}
				default:
					counts["len"]++
					if got, want := otx.Len(), len(m.dbs[opDB]); got != want {
						t.Errorf("db %d Len = %d, model %d", opDB, got, want)
					}
				}
			}
		})
		if t.Failed() {
			t.FailNow()
		}
		if i%50 < n {
			checkIndex(t, s, m, fmt.Sprintf("op %d", i))
		}
	}
	checkIndex(t, s, m, "end")
	if got := expiredBefore + s.Stats().ExpiredKeys; got != int64(m.expired) {
		t.Errorf("the store counted %d lazy expiries, the model %d", got, m.expired)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, dir, dbs)
	checkIndex(t, s, m, "after the final restart")
	counts["expired"] = m.expired
	t.Logf("operations: %v", counts)
	for _, op := range []string{"set", "delete", "setexpire", "get", "ascend", "rename", "copy", "flush", "restart", "expired"} {
		if counts[op] == 0 {
			t.Errorf("operation %s never ran", op)
		}
	}
	total := 0
	for _, db := range m.dbs {
		total += len(db)
	}
	if total == 0 {
		t.Error("the model ended empty: the test checked nothing at the end")
	}
}

// TestStore_RestartPreservesEverything writes keys with values and TTLs
// into all 16 databases, reopens the directory, and finds every key in its
// own database with its value, TTL and version, the expiry index rebuilt,
// and new writes versioned after the old ones.
func TestStore_RestartPreservesEverything(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, 16)
	closeOnCleanup(t, &s)
	const perDB = 50
	exp := time.Now().Add(2 * time.Hour).UnixMilli()
	versions := map[string]Version{}
	for db := range 16 {
		update(t, s, db, func(tx *Tx) {
			for i := range perDB {
				k := fmt.Sprintf("key:%d", i)
				var at int64
				if i%3 == 0 {
					at = exp + int64(db*1000+i)
				}
				e := tx.SetString([]byte(k), []byte(fmt.Sprintf("db%d-val%d", db, i)), at)
				versions[fmt.Sprintf("%d/%s", db, k)] = e.Version
			}
			// The empty key and binary keys are keys too.
			tx.SetString([]byte{}, []byte(fmt.Sprintf("empty-db%d", db)), 0)
			tx.SetString([]byte{0, 0xff, '\n'}, []byte{byte(db), 0}, 0)
		})
	}
	var maxStamp uint64
	update(t, s, 0, func(tx *Tx) { maxStamp = tx.s.mu.clock.last })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTestStore(t, dir, 16)
	for db := range 16 {
		update(t, s, db, func(tx *Tx) {
			if got, want := tx.Len(), perDB+2; got != want {
				t.Errorf("db %d: %d keys after restart, want %d", db, got, want)
			}
			if got, want := tx.ExpiresLen(), (perDB+2)/3; got != want {
				t.Errorf("db %d: %d keys with a TTL after restart, want %d", db, got, want)
			}
			for i := range perDB {
				k := fmt.Sprintf("key:%d", i)
				e := tx.Get([]byte(k))
				if e == nil {
					t.Errorf("db %d: %s missing after restart", db, k)
					continue
				}
				if want := fmt.Sprintf("db%d-val%d", db, i); string(e.Str) != want {
					t.Errorf("db %d: %s = %q, want %q", db, k, e.Str, want)
				}
				var at int64
				if i%3 == 0 {
					at = exp + int64(db*1000+i)
				}
				if e.ExpireAt != at {
					t.Errorf("db %d: %s expires at %d, want %d", db, k, e.ExpireAt, at)
				}
				if v := versions[fmt.Sprintf("%d/%s", db, k)]; e.Version != v {
					t.Errorf("db %d: %s version %v, want %v", db, k, e.Version, v)
				}
			}
			if e := tx.Get([]byte{}); e == nil || string(e.Str) != fmt.Sprintf("empty-db%d", db) {
				t.Errorf("db %d: empty key = %v after restart", db, e)
			}
			if e := tx.Get([]byte{0, 0xff, '\n'}); e == nil || !bytes.Equal(e.Str, []byte{byte(db), 0}) {
				t.Errorf("db %d: binary key = %v after restart", db, e)
			}
		})
	}
	update(t, s, 3, func(tx *Tx) {
		if e := tx.SetString([]byte("new"), []byte("x"), 0); e.Version.Stamp <= maxStamp {
			t.Errorf("a write after restart got version %v, not above the old maximum stamp %d", e.Version, maxStamp)
		}
	})
}

// fillAllDBs writes n keys, spread over many hash slots, into every
// database; the value names the database.
func fillAllDBs(t testing.TB, s *Store, n int) {
	t.Helper()
	for db := range s.Databases() {
		update(t, s, db, func(tx *Tx) {
			for i := range n {
				tx.SetString([]byte(fmt.Sprintf("key:%d", i)), []byte(fmt.Sprintf("db%d", db)), 0)
			}
		})
	}
}

// checkDBs checks that each database holds its n keys with its own values,
// or nothing when empty(db).
func checkDBs(t testing.TB, s *Store, n int, empty func(db int) bool, when string) {
	t.Helper()
	for db := range s.Databases() {
		update(t, s, db, func(tx *Tx) {
			if empty(db) {
				if tx.Len() != 0 || tx.ExpiresLen() != 0 {
					t.Errorf("%s: db %d holds %d keys, want none", when, db, tx.Len())
				}
				return
			}
			if tx.Len() != n {
				t.Errorf("%s: db %d holds %d keys, want %d", when, db, tx.Len(), n)
			}
			for i := range n {
				e := tx.Get([]byte(fmt.Sprintf("key:%d", i)))
				if e == nil || string(e.Str) != fmt.Sprintf("db%d", db) {
					t.Errorf("%s: db %d key:%d = %v", when, db, i, e)
					return
				}
			}
		})
	}
}

// TestStore_FlushOneDatabase: FLUSHDB is a range deletion per hash slot in
// Pebble, so it must cover exactly its database, before and after a
// restart (the deletion is replayed from disk). db 255 is the edge where
// the range ends at the next slot.
func TestStore_FlushOneDatabase(t *testing.T) {
	for _, tc := range []struct {
		dbs     int
		flushed []int
	}{
		{16, []int{5}},
		{16, []int{0, 15}},
		{256, []int{255}},
	} {
		t.Run(fmt.Sprintf("dbs%d-flush%v", tc.dbs, tc.flushed), func(t *testing.T) {
			n := 300
			if tc.dbs > 16 {
				n = 40
			}
			dir := t.TempDir()
			s := openTestStore(t, dir, tc.dbs)
			closeOnCleanup(t, &s)
			fillAllDBs(t, s, n)
			for _, db := range tc.flushed {
				update(t, s, db, func(tx *Tx) { tx.Flush() })
			}
			empty := func(db int) bool { return slices.Contains(tc.flushed, db) }
			checkDBs(t, s, n, empty, "after flush")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openTestStore(t, dir, tc.dbs)
			checkDBs(t, s, n, empty, "after restart")
			// A flushed database takes new keys that survive another restart.
			update(t, s, tc.flushed[0], func(tx *Tx) { tx.SetString([]byte("after"), []byte("flush"), 0) })
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openTestStore(t, dir, tc.dbs)
			update(t, s, tc.flushed[0], func(tx *Tx) {
				if e := tx.Get([]byte("after")); e == nil || string(e.Str) != "flush" || tx.Len() != 1 {
					t.Errorf("write after flush: %v, %d keys", e, tx.Len())
				}
			})
		})
	}
}

// TestStore_FlushAll empties every database, durably.
func TestStore_FlushAll(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, 16)
	closeOnCleanup(t, &s)
	fillAllDBs(t, s, 20)
	update(t, s, 7, func(tx *Tx) { tx.FlushAll() })
	all := func(int) bool { return true }
	checkDBs(t, s, 20, all, "after flushall")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, dir, 16)
	checkDBs(t, s, 20, all, "after restart")
}

// TestStore_ActiveExpiry: keys whose TTL passed disappear from the index,
// the expiry index and Stats without any lookup, and count as expired.
func TestStore_ActiveExpiry(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), ExpireInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	update(t, s, 2, func(tx *Tx) {
		for i := range 1500 { // more than one expireBatch
			tx.SetString([]byte(fmt.Sprintf("short:%d", i)), []byte("x"), tx.Now()+500)
		}
		tx.SetString([]byte("long"), []byte("x"), tx.Now()+int64(time.Hour/time.Millisecond))
		tx.SetString([]byte("forever"), []byte("x"), 0)
	})
	if st := s.Stats(); st.Keys[2] != 1502 || st.Expires[2] != 1501 {
		t.Fatalf("before expiry: %d keys, %d with TTL", st.Keys[2], st.Expires[2])
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := s.Stats()
		if st.Keys[2] == 2 && st.Expires[2] == 1 {
			if st.ExpiredKeys != 1500 {
				t.Errorf("expired_keys = %d, want 1500", st.ExpiredKeys)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("active expiry left %d keys, %d with TTL", st.Keys[2], st.Expires[2])
		}
		time.Sleep(10 * time.Millisecond)
	}
	var left []string
	update(t, s, 2, func(tx *Tx) {
		tx.Ascend(nil, func(e *Entry) bool { left = append(left, e.Key()); return true })
	})
	if strings.Join(left, ",") != "forever,long" {
		t.Errorf("left after expiry: %v", left)
	}
}
