package store

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var replSeed = flag.Uint64("store.replseed", 0, "seed of the replication tests (0: time-based, logged)")

// testRand returns a generator seeded from -store.replseed or the clock,
// and logs the seed so a failing run can be repeated.
func testRand(t testing.TB) *rand.Rand {
	seed := *replSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -store.replseed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// openReplica opens a two-database store with tombstones on, as cluster
// mode runs it. The caller closes it.
func openReplica(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, Databases: 2, Tombstones: true})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return s
}

// virtualNow is a test clock a month ahead of the wall clock. The store's
// background expiry and tombstone collection read the wall clock, so they
// never touch keys whose times come from this clock: keys expire only where
// a test's Update runs at a later virtual time.
func virtualNow() int64 { return time.Now().UnixMilli() + 30*24*hourMs }

// replicate runs fn on s as the primary holding ballot and returns the
// changes it handed to the sink, after a trip through the wire encoding.
func replicate(t testing.TB, s *Store, db int, now int64, ballot uint64, fn func(tx *Tx)) []Change {
	t.Helper()
	var wire []byte
	n := 0
	tk, err := s.Replicate(db, now, ballot, fn, func(_ *Tx, cs []Change) {
		n += len(cs)
		for i := range cs {
			wire = AppendChange(wire, &cs[i])
		}
	})
	must(t, err)
	must(t, s.Acknowledge(tk))
	var out []Change
	for len(wire) > 0 {
		c, rest, err := DecodeChange(wire)
		if err != nil {
			t.Fatalf("decoding change %d: %v", len(out), err)
		}
		out = append(out, c)
		wire = rest
	}
	if len(out) != n {
		t.Fatalf("decoded %d changes, sink got %d", len(out), n)
	}
	return out
}

// install installs cs on s, sent by a primary holding ballot from, and
// acknowledges the writes.
func install(t testing.TB, s *Store, cs []Change, from Ballot, fence bool, now int64) []Applied {
	t.Helper()
	out, tk, err := s.Install(cs, from, fence, now)
	must(t, err)
	must(t, s.Acknowledge(tk))
	if len(out) != len(cs) {
		t.Fatalf("Install returned %d results for %d changes", len(out), len(cs))
	}
	return out
}

// appliedNames names the outcomes of Install in failure messages.
var appliedNames = map[Applied]string{Installed: "Installed", Stale: "Stale", Gap: "Gap", Fenced: "Fenced"}

// stateString prints every field of st, so that two states print the same
// exactly when they are equal (nil and empty byte slices alike).
func stateString(st State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v=%v deleted=%v %v exp=%d str=%q", st.Version, st.Deleted, st.Type, st.ExpireAt, st.Str)
	for _, m := range st.Members {
		fmt.Fprintf(&b, " %q=%g", m.Name, m.Score)
	}
	return b.String()
}

func changeString(c *Change) string {
	return fmt.Sprintf("db=%d key=%q delta=%v prev=%v removed=%q %s", c.DB, c.Key, c.Delta, c.Prev, c.Removed, stateString(c.State))
}

// fullChange turns key's state on s into a Change carrying the whole state,
// as a repair sends it.
func fullChange(s *Store, db int, key string) Change {
	return Change{DB: db, Key: []byte(key), State: s.KeyState(db, []byte(key))}
}

var allSlots = func() []uint16 {
	out := make([]uint16, SlotCount)
	for i := range out {
		out[i] = uint16(i)
	}
	return out
}()

// recordsString lists a slot's records in database db as SlotRecords gives them.
func recordsString(t testing.TB, s *Store, db int, slot uint16) string {
	t.Helper()
	var b strings.Builder
	err := s.SlotRecords(db, slot, func(r Record) bool {
		fmt.Fprintf(&b, "%q v=%v deleted=%v %v exp=%d; ", r.Key, r.Version, r.Deleted, r.Type, r.ExpireAt)
		return true
	})
	must(t, err)
	return b.String()
}

// checkReplicas fails the test unless a and b hold the same state of every
// key in both databases, the same records on disk for the keys' slots, and
// the same slot digests and counts.
func checkReplicas(t testing.TB, a, b *Store, keys []string, when string) {
	t.Helper()
	slots := map[uint16]bool{}
	for db := range 2 {
		for _, k := range keys {
			slots[KeySlot([]byte(k))] = true
			if sa, sb := stateString(a.KeyState(db, []byte(k))), stateString(b.KeyState(db, []byte(k))); sa != sb {
				t.Errorf("%s: db %d key %q:\n  primary %s\n  replica %s", when, db, k, sa, sb)
			}
		}
		for slot := range slots {
			if ra, rb := recordsString(t, a, db, slot), recordsString(t, b, db, slot); ra != rb {
				t.Errorf("%s: db %d slot %d records:\n  primary %s\n  replica %s", when, db, slot, ra, rb)
			}
		}
	}
	digA, digB := a.SlotDigests(allSlots), b.SlotDigests(allSlots)
	for i := range digA {
		if digA[i] != digB[i] {
			t.Errorf("%s: slot %d digest: primary %x, replica %x", when, i, digA[i], digB[i])
		}
	}
	for slot := range slots {
		if ca, cb := a.SlotCount(slot), b.SlotCount(slot); ca != cb {
			t.Errorf("%s: slot %d count: primary %d, replica %d", when, slot, ca, cb)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// checkTombstoneIndex fails unless no key is both live and a tombstone.
func checkTombstoneIndex(t testing.TB, s *Store) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for db := range s.mu.dbs {
		for k := range s.mu.dbs[db].tombs {
			if _, ok := s.mu.dbs[db].entries[k]; ok {
				t.Errorf("db %d key %q is live and a tombstone", db, k)
			}
		}
	}
}

// replKeys are few, so operations collide; the {z} keys share a slot.
var replKeys = []string{"a", "b", "c", "{z}1", "{z}2", "{z}3"}

// replOp makes one random write through tx as a command would (it never
// runs a sorted-set operation on a string), with TTLs of a few tens of
// milliseconds so that keys expire often as the virtual clock moves.
func replOp(rng *rand.Rand, tx *Tx, keys []string) {
	key := []byte(keys[rng.IntN(len(keys))])
	other := []byte(keys[rng.IntN(len(keys))])
	member := []byte(fmt.Sprintf("m%d", rng.IntN(4)))
	switch rng.IntN(12) {
	case 0, 1:
		var at int64
		if rng.IntN(3) == 0 {
			at = tx.Now() + 1 + rng.Int64N(40)
		}
		tx.SetString(key, []byte(fmt.Sprintf("v%d", rng.IntN(1000))), at)
	case 2:
		var at int64
		if rng.IntN(4) != 0 {
			at = tx.Now() - 5 + rng.Int64N(45) // sometimes past: a deletion
		}
		tx.SetExpire(key, at)
	case 3:
		tx.Delete(key)
	case 4, 5, 6:
		if e := tx.Get(key); e == nil || e.Type == TypeZSet {
			tx.ZAdd(key, member, float64(rng.IntN(9)-4))
		}
	case 7, 8:
		tx.ZRem(key, member)
	case 9:
		tx.Rename(key, other)
	case 10:
		tx.Copy(key, tx.In(rng.IntN(2)), other)
	case 11:
		tx.Get(key) // expires the key if its time has come
	}
}

// A replica that installs, in order, every change a primary's Replicate
// hands out (through the wire encoding) holds exactly the primary's state:
// the same version and value of every key and tombstone, the same records
// on disk and the same slot digests, also across restarts of either side.
func TestReplicate_ReplicaConverges(t *testing.T) {
	rng := testRand(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	a, b := openReplica(t, dirA), openReplica(t, dirB)
	closeOnCleanup(t, &a)
	closeOnCleanup(t, &b)

	const steps = 1500
	now, ballot := virtualNow(), uint64(1)
	kinds := map[string]int{}
	for step := range steps {
		switch step {
		case steps / 4, steps / 2:
			must(t, b.Close())
			b = openReplica(t, dirB)
			checkReplicas(t, a, b, replKeys, fmt.Sprintf("replica restarted at step %d", step))
		case 3 * steps / 4:
			must(t, a.Close())
			a = openReplica(t, dirA)
			checkReplicas(t, a, b, replKeys, fmt.Sprintf("primary restarted at step %d", step))
		}
		now += rng.Int64N(8)
		if rng.IntN(100) == 0 {
			ballot++
		}
		cs := replicate(t, a, rng.IntN(2), now, ballot, func(tx *Tx) {
			for range 1 + rng.IntN(3) {
				replOp(rng, tx, replKeys)
			}
		})
		for i := range cs {
			c := &cs[i]
			cur := b.KeyState(c.DB, c.Key)
			expiry := c.Deleted && c.Version == cur.Version // keeps the expired key's version
			if c.Version.Ballot != ballot && !expiry {
				t.Fatalf("step %d: change %s has ballot %d, want %d", step, changeString(c), c.Version.Ballot, ballot)
			}
			switch {
			case c.Delta:
				kinds["delta"]++
				if c.Prev != cur.Version {
					t.Fatalf("step %d: delta %s based on %v, replica holds %v", step, changeString(c), c.Prev, cur.Version)
				}
			case expiry:
				kinds["expiry tombstone"]++
			case c.Deleted:
				kinds["tombstone"]++
			default:
				kinds[c.Type.String()]++
			}
		}
		for i, got := range install(t, b, cs, Ballot{ballot, "a"}, true, now) {
			if got != Installed {
				t.Fatalf("step %d: installing %s: %s", step, changeString(&cs[i]), appliedNames[got])
			}
		}
		if step%50 == 0 {
			checkReplicas(t, a, b, replKeys, fmt.Sprintf("step %d", step))
		} else {
			for _, k := range replKeys {
				if sa, sb := stateString(a.KeyState(0, []byte(k))), stateString(b.KeyState(0, []byte(k))); sa != sb {
					t.Fatalf("step %d: key %q:\n  primary %s\n  replica %s", step, k, sa, sb)
				}
			}
		}
	}
	checkReplicas(t, a, b, replKeys, "at the end")
	must(t, b.Close())
	b = openReplica(t, dirB)
	checkReplicas(t, a, b, replKeys, "replica restarted at the end")
	checkTombstoneIndex(t, a)
	checkTombstoneIndex(t, b)
	t.Logf("changes installed: %v", kinds)
	for _, k := range []string{"delta", "expiry tombstone", "tombstone", "string", "zset"} {
		if kinds[k] < 10 {
			t.Errorf("only %d changes of kind %q: the operations do not exercise it", kinds[k], k)
		}
	}
}

// zChanges makes a sorted set on a primary and returns, in order, the
// change creating it and three deltas.
func zChanges(t *testing.T, a *Store, now int64) []Change {
	t.Helper()
	var out []Change
	for i, fn := range []func(tx *Tx){
		func(tx *Tx) { tx.ZAdd([]byte("z"), []byte("m1"), 1) },
		func(tx *Tx) { tx.ZAdd([]byte("z"), []byte("m2"), 2) },
		func(tx *Tx) { tx.ZAdd([]byte("z"), []byte("m3"), 3); tx.ZAdd([]byte("z"), []byte("m1"), 10) },
		func(tx *Tx) { tx.ZRem([]byte("z"), []byte("m2")) },
	} {
		cs := replicate(t, a, 0, now+int64(i), 1, fn)
		if len(cs) != 1 || cs[0].Delta != (i > 0) {
			t.Fatalf("write %d of z gave %d changes, first %s", i, len(cs), changeString(&cs[0]))
		}
		out = append(out, cs[0])
	}
	return out
}

// Install takes a change only when it is newer than the key's version and,
// for a delta, only on top of the version it was made from; a full state
// repairs any gap.
func TestInstall_OrderAndStaleness(t *testing.T) {
	pair := func(t *testing.T) (a, b *Store) {
		a, b = openReplica(t, t.TempDir()), openReplica(t, t.TempDir())
		t.Cleanup(func() { a.Close(); b.Close() })
		return a, b
	}
	expect := func(t *testing.T, b *Store, c Change, want Applied) {
		t.Helper()
		if got := install(t, b, []Change{c}, Ballot{}, false, virtualNow())[0]; got != want {
			t.Fatalf("installing %s: %s, want %s", changeString(&c), appliedNames[got], appliedNames[want])
		}
	}
	same := func(t *testing.T, a, b *Store, key string) {
		t.Helper()
		if sa, sb := stateString(a.KeyState(0, []byte(key))), stateString(b.KeyState(0, []byte(key))); sa != sb {
			t.Fatalf("key %q:\n  primary %s\n  replica %s", key, sa, sb)
		}
	}

	t.Run("deltas out of order are gaps", func(t *testing.T) {
		a, b := pair(t)
		cs := zChanges(t, a, virtualNow())
		expect(t, b, cs[0], Installed)
		expect(t, b, cs[2], Gap)
		expect(t, b, cs[3], Gap)
		expect(t, b, cs[1], Installed)
		expect(t, b, cs[3], Gap)
		expect(t, b, cs[2], Installed)
		expect(t, b, cs[3], Installed)
		same(t, a, b, "z")
	})
	t.Run("the full state repairs a gap", func(t *testing.T) {
		a, b := pair(t)
		cs := zChanges(t, a, virtualNow())
		expect(t, b, cs[0], Installed)
		expect(t, b, cs[2], Gap)
		expect(t, b, fullChange(a, 0, "z"), Installed)
		same(t, a, b, "z")
		for i := 1; i < len(cs); i++ {
			expect(t, b, cs[i], Stale)
		}
		same(t, a, b, "z")
	})
	t.Run("a delta without its base is a gap", func(t *testing.T) {
		a, b := pair(t)
		cs := zChanges(t, a, virtualNow())
		expect(t, b, cs[1], Gap) // the key does not exist
		str := cs[0]
		str.Type, str.Members, str.Str = TypeString, nil, []byte("s")
		expect(t, b, str, Installed)
		d := cs[1]
		d.Prev = str.Version // the base version, but a string
		expect(t, b, d, Gap)
		if st := b.KeyState(0, []byte("z")); st.Type != TypeString || string(st.Str) != "s" {
			t.Fatalf("a refused delta changed the key: %s", stateString(st))
		}
	})
	t.Run("duplicates are stale", func(t *testing.T) {
		a, b := pair(t)
		cs := zChanges(t, a, virtualNow())
		for _, c := range cs {
			expect(t, b, c, Installed)
			expect(t, b, c, Stale)
		}
		expect(t, b, cs[0], Stale)
		expect(t, b, fullChange(a, 0, "z"), Stale)
		del := replicate(t, a, 0, virtualNow(), 1, func(tx *Tx) { tx.Delete([]byte("z")) })
		expect(t, b, del[0], Installed)
		expect(t, b, del[0], Stale)
		expect(t, b, fullChange(a, 0, "z"), Stale)
		same(t, a, b, "z")
	})
	t.Run("an expiry tombstone wins at equal version", func(t *testing.T) {
		a, b := pair(t)
		now := virtualNow()
		set := replicate(t, a, 0, now, 1, func(tx *Tx) { tx.SetString([]byte("e"), []byte("v"), now+10) })
		expect(t, b, set[0], Installed)
		exp := replicate(t, a, 0, now+20, 1, func(tx *Tx) {
			if tx.Get([]byte("e")) != nil {
				t.Error("key not expired")
			}
		})
		if len(exp) != 1 || !exp[0].Deleted || exp[0].Version != set[0].Version {
			t.Fatalf("expiry gave %d changes, first %s; want a tombstone of version %v", len(exp), changeString(&exp[0]), set[0].Version)
		}
		expect(t, b, exp[0], Installed)
		same(t, a, b, "e")
		expect(t, b, set[0], Stale) // the live key does not come back
		expect(t, b, exp[0], Stale)
		same(t, a, b, "e")
		if n := b.SlotCount(KeySlot([]byte("e"))); n != 0 {
			t.Errorf("slot of the expired key counts %d keys", n)
		}
	})
	t.Run("a newer ballot wins over a later stamp", func(t *testing.T) {
		a, b := pair(t)
		now := virtualNow()
		newer := replicate(t, a, 0, now, 2, func(tx *Tx) { tx.SetString([]byte("k"), []byte("new"), 0) })
		expect(t, b, newer[0], Installed)
		older := newer[0]
		older.Version = Version{Ballot: 1, Stamp: newer[0].Version.Stamp + 1000}
		older.Str = []byte("old")
		expect(t, b, older, Stale)
		same(t, a, b, "k")
	})
	t.Run("a delta emptying the set deletes it", func(t *testing.T) {
		a := openReplica(t, t.TempDir())
		defer a.Close()
		dir := t.TempDir()
		b := openReplica(t, dir)
		closeOnCleanup(t, &b)
		cs := zChanges(t, a, virtualNow())
		expect(t, b, cs[0], Installed)
		d := cs[1]
		d.Members, d.Removed = nil, [][]byte{[]byte("m1")}
		expect(t, b, d, Installed)
		if st := b.KeyState(0, []byte("z")); !st.Deleted || st.Version != d.Version {
			t.Fatalf("state after removing the last member: %s", stateString(st))
		}
		must(t, b.Close())
		b = openReplica(t, dir) // an empty set on disk would make Open fail
		if st := b.KeyState(0, []byte("z")); !st.Deleted {
			t.Fatalf("state after restart: %s", stateString(st))
		}
	})
	t.Run("changes to other databases", func(t *testing.T) {
		a, b := pair(t)
		cs := replicate(t, a, 1, virtualNow(), 1, func(tx *Tx) {
			tx.SetString([]byte("k"), []byte("v"), 0)
			tx.Copy([]byte("k"), tx.In(0), []byte("k"))
		})
		if len(cs) != 2 || cs[0].DB != 1 || cs[1].DB != 0 {
			t.Fatalf("changes %v", cs)
		}
		install(t, b, cs, Ballot{1, "a"}, true, virtualNow())
		checkReplicas(t, a, b, []string{"k"}, "after a copy between databases")
		bad := cs[0]
		bad.DB = 2 // b has two databases
		bad.Version.Stamp++
		expect(t, b, bad, Stale)
	})
}

// The slot digest kept up to date write by write equals the digest
// recomputed from the records on disk and the one rebuilt at Open, and
// slot counts match, through every kind of write, expiry, flush and
// install, with tombstones on or off.
func TestSlotIndex_MatchesRecords(t *testing.T) {
	keys := make([]string, 0, 60)
	for i := range 40 {
		keys = append(keys, fmt.Sprintf("k%d", i))
	}
	for i := range 20 {
		keys = append(keys, fmt.Sprintf("{tag}%d", i))
	}
	for _, tombstones := range []bool{true, false} {
		t.Run(fmt.Sprintf("tombstones=%v", tombstones), func(t *testing.T) {
			rng := testRand(t)
			dir := t.TempDir()
			open := func() *Store {
				s, err := Open(Options{Dir: dir, Databases: 2, Tombstones: tombstones})
				must(t, err)
				return s
			}
			s := open()
			closeOnCleanup(t, &s)
			src := openReplica(t, t.TempDir()) // a primary whose changes s installs
			defer src.Close()
			now := virtualNow()
			check := func(when string) {
				t.Helper()
				want := make([]uint64, SlotCount)
				wantCount := make([]int, SlotCount)
				done := map[uint16]bool{}
				for _, k := range keys {
					slot := KeySlot([]byte(k))
					if done[slot] {
						continue
					}
					done[slot] = true
					must(t, s.SlotRecords(0, slot, func(r Record) bool {
						if !r.Deleted {
							want[slot] ^= entryHash(string(r.Key), r.Version)
							wantCount[slot]++
						}
						return true
					}))
				}
				got := s.SlotDigests(allSlots)
				nonZero := 0
				for slot := range got {
					if got[slot] != want[slot] {
						t.Fatalf("%s: slot %d digest %x, recomputed %x", when, slot, got[slot], want[slot])
					}
					if n := s.SlotCount(uint16(slot)); n != wantCount[slot] {
						t.Fatalf("%s: slot %d count %d, records %d", when, slot, n, wantCount[slot])
					}
					if got[slot] != 0 {
						nonZero++
					}
				}
				if nonZero < 10 {
					t.Fatalf("%s: only %d slots have keys", when, nonZero)
				}
			}
			for step := range 3000 {
				now += rng.Int64N(3)
				db := rng.IntN(2)
				switch r := rng.IntN(10); {
				case step == 1200 || step == 1700:
					update(t, s, 0, func(tx *Tx) { tx.In(step / 1000).Flush() }) // db 1, then db 0
				case r == 0:
					cs := replicate(t, src, db, now, 0, func(tx *Tx) { replOp(rng, tx, keys) })
					install(t, s, cs, Ballot{}, false, now)
				default:
					_, err := s.UpdateAt(db, now, func(tx *Tx) {
						for range 1 + rng.IntN(3) {
							replOp(rng, tx, keys)
						}
					})
					must(t, err)
				}
				if step%500 == 499 {
					check(fmt.Sprintf("step %d", step))
				}
			}
			before := s.SlotDigests(allSlots)
			must(t, s.Close())
			s = open()
			if !slices.Equal(before, s.SlotDigests(allSlots)) {
				t.Fatal("digests rebuilt at Open differ from the ones kept up to date")
			}
			check("after restart")
		})
	}
}

// SlotRecords lists a slot's live keys and tombstones in key order, with
// their versions, types and expiries, and nothing from other slots or
// databases; it sees writes not yet acknowledged.
func TestSlotRecords_ListsKeysAndTombstones(t *testing.T) {
	s := openReplica(t, t.TempDir())
	defer s.Close()
	now := virtualNow()
	v := map[string]Version{}
	_, err := s.UpdateAt(0, now, func(tx *Tx) {
		v["{s}str"] = tx.SetString([]byte("{s}str"), []byte("x"), now+hourMs).Version
		tx.ZAdd([]byte("{s}z"), []byte("m"), 1)
		v["{s}z"] = tx.KeyVersion([]byte("{s}z"))
		tx.SetString([]byte("{s}gone"), []byte("x"), 0)
		tx.Delete([]byte("{s}gone"))
		v["{s}gone"] = tx.KeyVersion([]byte("{s}gone"))
		tx.SetString([]byte("other"), []byte("x"), 0)
		tx.In(1).SetString([]byte("{s}db1"), []byte("x"), 0)
	})
	must(t, err)
	slot := KeySlot([]byte("{s}"))
	if KeySlot([]byte("other")) == slot {
		t.Fatal("test keys share a slot")
	}
	want := fmt.Sprintf(`"{s}gone" v=%v deleted=true none exp=0; `, v["{s}gone"]) +
		fmt.Sprintf(`"{s}str" v=%v deleted=false string exp=%d; `, v["{s}str"], now+hourMs) +
		fmt.Sprintf(`"{s}z" v=%v deleted=false zset exp=0; `, v["{s}z"])
	if got := recordsString(t, s, 0, slot); got != want {
		t.Errorf("slot %d records:\n got %s\nwant %s", slot, got, want)
	}
	if got := recordsString(t, s, 1, slot); !strings.HasPrefix(got, `"{s}db1" `) || strings.Count(got, ";") != 1 {
		t.Errorf("db 1 slot %d records: %s", slot, got)
	}
	n := 0
	must(t, s.SlotRecords(0, slot, func(Record) bool { n++; return false }))
	if n != 1 {
		t.Errorf("SlotRecords went on after fn returned false: %d calls", n)
	}
}

func TestVersion_Less(t *testing.T) {
	for _, tc := range []struct {
		a, b Version
		want bool
	}{
		{Version{0, 1}, Version{0, 2}, true},
		{Version{0, 2}, Version{0, 1}, false},
		{Version{0, 1}, Version{0, 1}, false},
		{Version{1, 1}, Version{2, 0}, true},
		{Version{2, 0}, Version{1, math.MaxUint64}, false},
		{Version{}, Version{0, 1}, true},
	} {
		if got := tc.a.Less(tc.b); got != tc.want {
			t.Errorf("%v.Less(%v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestHLC_Next(t *testing.T) {
	var c hlc
	const ms = int64(1_700_000_000_000)
	a := c.next(ms)
	if (Version{Stamp: a}).Millis() != ms {
		t.Errorf("stamp %d has millis %d, want %d", a, Version{Stamp: a}.Millis(), ms)
	}
	b := c.next(ms)
	if b != a+1 {
		t.Errorf("second stamp in one millisecond %d, want %d", b, a+1)
	}
	if d := c.next(ms - 1000); d != b+1 {
		t.Errorf("stamp after the wall clock went back %d, want %d", d, b+1)
	}
	c.observe(uint64(ms+5000) << logicalBits)
	if d := c.next(ms); d != uint64(ms+5000)<<logicalBits+1 {
		t.Errorf("stamp after observing a later one %d", d)
	}
	if d := c.next(ms + 10000); d != uint64(ms+10000)<<logicalBits {
		t.Errorf("stamp when the wall clock is ahead %d, want its millisecond", d)
	}
}

// randomChange makes a valid Change of any kind, with binary and empty
// names and extreme numbers.
func randomChange(rng *rand.Rand) Change {
	bs := func(n int) []byte {
		b := make([]byte, rng.IntN(n+1))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	scores := []float64{0, math.Copysign(0, -1), 1.5, -3, math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64}
	members := func(n int) []Member {
		ms := make([]Member, n)
		for i := range ms {
			ms[i] = Member{bs(12), scores[rng.IntN(len(scores))]}
			if rng.IntN(2) == 0 {
				ms[i].Score = rng.NormFloat64() * 1e6
			}
		}
		return ms
	}
	c := Change{DB: rng.IntN(256), Key: bs(20)}
	c.Version = Version{rng.Uint64(), rng.Uint64()}
	switch rng.IntN(4) {
	case 0:
		c.Deleted = true
	case 1:
		c.Type, c.Str, c.ExpireAt = TypeString, bs(300), rng.Int64()-rng.Int64()
	case 2:
		c.Type, c.Members = TypeZSet, members(1+rng.IntN(5))
	case 3:
		c.Type, c.Delta, c.ExpireAt = TypeZSet, true, rng.Int64()
		c.Prev = Version{rng.Uint64(), rng.Uint64()}
		c.Members = members(rng.IntN(4))
		for range rng.IntN(4) {
			c.Removed = append(c.Removed, bs(12))
		}
	}
	return c
}

// DecodeChange reads back what AppendChange wrote, change after change in
// one buffer, and refuses every truncation of it.
func TestChangeEncoding_RoundTrip(t *testing.T) {
	rng := testRand(t)
	var buf []byte
	var want []Change
	for range 300 {
		c := randomChange(rng)
		want = append(want, c)
		one := AppendChange(nil, &c)
		for n := range len(one) {
			if _, _, err := DecodeChange(one[:n]); err == nil {
				t.Fatalf("%d of %d bytes of %s decoded", n, len(one), changeString(&c))
			}
		}
		buf = AppendChange(buf, &c)
	}
	for i := range want {
		c, rest, err := DecodeChange(buf)
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		if got, w := changeString(&c), changeString(&want[i]); got != w {
			t.Fatalf("change %d:\n got %s\nwant %s", i, got, w)
		}
		buf = rest
	}
	if len(buf) != 0 {
		t.Fatalf("%d bytes left over", len(buf))
	}
}

// DecodeChange refuses encodings no primary makes.
func TestDecodeChange_Rejects(t *testing.T) {
	valid := Change{Key: []byte("k"), State: State{Version: Version{1, 2}, Type: TypeString, Str: []byte("v")}}
	enc := func(c Change) []byte { return AppendChange(nil, &c) }
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"db above 255", enc(Change{DB: 256, Key: []byte("k"), State: valid.State})},
		{"db beyond int", append(binary.AppendUvarint(nil, 1<<63), enc(valid)[1:]...)},
		{"db varint overflow", append(bytes.Repeat([]byte{0xff}, 10), enc(valid)[1:]...)},
		{"key longer than the input", append([]byte{0, 0xff, 0xff, 0xff, 0xff, 0x0f}, enc(valid)[3:]...)},
		{"live key of no type", enc(Change{Key: []byte("k"), State: State{Version: Version{1, 2}}})},
		{"live key of unknown type", enc(Change{Key: []byte("k"), State: State{Version: Version{1, 2}, Type: 9}})},
		{"NaN score", enc(Change{Key: []byte("k"), State: State{Type: TypeZSet, Members: []Member{{[]byte("m"), math.NaN()}}}})},
		{"sorted set without members", enc(Change{Key: []byte("k"), State: State{Version: Version{1, 2}, Type: TypeZSet}})},
		{"member count beyond the input", append(enc(valid)[:len(enc(valid))-2], 0xff, 0xff, 0xff, 0xff, 0x0f, 0)},
		{"removed count beyond the input", append(enc(valid)[:len(enc(valid))-1], 0xff, 0xff, 0xff, 0xff, 0x0f)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, rest, err := DecodeChange(tc.in)
			if err == nil {
				t.Fatalf("decoded %s, %d bytes left", changeString(&c), len(rest))
			}
		})
	}
	if _, rest, err := DecodeChange(enc(valid)); err != nil || len(rest) != 0 {
		t.Fatalf("the valid change: %v, %d bytes left", err, len(rest))
	}
	// A delta names only the changed members, so it may have none (a new TTL).
	d := Change{Key: []byte("k"), Delta: true, State: State{Version: Version{1, 2}, Type: TypeZSet}}
	if _, _, err := DecodeChange(enc(d)); err != nil {
		t.Fatalf("delta without members: %v", err)
	}
}

// FuzzDecodeChange: any input decodes to an error or to a Change that
// encodes and decodes to itself, and the rest returned is a suffix of the
// input; it never panics. The seeds run in every go test.
func FuzzDecodeChange(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		c := randomChange(rng)
		b := AppendChange(nil, &c)
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(append(b, 0, 1, 2))
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add(bytes.Repeat([]byte{0x80}, 40))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, rest, err := DecodeChange(b)
		if err != nil {
			if rest != nil {
				t.Fatalf("error %v with %d bytes of rest", err, len(rest))
			}
			return
		}
		if len(rest) > len(b) || !bytes.Equal(rest, b[len(b)-len(rest):]) {
			t.Fatalf("rest %x is not a suffix of the input %x", rest, b)
		}
		again := AppendChange(nil, &c)
		c2, rest2, err := DecodeChange(again)
		if err != nil || len(rest2) != 0 {
			t.Fatalf("re-encoding of %s: %v, %d bytes left", changeString(&c), err, len(rest2))
		}
		if got, want := changeString(&c2), changeString(&c); got != want {
			t.Fatalf("re-decoded\n %s\nwant %s", got, want)
		}
	})
}
