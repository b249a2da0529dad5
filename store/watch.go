package store

import "unsafe"

// Watch is one connection's set of WATCHed keys (optimistic locking for
// MULTI/EXEC). Any write, deletion or expiry of a watched key marks it
// dirty. Its fields are guarded by the store's mutex.
type Watch struct {
	keys  []watchKey
	dirty bool
}

type watchKey struct {
	db  int
	key string
}

// Watch adds key to w. A key already expired is removed first, so its
// expiry does not count as a change (Redis 7.0 watchForKey).
func (tx *Tx) Watch(w *Watch, key []byte) {
	tx.Get(key)
	wk := watchKey{tx.db, string(key)}
	for _, k := range w.keys {
		if k == wk {
			return
		}
	}
	w.keys = append(w.keys, wk)
	tx.s.mu.watched[wk] = append(tx.s.mu.watched[wk], w)
}

// Dirty reports whether a watched key changed or expired since it was watched.
func (tx *Tx) Dirty(w *Watch) bool {
	for _, k := range w.keys {
		tx.In(k.db).Get(unsafeBytes(k.key)) // expires it lazily, which touches w
	}
	return w.dirty
}

// Watching reports whether w holds any key.
func (w *Watch) Watching() bool { return len(w.keys) > 0 }

// Unwatch forgets all of w's keys and clears its dirty mark (EXEC, DISCARD,
// UNWATCH, connection close).
func (s *Store) Unwatch(w *Watch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unwatchLocked(w)
}

// Unwatch is Store.Unwatch for use inside Update.
func (tx *Tx) Unwatch(w *Watch) { tx.s.unwatchLocked(w) }

// REQUIRES: s.mu held.
func (s *Store) unwatchLocked(w *Watch) {
	for _, k := range w.keys {
		list := s.mu.watched[k]
		for i, x := range list {
			if x == w {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.mu.watched, k)
		} else {
			s.mu.watched[k] = list
		}
	}
	w.keys = w.keys[:0]
	w.dirty = false
}

// ChangeHook is told of changes to the keyspace: with flushed false, that
// key in db was written, deleted, expired, evicted, installed from a
// replica or dropped with its slot; with flushed true, that db (or every
// database, db -1) was flushed. It runs while the store's lock is held: it
// must not block and must not call the store.
type ChangeHook func(db int, key string, flushed bool)

// SetChangeHook sets the change hook (nil: none).
func (s *Store) SetChangeHook(fn ChangeHook) { s.changeHook.Store(&fn) }

// changed calls the change hook, if any. REQUIRES: s.mu held.
func (s *Store) changed(db int, key string, flushed bool) {
	if fn := s.changeHook.Load(); fn != nil && *fn != nil {
		(*fn)(db, key, flushed)
	}
}

// touch marks the watchers of key in tx's database dirty, wakes the
// clients blocked on it and tells the change hook.
func (tx *Tx) touch(key string) {
	tx.s.changed(tx.db, key, false)
	if len(tx.s.mu.blocked) != 0 {
		tx.signal(key)
	}
	if len(tx.s.mu.watched) == 0 {
		return
	}
	for _, w := range tx.s.mu.watched[watchKey{tx.db, key}] {
		w.dirty = true
	}
}

// touchAll marks dirty every watcher of a key that exists in tx's database
// (FLUSHDB, FLUSHALL).
func (tx *Tx) touchAll() {
	for wk, ws := range tx.s.mu.watched {
		if wk.db == tx.db && tx.lookup(unsafeBytes(wk.key)) != nil {
			for _, w := range ws {
				w.dirty = true
			}
		}
	}
}

// unsafeString views b as a string without copying; b must not change while
// the string is in use.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// unsafeBytes views s as bytes; the bytes must not be modified.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// Waiter is a client blocked until one of its keys is written (BZPOPMIN and
// friends). Register it inside Update, where the caller has just seen the
// keys empty, so no write can slip between the check and the registration;
// wait on C after Update returns; then Unblock it. Its fields are guarded by
// the store's mutex.
type Waiter struct {
	ch   chan struct{}
	keys []watchKey
}

// Block registers a waiter for writes to keys in tx's database.
func (tx *Tx) Block(keys [][]byte) *Waiter {
	w := &Waiter{ch: make(chan struct{}, 1)}
	for _, k := range keys {
		wk := watchKey{tx.db, string(k)}
		w.keys = append(w.keys, wk)
		tx.s.mu.blocked[wk] = append(tx.s.mu.blocked[wk], w)
	}
	return w
}

// C is signalled after a write to one of the waiter's keys.
func (w *Waiter) C() <-chan struct{} { return w.ch }

// Unblock deregisters w.
func (s *Store) Unblock(w *Waiter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range w.keys {
		list := s.mu.blocked[k]
		for i, x := range list {
			if x == w {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.mu.blocked, k)
		} else {
			s.mu.blocked[k] = list
		}
	}
	w.keys = nil
}

// signal wakes the waiters of key in tx's database.
func (tx *Tx) signal(key string) {
	for _, w := range tx.s.mu.blocked[watchKey{tx.db, key}] {
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
}
