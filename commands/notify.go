package commands

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"cairn/store"
)

// Keyspace notifications (notify-keyspace-events), as Redis 7.0's
// notifyKeyspaceEvent: an event on key in database db is published on
// __keyspace@<db>__:<key> with the event name as message (flag K) and on
// __keyevent@<db>__:<event> with the key as message (flag E), when the
// event's class is enabled.
//
// Handlers and the store's expiry and eviction report events while they
// hold the store's lock, so they only queue them (notifier.queue never
// blocks on a subscriber). One drain goroutine at a time publishes the
// queue in order through pubsubState.publish, outside every store lock;
// it is started by the first event queued while none runs and exits when
// the queue is empty.

// Event classes, the bits of notify-keyspace-events.
const (
	notifyKeyspace = 1 << iota // K
	notifyKeyevent             // E
	notifyGeneric              // g
	notifyString               // $
	notifyList                 // l
	notifySet                  // s
	notifyHash                 // h
	notifyZset                 // z
	notifyExpired              // x
	notifyEvicted              // e
	notifyStream               // t
	notifyKeyMiss              // m
	notifyModule               // d
	notifyNew                  // n
	// notifyAll is the A alias: every class but m and n.
	notifyAll = notifyGeneric | notifyString | notifyList | notifySet | notifyHash | notifyZset |
		notifyExpired | notifyEvicted | notifyStream | notifyModule
)

// notifyClasses maps each flag letter of a class to its bit, in the order
// Redis's keyspaceEventsFlagsToString prints them.
var notifyClasses = []struct {
	letter byte
	bit    int
}{
	{'g', notifyGeneric}, {'$', notifyString}, {'l', notifyList}, {'s', notifySet}, {'h', notifyHash},
	{'z', notifyZset}, {'x', notifyExpired}, {'e', notifyEvicted}, {'t', notifyStream}, {'d', notifyModule},
	{'n', notifyNew},
}

// parseNotifyFlags parses a notify-keyspace-events value; ok is false on
// an unknown letter.
func parseNotifyFlags(v string) (flags int, ok bool) {
	for i := 0; i < len(v); i++ {
		switch ch := v[i]; ch {
		case 'A':
			flags |= notifyAll
		case 'K':
			flags |= notifyKeyspace
		case 'E':
			flags |= notifyKeyevent
		case 'm':
			flags |= notifyKeyMiss
		default:
			found := false
			for _, c := range notifyClasses {
				if c.letter == ch {
					flags |= c.bit
					found = true
				}
			}
			if !found {
				return 0, false
			}
		}
	}
	return flags, true
}

// formatNotifyFlags prints flags in Redis's canonical form. Like Redis
// 7.0's keyspaceEventsFlagsToString it omits n when A is printed, so
// "An" reads back (and, being stored as read back, applies) as "A".
func formatNotifyFlags(flags int) string {
	var b strings.Builder
	if flags&notifyAll == notifyAll {
		b.WriteByte('A') // and, as in Redis 7.0, n is not printed
	} else {
		for _, c := range notifyClasses {
			if flags&c.bit != 0 {
				b.WriteByte(c.letter)
			}
		}
	}
	for _, c := range []struct {
		letter byte
		bit    int
	}{{'K', notifyKeyspace}, {'E', notifyKeyevent}, {'m', notifyKeyMiss}} {
		if flags&c.bit != 0 {
			b.WriteByte(c.letter)
		}
	}
	return b.String()
}

// checkNotifyFlags is the CONFIG SET check of notify-keyspace-events.
func checkNotifyFlags(v string) (string, string) {
	flags, ok := parseNotifyFlags(v)
	if !ok {
		return "", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
	}
	return formatNotifyFlags(flags), ""
}

// keyEvent is one queued notification.
type keyEvent struct {
	db         int
	event, key string
}

// notifier holds the enabled classes and the queue of events to publish.
//
// Ownership: flags is set by CONFIG SET and read by everyone without a
// lock; mu guards pending and draining.
type notifier struct {
	flags    atomic.Int64
	hookOnce sync.Once
	mu       sync.Mutex
	pending  []keyEvent
	draining bool
}

// enabled reports whether events of class are published at all.
func (n *notifier) enabled(class int) bool {
	f := int(n.flags.Load())
	return f&class != 0 && f&(notifyKeyspace|notifyKeyevent) != 0
}

// setNotifyFlags applies notify-keyspace-events and, the first time,
// registers the store hook that reports expired and evicted keys.
func (s *Server) setNotifyFlags(v string) {
	flags, _ := parseNotifyFlags(v)
	s.notify.flags.Store(int64(flags))
	s.notify.hookOnce.Do(func() {
		s.store.SetRemovalHook(func(db int, key string, why store.Removal) {
			if why == store.Evicted {
				s.notifyEvent(db, notifyEvicted, "evicted", key)
			} else {
				s.notifyEvent(db, notifyExpired, "expired", key)
			}
		})
	})
}

// notify reports event on key in the command's database. It never blocks
// and may run under the store's lock.
func (c *Ctx) notify(class int, event string, key []byte) {
	if c.Srv.notify.enabled(class) {
		c.Srv.notifyEvent(c.Tx.DB(), class, event, string(key))
	}
}

// notifyZsetRemoved reports event on a sorted set that lost members, and
// "del" when it lost its last one (the store deleted the key).
func (c *Ctx) notifyZsetRemoved(event string, key []byte) {
	c.notify(notifyZset, event, key)
	if c.Srv.notify.enabled(notifyGeneric) && !c.Tx.Exists(key) {
		c.notify(notifyGeneric, "del", key)
	}
}

// notifyEvent queues an event of class if enabled, starting the drain
// goroutine when none runs.
func (s *Server) notifyEvent(db, class int, event, key string) {
	n := &s.notify
	if !n.enabled(class) {
		return
	}
	n.mu.Lock()
	n.pending = append(n.pending, keyEvent{db: db, event: event, key: key})
	start := !n.draining
	n.draining = true
	n.mu.Unlock()
	if start {
		go s.drainNotifications()
	}
}

// drainNotifications publishes queued events in order until the queue is
// empty.
func (s *Server) drainNotifications() {
	n := &s.notify
	for {
		n.mu.Lock()
		batch := n.pending
		n.pending = nil
		if len(batch) == 0 {
			n.draining = false
			n.mu.Unlock()
			return
		}
		n.mu.Unlock()
		flags := int(n.flags.Load())
		for _, ev := range batch {
			db := strconv.Itoa(ev.db)
			if flags&notifyKeyspace != 0 {
				s.pubsub.publish([]byte("__keyspace@"+db+"__:"+ev.key), []byte(ev.event))
			}
			if flags&notifyKeyevent != 0 {
				s.pubsub.publish([]byte("__keyevent@"+db+"__:"+ev.event), []byte(ev.key))
			}
		}
	}
}
