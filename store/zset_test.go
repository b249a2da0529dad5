package store

import (
	"fmt"
	"testing"
	"time"
)

// zmembers lists a sorted set as "member=score" in order, or nil when the
// key is missing.
func zmembers(t testing.TB, s *Store, db int, key string) []string {
	t.Helper()
	var out []string
	update(t, s, db, func(tx *Tx) {
		e := tx.Get([]byte(key))
		if e == nil {
			return
		}
		if e.Type != TypeZSet {
			t.Fatalf("%s has type %v", key, e.Type)
		}
		e.Z.Members(func(m string, score float64) bool {
			out = append(out, fmt.Sprintf("%s=%g", m, score))
			return true
		})
	})
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Sorted sets survive restarts member for member, and every way of
// replacing or removing one removes its member records too.
func TestZSet_Persistence(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, 16)
	closeOnCleanup(t, &s)
	update(t, s, 0, func(tx *Tx) {
		for i := 0; i < 100; i++ {
			tx.ZAdd([]byte("board"), []byte(fmt.Sprintf("p%03d", i)), float64(i%10))
		}
		tx.ZAdd([]byte("board"), []byte("p000"), 42) // update
		tx.ZRem([]byte("board"), []byte("p001"))
		tx.ZAdd([]byte("gone"), []byte("a"), 1)
		tx.ZRem([]byte("gone"), []byte("a")) // empty set is deleted
		tx.ZAdd([]byte("tostring"), []byte("a"), 1)
		tx.SetString([]byte("tostring"), []byte("v"), 0) // type change drops members
		tx.ZAdd([]byte("old"), []byte("x"), 1)
		tx.ZAdd([]byte("old"), []byte("y"), 2)
		if !tx.Rename([]byte("old"), []byte("renamed")) {
			t.Fatal("rename failed")
		}
		tx.ZAdd([]byte("src"), []byte("m"), 3)
		tx.Copy([]byte("src"), tx.In(1), []byte("copied"))
		tx.ZAdd([]byte("ttl"), []byte("m"), 1)
		tx.SetExpire([]byte("ttl"), tx.Now()+time.Hour.Milliseconds())
		tx.ZAdd([]byte("deleted"), []byte("m"), 1)
		tx.Delete([]byte("deleted"))
	})
	before := zmembers(t, s, 0, "board")
	if len(before) != 99 || before[len(before)-1] != "p000=42" {
		t.Fatalf("board before restart: %d members, last %q", len(before), before[len(before)-1])
	}
	for round := 0; round < 2; round++ {
		must(t, s.Close())
		s = openTestStore(t, dir, 16)
		if got := zmembers(t, s, 0, "board"); !equalStrings(got, before) {
			t.Fatalf("round %d: board changed across restart", round)
		}
		checks := []struct {
			db        int
			key, want string
		}{
			{0, "gone", "[]"}, {0, "renamed", "[x=1 y=2]"}, {0, "old", "[]"}, {0, "src", "[m=3]"},
			{1, "copied", "[m=3]"}, {0, "ttl", "[m=1]"}, {0, "deleted", "[]"},
		}
		for _, c := range checks {
			if got := fmt.Sprint(zmembers(t, s, c.db, c.key)); got != c.want {
				t.Errorf("round %d: db%d %s = %s, want %s", round, c.db, c.key, got, c.want)
			}
		}
		update(t, s, 0, func(tx *Tx) {
			if e := tx.Get([]byte("tostring")); e == nil || e.Type != TypeString || string(e.Str) != "v" {
				t.Errorf("tostring = %+v", e)
			}
			if e := tx.Get([]byte("ttl")); e == nil || e.ExpireAt == 0 {
				t.Errorf("ttl lost its expiry: %+v", e)
			}
		})
	}
	// FLUSHDB removes the member records with the keys.
	update(t, s, 0, func(tx *Tx) { tx.Flush() })
	must(t, s.Close())
	s = openTestStore(t, dir, 16)
	if got := zmembers(t, s, 0, "board"); got != nil {
		t.Fatalf("board survived FLUSHDB and restart: %d members", len(got))
	}
	if got := zmembers(t, s, 1, "copied"); len(got) != 1 {
		t.Fatalf("db1 was flushed too: %v", got)
	}
}

// An expired sorted set disappears with its members.
func TestZSet_Expiry(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, 16)
	closeOnCleanup(t, &s)
	update(t, s, 0, func(tx *Tx) {
		tx.ZAdd([]byte("z"), []byte("a"), 1)
		tx.SetExpire([]byte("z"), tx.Now()+20)
	})
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Keys[0] != 0 {
		if time.Now().After(deadline) {
			t.Fatal("active expiry did not remove the sorted set")
		}
		time.Sleep(10 * time.Millisecond)
	}
	must(t, s.Close())
	s = openTestStore(t, dir, 16) // would fail on orphan member records
	if got := zmembers(t, s, 0, "z"); got != nil {
		t.Fatalf("expired set came back: %v", got)
	}
}

// A blocked waiter is woken by a write to its key and not by others.
func TestZSet_BlockSignal(t *testing.T) {
	s := openTestStore(t, t.TempDir(), 16)
	closeOnCleanup(t, &s)
	var w *Waiter
	update(t, s, 0, func(tx *Tx) { w = tx.Block([][]byte{[]byte("q")}) })
	update(t, s, 0, func(tx *Tx) { tx.ZAdd([]byte("other"), []byte("a"), 1) })
	update(t, s, 1, func(tx *Tx) { tx.ZAdd([]byte("q"), []byte("a"), 1) }) // another db
	select {
	case <-w.C():
		t.Fatal("woken by a write to another key")
	default:
	}
	update(t, s, 0, func(tx *Tx) { tx.ZAdd([]byte("q"), []byte("a"), 1) })
	select {
	case <-w.C():
	case <-time.After(5 * time.Second):
		t.Fatal("not woken by a write to its key")
	}
	s.Unblock(w)
	update(t, s, 0, func(tx *Tx) { tx.ZAdd([]byte("q"), []byte("b"), 1) }) // no waiter left: must not block
}
