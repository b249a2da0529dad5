package commands

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"cairn/cluster"
	"cairn/store"
)

// maxmemory: the settings that configure the store's eviction
// (store/evict.go) and the OOM gate the dispatcher runs before a command.

const errOOM = "OOM command not allowed when used memory > 'maxmemory'."

// memoryValue parses a Redis memory value (memtoull): a byte count with an
// optional unit b, k, kb, m, mb, g, gb (k = 1000, kb = 1024), canonical
// text in bytes.
func memoryValue(v string) (string, string) {
	s := strings.ToLower(v)
	mul := int64(1)
	for _, u := range []struct {
		suffix string
		mul    int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mul = s[:len(s)-len(u.suffix)], u.mul
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<63-1)/mul {
		return "", "argument must be a memory value"
	}
	return strconv.FormatInt(n*mul, 10), ""
}

// applyMemory pushes the five maxmemory settings to the store.
func (s *Server) applyMemory() {
	cfg := s.config
	p, _ := store.ParsePolicy(cfg.Get("maxmemory-policy"))
	s.store.SetMemory(store.Memory{
		MaxMemory:    cfg.Int("maxmemory"),
		Policy:       p,
		Samples:      int(cfg.Int("maxmemory-samples")),
		LFULogFactor: int(cfg.Int("lfu-log-factor")),
		LFUDecayTime: int(cfg.Int("lfu-decay-time")),
	})
}

// oomRejects runs the evictions due before a command (Redis
// processCommand's performEvictions) and reports whether the command must
// be refused with errOOM: memory is still over maxmemory and the command
// may grow it (DenyOOM, EXEC of such a command), or is queued in MULTI.
func (s *Server) oomRejects(sess *Session, spec *Spec) bool {
	if s.store.MaxMemory() == 0 || !errors.Is(s.evict(time.Now().UnixMilli()), store.ErrOOM) {
		return false
	}
	if spec.Flags&DenyOOM != 0 {
		return true
	}
	switch spec.fullName {
	case "exec":
		for _, q := range sess.queue {
			if q.spec.Flags&DenyOOM != 0 {
				return true
			}
		}
		return false
	case "discard", "quit", "reset":
		return false
	}
	return sess.inMulti
}

// evict frees memory by the policy. In cluster mode only keys of slots this
// node is primary for are evicted, each by a replicated delete, so the
// replicas drop them too.
func (s *Server) evict(now int64) error {
	c := s.cluster
	if c == nil {
		return s.store.Evict(now)
	}
	v := c.View()
	return s.store.EvictWith(now, func(key string) bool {
		id, ok := v.Primary(store.KeySlot([]byte(key)))
		return ok && id == c.Self()
	}, func(db int, key []byte) bool {
		_, _, err := c.Write(context.Background(), cluster.Exec{Slot: store.KeySlot(key), Keys: [][]byte{key},
			Write: true, DB: db, Now: now, Run: func(tx *store.Tx) { tx.Delete(key) }})
		return err == nil
	})
}
