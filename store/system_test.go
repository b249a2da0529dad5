package store

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// promise asks s for one ballot on slot and returns what s promised after.
func promise(t testing.TB, s *Store, slot uint16, b Ballot) Ballot {
	t.Helper()
	got, err := s.Promise([]SlotBallot{{slot, b}})
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("Promise returned %d ballots for one", len(got))
	}
	if p := s.Promised(slot); p != got[0] {
		t.Fatalf("Promise returned %v, Promised says %v", got[0], p)
	}
	return got[0]
}

// A replica promises a slot to newer ballots only, and each N to one node.
func TestPromise_Rules(t *testing.T) {
	s := openReplica(t, t.TempDir())
	defer s.Close()
	const slot = 1234
	for i, tc := range []struct {
		name string
		ask  Ballot
		want Ballot
	}{
		{"first ballot", Ballot{5, "x"}, Ballot{5, "x"}},
		{"same N from another node", Ballot{5, "y"}, Ballot{5, "x"}},
		{"older N", Ballot{4, "y"}, Ballot{5, "x"}},
		{"the same ballot again", Ballot{5, "x"}, Ballot{5, "x"}},
		{"newer N from another node", Ballot{6, "y"}, Ballot{6, "y"}},
		{"the old holder's ballot", Ballot{5, "x"}, Ballot{6, "y"}},
		{"a much newer N", Ballot{1 << 60, "x"}, Ballot{1 << 60, "x"}},
	} {
		if got := promise(t, s, slot, tc.ask); got != tc.want {
			t.Errorf("step %d, %s: asked %v, promised %v, want %v", i, tc.name, tc.ask, got, tc.want)
		}
	}
	if p := s.Promised(slot + 1); p != (Ballot{}) {
		t.Errorf("a neighbouring slot is promised %v", p)
	}

	got, err := s.Promise([]SlotBallot{{1, Ballot{7, "x"}}, {2, Ballot{1, "z"}}, {1, Ballot{7, "q"}}, {slot, Ballot{9, "q"}}})
	must(t, err)
	want := []Ballot{{7, "x"}, {1, "z"}, {7, "x"}, {1 << 60, "x"}}
	if !slices.Equal(got, want) {
		t.Errorf("one Promise over several slots: %v, want %v", got, want)
	}
}

// Promises are system records: a restart and FLUSHALL keep them.
func TestPromise_SurvivesRestartAndFlushAll(t *testing.T) {
	dir := t.TempDir()
	s := openReplica(t, dir)
	closeOnCleanup(t, &s)
	promised := map[uint16]Ballot{0: {3, "a"}, 77: {12, "node-with-a-longer-id"}, SlotCount - 1: {1, "b"}}
	for slot, b := range promised {
		promise(t, s, slot, b)
	}
	update(t, s, 0, func(tx *Tx) { tx.SetString([]byte("k"), []byte("v"), 0) })
	update(t, s, 0, func(tx *Tx) { tx.FlushAll() })
	check := func(when string) {
		t.Helper()
		for slot := range SlotCount {
			if got, want := s.Promised(uint16(slot)), promised[uint16(slot)]; got != want {
				t.Errorf("%s: slot %d promised %v, want %v", when, slot, got, want)
			}
		}
	}
	check("after FLUSHALL")
	must(t, s.Close())
	s = openReplica(t, dir)
	check("after restart")
	if got := promise(t, s, 77, Ballot{12, "c"}); got != promised[77] {
		t.Errorf("after restart the same N went to another node: %v", got)
	}
	if st := s.KeyState(0, []byte("k")); !st.Version.IsZero() {
		t.Errorf("flushed key after restart: %s", stateString(st))
	}
}

// stringChange is a primary's write of a string key at version v.
func stringChange(key string, v Version, val string) Change {
	return Change{Key: []byte(key), State: State{Version: v, Type: TypeString, Str: []byte(val)}}
}

// With fence set, Install refuses senders whose ballot is older than the
// slot's promise (or equal but of another node), and a newer sender's
// ballot becomes the promise, durably. Without fence, versions alone decide.
func TestInstall_Fencing(t *testing.T) {
	dir := t.TempDir()
	s := openReplica(t, dir)
	closeOnCleanup(t, &s)
	now := virtualNow()
	stamp := uint64(now) << logicalBits
	slot := KeySlot([]byte("k"))
	other := "{other}k"
	if KeySlot([]byte(other)) == slot {
		t.Fatal("test keys share a slot")
	}
	promise(t, s, slot, Ballot{5, "x"})

	step := func(name string, cs []Change, from Ballot, fence bool, want ...Applied) {
		t.Helper()
		got := install(t, s, cs, from, fence, now)
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: change %d (%s) from %v: %s, want %s", name, i, changeString(&cs[i]), from, appliedNames[got[i]], appliedNames[want[i]])
			}
		}
	}
	value := func(key string) string {
		st := s.KeyState(0, []byte(key))
		if st.Version.IsZero() {
			return "<none>"
		}
		return fmt.Sprintf("%s@%d", st.Str, st.Version.Ballot)
	}

	step("older ballot", []Change{stringChange("k", Version{4, stamp}, "w4")}, Ballot{4, "w"}, true, Fenced)
	step("same N, another node", []Change{stringChange("k", Version{5, stamp}, "y5")}, Ballot{5, "y"}, true, Fenced)
	if v := value("k"); v != "<none>" {
		t.Fatalf("a fenced change was written: k = %s", v)
	}
	if p := s.Promised(slot); p != (Ballot{5, "x"}) {
		t.Fatalf("fenced senders changed the promise to %v", p)
	}
	step("the promised ballot", []Change{stringChange("k", Version{5, stamp}, "x5")}, Ballot{5, "x"}, true, Installed)
	step("a newer ballot", []Change{stringChange("k", Version{6, stamp + 1}, "y6")}, Ballot{6, "y"}, true, Installed)
	if p := s.Promised(slot); p != (Ballot{6, "y"}) {
		t.Fatalf("after a change from ballot 6 of y the promise is %v", p)
	}
	step("the deposed primary", []Change{stringChange("k", Version{5, stamp + 9}, "x5b")}, Ballot{5, "x"}, true, Fenced)
	if got := promise(t, s, slot, Ballot{5, "y"}); got != (Ballot{6, "y"}) {
		t.Errorf("Promise of an older N after Install raised the promise: %v", got)
	}
	step("one batch, two slots",
		[]Change{stringChange("k", Version{4, stamp + 10}, "w4"), stringChange(other, Version{4, stamp + 10}, "w4")},
		Ballot{4, "w"}, true, Fenced, Installed)
	if p := s.Promised(KeySlot([]byte(other))); p != (Ballot{4, "w"}) {
		t.Errorf("the other slot's promise is %v, want the sender's", p)
	}
	step("unfenced repair of an old version", []Change{stringChange("k", Version{6, stamp + 2}, "repaired")}, Ballot{}, false, Installed)
	step("unfenced but stale", []Change{stringChange("k", Version{5, stamp + 20}, "old")}, Ballot{}, false, Stale)
	if v := value("k"); v != "repaired@6" {
		t.Errorf("k = %s, want repaired@6", v)
	}
	if p := s.Promised(slot); p != (Ballot{6, "y"}) {
		t.Errorf("an unfenced install changed the promise to %v", p)
	}

	must(t, s.Close())
	s = openReplica(t, dir)
	if p := s.Promised(slot); p != (Ballot{6, "y"}) {
		t.Errorf("after restart the promise recorded by Install is %v", p)
	}
	if p := s.Promised(KeySlot([]byte(other))); p != (Ballot{4, "w"}) {
		t.Errorf("after restart the other slot's promise is %v", p)
	}
	step("the deposed primary after restart", []Change{stringChange("k", Version{5, stamp + 30}, "x5c")}, Ballot{5, "x"}, true, Fenced)
	if v := value("k"); v != "repaired@6" {
		t.Errorf("after restart k = %s, want repaired@6", v)
	}
}

// A deleted key leaves a tombstone with a newer version, an expired key
// one with the key's own version; both survive a restart and SlotRecords
// lists them. Writing the key again removes the tombstone and gives a
// version newer than it, even with a clock that went back.
func TestTombstones_SurviveRestartAndRecreate(t *testing.T) {
	dir := t.TempDir()
	s := openReplica(t, dir)
	closeOnCleanup(t, &s)
	now := virtualNow()
	at := func(ms int64, fn func(tx *Tx)) {
		t.Helper()
		_, err := s.UpdateAt(0, ms, fn)
		must(t, err)
	}
	var set, exp Version
	at(now, func(tx *Tx) {
		set = tx.SetString([]byte("del"), []byte("v"), 0).Version
		exp = tx.SetString([]byte("exp"), []byte("v"), now+10).Version
		tx.ZAdd([]byte("zdel"), []byte("m"), 1)
	})
	at(now+20, func(tx *Tx) {
		tx.Delete([]byte("del"))
		if tx.Get([]byte("exp")) != nil {
			t.Error("exp did not expire")
		}
		tx.ZRem([]byte("zdel"), []byte("m"))
	})
	states := map[string]State{}
	for _, k := range []string{"del", "exp", "zdel"} {
		st := s.KeyState(0, []byte(k))
		if !st.Deleted {
			t.Fatalf("%s after deletion: %s", k, stateString(st))
		}
		states[k] = st
	}
	if !set.Less(states["del"].Version) {
		t.Errorf("tombstone of del has version %v, not newer than the key's %v", states["del"].Version, set)
	}
	if states["exp"].Version != exp {
		t.Errorf("tombstone of exp has version %v, want the expired key's %v", states["exp"].Version, exp)
	}

	must(t, s.Close())
	s = openReplica(t, dir)
	for k, want := range states {
		if got := s.KeyState(0, []byte(k)); stateString(got) != stateString(want) {
			t.Errorf("%s after restart: %s, want %s", k, stateString(got), stateString(want))
		}
		rec := recordsString(t, s, 0, KeySlot([]byte(k)))
		if wantRec := fmt.Sprintf("%q v=%v deleted=true none exp=0; ", k, want.Version); !strings.Contains(rec, wantRec) {
			t.Errorf("%s after restart: records %s, want %s", k, rec, wantRec)
		}
	}
	checkTombstoneIndex(t, s)

	// The clock goes back a minute: the new version still follows the tombstone.
	var again Version
	at(now-60_000, func(tx *Tx) { again = tx.SetString([]byte("del"), []byte("again"), 0).Version })
	if !states["del"].Version.Less(again) {
		t.Errorf("re-created key has version %v, not newer than its tombstone's %v", again, states["del"].Version)
	}
	checkTombstoneIndex(t, s)
	must(t, s.Close())
	s = openReplica(t, dir)
	if st := s.KeyState(0, []byte("del")); st.Deleted || string(st.Str) != "again" || st.Version != again {
		t.Errorf("re-created key after restart: %s", stateString(st))
	}
	if rec := recordsString(t, s, 0, KeySlot([]byte("del"))); strings.Contains(rec, "deleted=true") {
		t.Errorf("the tombstone of a re-created key is still on disk: %s", rec)
	}
	if n := s.SlotCount(KeySlot([]byte("del"))); n != 1 {
		t.Errorf("slot of del counts %d keys, want 1", n)
	}
}

// collectTombstones drops, from memory and disk, exactly the tombstones
// older than the grace period.
func TestTombstones_Collect(t *testing.T) {
	dir := t.TempDir()
	s := openReplica(t, dir)
	closeOnCleanup(t, &s)
	grace := s.opts.TombstoneGrace.Milliseconds()
	now := virtualNow()
	for i, k := range []string{"old", "young"} {
		_, err := s.UpdateAt(0, now+int64(i)*grace, func(tx *Tx) {
			tx.SetString([]byte(k), []byte("v"), 0)
			tx.Delete([]byte(k))
		})
		must(t, err)
	}
	s.collectTombstones(now + grace + 1)
	if st := s.KeyState(0, []byte("old")); !st.Version.IsZero() {
		t.Errorf("old tombstone after collection: %s", stateString(st))
	}
	young := s.KeyState(0, []byte("young"))
	if !young.Deleted {
		t.Errorf("young tombstone after collection: %s", stateString(young))
	}
	for _, when := range []string{"before restart", "after restart"} {
		if when == "after restart" {
			must(t, s.Close())
			s = openReplica(t, dir)
		}
		if rec := recordsString(t, s, 0, KeySlot([]byte("old"))); rec != "" {
			t.Errorf("%s: collected tombstone still on disk: %s", when, rec)
		}
		if got := s.KeyState(0, []byte("young")); stateString(got) != stateString(young) {
			t.Errorf("%s: young tombstone %s, want %s", when, stateString(got), stateString(young))
		}
	}
}

// Without Options.Tombstones a deletion leaves nothing behind, and
// installing a deletion of a key the store does not hold is harmless.
func TestTombstones_Off(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), Databases: 2})
	must(t, err)
	defer s.Close()
	update(t, s, 0, func(tx *Tx) {
		tx.SetString([]byte("k"), []byte("v"), 0)
		tx.Delete([]byte("k"))
	})
	if st := s.KeyState(0, []byte("k")); stateString(st) != stateString(State{}) {
		t.Errorf("deleted key: %s", stateString(st))
	}
	if rec := recordsString(t, s, 0, KeySlot([]byte("k"))); rec != "" {
		t.Errorf("records of a deleted key: %s", rec)
	}
	del := Change{Key: []byte("never"), State: State{Version: Version{1, 1}, Deleted: true}}
	if got := install(t, s, []Change{del}, Ballot{}, false, virtualNow()); got[0] != Installed {
		t.Errorf("deletion of an absent key: %s", appliedNames[got[0]])
	}
	if rec := recordsString(t, s, 0, KeySlot([]byte("never"))); rec != "" {
		t.Errorf("records after installing a deletion: %s", rec)
	}
}

// hintsOf lists node's hints as sorted "db/key" strings.
func hintsOf(s *Store, node string) []string {
	var out []string
	for _, h := range s.Hints(node, -1) {
		out = append(out, fmt.Sprintf("%d/%s", h.DB, h.Key))
	}
	slices.Sort(out)
	return out
}

// Hints are kept once per (node, database, key), survive restarts and
// FLUSHALL, and DropHints removes exactly the hints it names.
func TestHints_DedupeRestartDrop(t *testing.T) {
	dir := t.TempDir()
	s := openReplica(t, dir)
	closeOnCleanup(t, &s)
	update(t, s, 0, func(tx *Tx) {
		tx.Hint("n1", []byte("k"))
		tx.Hint("n1", []byte("k"))
		tx.Hint("n1", []byte("k1")) // k is a prefix of k1 in the record key
		tx.In(1).Hint("n1", []byte("k"))
		tx.Hint("n1x", []byte("k"))
		tx.Hint("n2", []byte{})
		tx.Hint("n2", []byte{0xff, 0})
	})
	want := map[string][]string{
		"n1":  {"0/k", "0/k1", "1/k"},
		"n1x": {"0/k"},
		"n2":  {"0/", "0/\xff\x00"},
	}
	check := func(when string) {
		t.Helper()
		backlog := map[string]int{}
		for node, hs := range want {
			backlog[node] = len(hs)
			if got := hintsOf(s, node); !slices.Equal(got, hs) {
				t.Errorf("%s: hints of %s %q, want %q", when, node, got, hs)
			}
		}
		if got := s.HintBacklog(); !maps.Equal(got, backlog) {
			t.Errorf("%s: backlog %v, want %v", when, got, backlog)
		}
		if got, want := s.HintedNodes(), slices.Sorted(maps.Keys(want)); !slices.Equal(got, want) {
			t.Errorf("%s: hinted nodes %v, want %v", when, got, want)
		}
	}
	check("after hinting")
	if got := s.Hints("n1", 2); len(got) != 2 {
		t.Errorf("Hints(n1, 2) returned %d hints", len(got))
	}
	if got := s.Hints("nobody", 10); len(got) != 0 {
		t.Errorf("hints of an unknown node: %v", got)
	}
	update(t, s, 0, func(tx *Tx) { tx.FlushAll() })
	check("after FLUSHALL")
	must(t, s.Close())
	s = openReplica(t, dir)
	check("after restart")

	update(t, s, 0, func(tx *Tx) { tx.Hint("n1", []byte("k")) }) // known already
	check("after hinting a known key again")
	must(t, s.DropHints("n1", []Hinted{{0, []byte("k")}, {1, []byte("k")}, {0, []byte("unknown")}}))
	must(t, s.DropHints("n2", []Hinted{{0, []byte{}}, {0, []byte{0xff, 0}}}))
	must(t, s.DropHints("nobody", []Hinted{{0, []byte("k")}}))
	want = map[string][]string{"n1": {"0/k1"}, "n1x": {"0/k"}}
	check("after dropping")
	must(t, s.Close())
	s = openReplica(t, dir)
	check("after dropping and restart")
	update(t, s, 0, func(tx *Tx) { tx.Hint("n2", []byte("back")) })
	want["n2"] = []string{"0/back"}
	check("after hinting a dropped node again")
}

// A Replicate sink may write hints through its Tx; they land with the
// write, in the same batch.
func TestHints_FromReplicateSink(t *testing.T) {
	dir := t.TempDir()
	s := openReplica(t, dir)
	closeOnCleanup(t, &s)
	tk, err := s.Replicate(0, virtualNow(), 1, func(tx *Tx) {
		tx.SetString([]byte("a"), []byte("v"), 0)
		tx.In(1).SetString([]byte("b"), []byte("v"), 0)
	}, func(tx *Tx, cs []Change) {
		for _, c := range cs {
			tx.In(c.DB).Hint("down", c.Key)
		}
	})
	must(t, err)
	must(t, s.Acknowledge(tk))
	must(t, s.Close())
	s = openReplica(t, dir)
	if got, want := hintsOf(s, "down"), []string{"0/a", "1/b"}; !slices.Equal(got, want) {
		t.Errorf("hints after restart %q, want %q", got, want)
	}
}
