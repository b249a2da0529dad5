package commands

import (
	"math/rand/v2"
	"sync"
)

// cursorTable maps SCAN cursors to the key to resume after. The keyspace is
// ordered, so a cursor is a position ("continue after this key"), which is
// what guarantees that every key present for the whole iteration is
// returned, and returned once. Cursors are random numbers in [1, 2^53): they
// print as non-negative and survive clients that hold numbers as doubles.
// The table keeps the most recent maxCursors of them (FIFO); a cursor that
// fell out of the table, was never issued, or belongs to another database
// gets "ERR invalid cursor" rather than a silent restart or a silent end.
//
// The table has its own mutex; it is taken inside store.Update and never
// calls into the store, so the lock order is always store, then table.
const maxCursors = 1 << 16

type cursorTable struct {
	mu    sync.Mutex
	pos   map[uint64]cursorPos // guarded by mu
	order []uint64             // guarded by mu; ring of issued cursors, oldest at next
	next  int                  // guarded by mu
}

type cursorPos struct {
	db    int
	after string // resume strictly after this key
}

func (t *cursorTable) init() {
	t.pos = make(map[uint64]cursorPos)
	t.order = make([]uint64, maxCursors)
}

// issue stores a position and returns its cursor, never 0 (0 ends an
// iteration) and below 2^53.
func (t *cursorTable) issue(p cursorPos) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var id uint64
	for {
		id = rand.Uint64() >> 11
		if _, taken := t.pos[id]; id != 0 && !taken {
			break
		}
	}
	if old := t.order[t.next]; old != 0 {
		delete(t.pos, old)
	}
	t.order[t.next] = id
	t.next = (t.next + 1) % len(t.order)
	t.pos[id] = p
	return id
}

// lookup returns the position of a cursor issued for db.
func (t *cursorTable) lookup(id uint64, db int) (cursorPos, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.pos[id]
	return p, ok && p.db == db
}
