package store

import "time"

// Active expiry: like Redis's activeExpireCycle, but exact, because keys
// with a TTL are ordered by expiry time. Each tick removes the keys whose
// time has come, at most expireBatch per database per round, and runs more
// rounds while a database still has work, releasing the lock in between.
const expireBatch = 512

// Removal is why the store removed a key on its own.
type Removal uint8

const (
	Expired Removal = iota // its TTL passed (lazily or by the active cycle)
	Evicted                // maxmemory-policy chose it
)

// SetRemovalHook sets fn to be called for every key the store removes by
// expiry or eviction (nil: none). fn runs while the store's lock may be
// held: it must not block and must not call the store.
func (s *Store) SetRemovalHook(fn func(db int, key string, why Removal)) {
	s.removalHook.Store(&fn)
}

// removed calls the removal hook, if any.
func (s *Store) removed(db int, key string, why Removal) {
	if fn := s.removalHook.Load(); fn != nil && *fn != nil {
		(*fn)(db, key, why)
	}
}

func (s *Store) expireLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.ExpireInterval)
	defer t.Stop()
	lastCollect := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			if s.opts.Tombstones && now.Sub(lastCollect) >= s.opts.TombstoneGrace/10 {
				s.collectTombstones(now.UnixMilli())
				lastCollect = now
			}
			for s.expireRound() {
				select {
				case <-s.stop:
					return
				default:
				}
			}
		}
	}
}

// expireRound removes up to expireBatch expired keys per database and
// reports whether any database may hold more.
func (s *Store) expireRound() (more bool) {
	s.mu.Lock()
	tx := Tx{s: s, now: time.Now().UnixMilli()}
	for db := range s.mu.dbs {
		tx.db = db
		ks := &s.mu.dbs[db]
		n := 0
		for n < expireBatch {
			it, ok := ks.expires.Min()
			if !ok || it.at > tx.now {
				break
			}
			e := tx.lookup(unsafeBytes(it.key))
			tx.expire(e)
			n++
		}
		more = more || n == expireBatch
	}
	err := s.applyLocked()
	s.mu.Unlock()
	return more && err == nil
}
