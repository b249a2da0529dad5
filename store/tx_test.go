package store

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

const hourMs = int64(time.Hour / time.Millisecond)

func newTxTestStore(t *testing.T) *Store {
	t.Helper()
	s := openTestStore(t, t.TempDir(), 16)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestTx_Rename(t *testing.T) {
	t.Run("moves value and ttl", func(t *testing.T) {
		s := newTxTestStore(t)
		update(t, s, 0, func(tx *Tx) {
			at := tx.Now() + hourMs
			old := tx.SetString([]byte("src"), []byte("v"), at)
			if !tx.Rename([]byte("src"), []byte("dst")) {
				t.Fatal("Rename of an existing key returned false")
			}
			if tx.Exists([]byte("src")) {
				t.Error("src still exists")
			}
			e := tx.Get([]byte("dst"))
			if e == nil || string(e.Str) != "v" || e.ExpireAt != at || e.Key() != "dst" {
				t.Fatalf("dst = %+v", e)
			}
			if !old.Version.Less(e.Version) {
				t.Errorf("dst version %v not above src's %v", e.Version, old.Version)
			}
			if tx.Len() != 1 || tx.ExpiresLen() != 1 {
				t.Errorf("Len %d ExpiresLen %d, want 1 and 1", tx.Len(), tx.ExpiresLen())
			}
		})
	})
	t.Run("overwrites dst and its ttl", func(t *testing.T) {
		s := newTxTestStore(t)
		update(t, s, 0, func(tx *Tx) {
			tx.SetString([]byte("src"), []byte("new"), 0)
			tx.SetString([]byte("dst"), []byte("old"), tx.Now()+hourMs)
			tx.Rename([]byte("src"), []byte("dst"))
			e := tx.Get([]byte("dst"))
			if e == nil || string(e.Str) != "new" || e.ExpireAt != 0 {
				t.Fatalf("dst = %+v", e)
			}
			if tx.Len() != 1 || tx.ExpiresLen() != 0 {
				t.Errorf("Len %d ExpiresLen %d, want 1 and 0", tx.Len(), tx.ExpiresLen())
			}
		})
	})
	t.Run("same key keeps everything", func(t *testing.T) {
		s := newTxTestStore(t)
		update(t, s, 0, func(tx *Tx) {
			at := tx.Now() + hourMs
			old := tx.SetString([]byte("k"), []byte("v"), at)
			if !tx.Rename([]byte("k"), []byte("k")) {
				t.Fatal("Rename k k returned false")
			}
			if e := tx.Get([]byte("k")); e != old || e.ExpireAt != at {
				t.Errorf("k = %+v, want the untouched entry", e)
			}
		})
	})
	t.Run("missing and expired src", func(t *testing.T) {
		s := newTxTestStore(t)
		update(t, s, 0, func(tx *Tx) {
			if tx.Rename([]byte("nosuch"), []byte("dst")) {
				t.Error("Rename of a missing key returned true")
			}
			tx.SetString([]byte("exp"), []byte("v"), tx.Now()+hourMs)
			tx.now += 2 * hourMs
			if tx.Rename([]byte("exp"), []byte("dst")) {
				t.Error("Rename of an expired key returned true")
			}
			if tx.Len() != 0 {
				t.Errorf("Len %d after renaming missing keys", tx.Len())
			}
		})
	})
	t.Run("survives restart", func(t *testing.T) {
		dir := t.TempDir()
		s := openTestStore(t, dir, 16)
		closeOnCleanup(t, &s)
		update(t, s, 4, func(tx *Tx) {
			tx.SetString([]byte("a"), []byte("1"), 0)
			tx.Rename([]byte("a"), []byte("b"))
		})
		must(t, s.Close())
		s = openTestStore(t, dir, 16)
		update(t, s, 4, func(tx *Tx) {
			if tx.Exists([]byte("a")) || tx.Get([]byte("b")) == nil || tx.Len() != 1 {
				t.Errorf("after restart: a %v b %v len %d", tx.Get([]byte("a")), tx.Get([]byte("b")), tx.Len())
			}
		})
	})
}

func TestTx_Copy(t *testing.T) {
	t.Run("same database", func(t *testing.T) {
		s := newTxTestStore(t)
		update(t, s, 0, func(tx *Tx) {
			at := tx.Now() + hourMs
			src := tx.SetString([]byte("src"), []byte("value"), at)
			if !tx.Copy([]byte("src"), tx, []byte("dst")) {
				t.Fatal("Copy returned false")
			}
			e := tx.Get([]byte("dst"))
			if e == nil || string(e.Str) != "value" || e.ExpireAt != at {
				t.Fatalf("dst = %+v", e)
			}
			if &e.Str[0] == &src.Str[0] {
				t.Error("the copy shares the source's bytes")
			}
			if tx.Len() != 2 || tx.ExpiresLen() != 2 {
				t.Errorf("Len %d ExpiresLen %d, want 2 and 2", tx.Len(), tx.ExpiresLen())
			}
		})
	})
	t.Run("other database and restart", func(t *testing.T) {
		dir := t.TempDir()
		s := openTestStore(t, dir, 16)
		closeOnCleanup(t, &s)
		update(t, s, 1, func(tx *Tx) {
			tx.SetString([]byte("k"), []byte("v1"), 0)
			if !tx.Copy([]byte("k"), tx.In(9), []byte("k")) {
				t.Fatal("Copy returned false")
			}
			if tx.Copy([]byte("missing"), tx.In(9), []byte("x")) {
				t.Error("Copy of a missing key returned true")
			}
		})
		must(t, s.Close())
		s = openTestStore(t, dir, 16)
		for _, db := range []int{1, 9} {
			update(t, s, db, func(tx *Tx) {
				if e := tx.Get([]byte("k")); e == nil || string(e.Str) != "v1" || tx.Len() != 1 {
					t.Errorf("db %d: k = %v, len %d", db, e, tx.Len())
				}
			})
		}
	})
}

// TestTx_LazyExpiry moves the Tx clock past a TTL: the key is invisible to
// Get, Exists, Ascend and Random, counted by Len until a lookup removes it,
// and the removal counts as an expiry.
func TestTx_LazyExpiry(t *testing.T) {
	s := newTxTestStore(t)
	update(t, s, 0, func(tx *Tx) {
		tx.SetString([]byte("a"), []byte("1"), tx.Now()+hourMs)
		tx.SetString([]byte("b"), []byte("2"), 0)
		tx.SetString([]byte("c"), []byte("3"), tx.Now()+3*hourMs)
	})
	before := s.Stats().ExpiredKeys
	update(t, s, 0, func(tx *Tx) {
		tx.now += 2 * hourMs
		var keys []string
		tx.Ascend(nil, func(e *Entry) bool { keys = append(keys, e.Key()); return true })
		if !slices.Equal(keys, []string{"b", "c"}) {
			t.Errorf("Ascend = %v, want [b c]", keys)
		}
		if tx.Len() != 3 {
			t.Errorf("Len = %d before the lookup, want 3 (as DBSIZE)", tx.Len())
		}
		if tx.Exists([]byte("a")) {
			t.Error("expired key exists")
		}
		if tx.Len() != 2 || tx.ExpiresLen() != 1 {
			t.Errorf("after the lookup: Len %d ExpiresLen %d, want 2 and 1", tx.Len(), tx.ExpiresLen())
		}
		if tx.SetExpire([]byte("a"), tx.now+hourMs) {
			t.Error("SetExpire on an expired key returned true")
		}
	})
	if got := s.Stats().ExpiredKeys - before; got != 1 {
		t.Errorf("expired keys grew by %d, want 1", got)
	}
	update(t, s, 0, func(tx *Tx) {
		tx.now += 4 * hourMs
		for range 20 {
			if e := tx.Random(); e == nil || e.Key() != "b" {
				t.Fatalf("Random = %v, want b (the only live key)", e)
			}
		}
	})
}

func TestTx_SetExpire(t *testing.T) {
	s := newTxTestStore(t)
	update(t, s, 0, func(tx *Tx) {
		tx.SetString([]byte("k"), []byte("v"), 0)
		at := tx.Now() + hourMs
		if !tx.SetExpire([]byte("k"), at) {
			t.Fatal("SetExpire returned false")
		}
		if e := tx.Get([]byte("k")); e.ExpireAt != at || tx.ExpiresLen() != 1 {
			t.Errorf("ExpireAt %d (want %d), ExpiresLen %d", e.ExpireAt, at, tx.ExpiresLen())
		}
		if !tx.SetExpire([]byte("k"), at+5) {
			t.Fatal("SetExpire returned false")
		}
		if tx.ExpiresLen() != 1 {
			t.Errorf("changing a TTL left %d expiry entries", tx.ExpiresLen())
		}
		if !tx.SetExpire([]byte("k"), 0) {
			t.Fatal("persist returned false")
		}
		if e := tx.Get([]byte("k")); e.ExpireAt != 0 || tx.ExpiresLen() != 0 {
			t.Errorf("after persist: ExpireAt %d, ExpiresLen %d", e.ExpireAt, tx.ExpiresLen())
		}
		if !tx.SetExpire([]byte("k"), tx.Now()) {
			t.Fatal("SetExpire(now) returned false")
		}
		if tx.Len() != 0 {
			t.Error("an expiry at now did not delete the key")
		}
		if tx.SetExpire([]byte("k"), tx.Now()+hourMs) {
			t.Error("SetExpire on a missing key returned true")
		}
	})
}

func TestTx_RandomCoversKeys(t *testing.T) {
	s := newTxTestStore(t)
	update(t, s, 0, func(tx *Tx) {
		if tx.Random() != nil {
			t.Error("Random on an empty database is not nil")
		}
		for i := range 5 {
			tx.SetString([]byte(fmt.Sprintf("k%d", i)), nil, 0)
		}
		seen := map[string]bool{}
		for range 2000 {
			seen[tx.Random().Key()] = true
		}
		if len(seen) != 5 {
			t.Errorf("Random returned %d distinct keys of 5 in 2000 draws: %v", len(seen), seen)
		}
	})
}

// TestTx_WatchRenameCopy: RENAME and COPY are writes to the keys they
// change, so they dirty the watchers of those keys and only those.
func TestTx_WatchRenameCopy(t *testing.T) {
	s := newTxTestStore(t)
	var wSrc, wDst, wOther, wCopy Watch
	update(t, s, 0, func(tx *Tx) {
		tx.SetString([]byte("src"), []byte("v"), 0)
		tx.SetString([]byte("other"), []byte("v"), 0)
		tx.Watch(&wSrc, []byte("src"))
		tx.Watch(&wDst, []byte("dst"))
		tx.Watch(&wOther, []byte("other"))
		tx.In(3).Watch(&wCopy, []byte("c"))
	})
	update(t, s, 0, func(tx *Tx) {
		tx.Rename([]byte("src"), []byte("dst"))
		tx.Copy([]byte("dst"), tx.In(3), []byte("c"))
	})
	update(t, s, 0, func(tx *Tx) {
		for name, w := range map[string]*Watch{"src": &wSrc, "dst": &wDst, "c": &wCopy} {
			if !tx.Dirty(w) {
				t.Errorf("watcher of %s not dirty", name)
			}
		}
		if tx.Dirty(&wOther) {
			t.Error("watcher of an untouched key is dirty")
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
