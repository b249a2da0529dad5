package commands

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Transactions compared byte for byte with redis-server. Each case is a
// script of commands on one connection; the replies must match at every step.
func TestMulti_DiffScripts(t *testing.T) {
	cases := []struct {
		name   string
		script [][]string
	}{
		{"exec runs the queue", [][]string{
			{"MULTI"}, {"SET", "a", "1"}, {"INCR", "a"}, {"GET", "a"}, {"EXEC"}, {"GET", "a"},
		}},
		{"empty exec", [][]string{{"MULTI"}, {"EXEC"}}},
		{"unknown command aborts", [][]string{
			{"MULTI"}, {"SET", "b", "1"}, {"NOSUCHCMD", "x"}, {"EXEC"}, {"EXISTS", "b"},
		}},
		{"wrong arity aborts", [][]string{
			{"MULTI"}, {"SET", "b"}, {"SET", "b", "2"}, {"EXEC"}, {"EXISTS", "b"},
		}},
		{"runtime error does not abort", [][]string{
			{"SET", "s", "abc"}, {"MULTI"}, {"INCR", "s"}, {"SET", "c", "1"}, {"EXEC"}, {"GET", "c"},
		}},
		{"nested multi is an error but keeps the transaction", [][]string{
			{"MULTI"}, {"MULTI"}, {"SET", "d", "1"}, {"EXEC"}, {"GET", "d"},
		}},
		{"watch inside multi", [][]string{{"MULTI"}, {"WATCH", "x"}, {"PING"}, {"EXEC"}}},
		{"exec without multi", [][]string{{"EXEC"}}},
		{"discard without multi", [][]string{{"DISCARD"}}},
		{"discard drops the queue", [][]string{
			{"MULTI"}, {"SET", "e", "1"}, {"DISCARD"}, {"EXISTS", "e"}, {"EXEC"},
		}},
		{"own write after watch fails exec", [][]string{
			{"WATCH", "f"}, {"SET", "f", "1"}, {"MULTI"}, {"GET", "f"}, {"EXEC"},
		}},
		{"unwatch clears", [][]string{
			{"WATCH", "g"}, {"SET", "g", "1"}, {"UNWATCH"}, {"MULTI"}, {"GET", "g"}, {"EXEC"},
		}},
		{"watch unchanged key", [][]string{
			{"SET", "h", "1"}, {"WATCH", "h"}, {"MULTI"}, {"INCR", "h"}, {"EXEC"},
		}},
		{"watch missing key then create", [][]string{
			{"WATCH", "i"}, {"SET", "i", "x"}, {"DEL", "i"}, {"MULTI"}, {"PING"}, {"EXEC"},
		}},
		{"flushall touches watched key", [][]string{
			{"SET", "j", "1"}, {"WATCH", "j"}, {"FLUSHALL"}, {"MULTI"}, {"PING"}, {"EXEC"},
		}},
		{"select inside multi", [][]string{
			{"MULTI"}, {"SELECT", "2"}, {"SET", "k", "db2"}, {"SELECT", "0"}, {"EXEC"},
			{"EXISTS", "k"}, {"SELECT", "2"}, {"GET", "k"}, {"SELECT", "0"},
		}},
		{"queued commands see earlier queued writes", [][]string{
			{"MULTI"}, {"SET", "l", "5"}, {"INCRBY", "l", "10"}, {"GET", "l"}, {"DEL", "l"}, {"EXISTS", "l"}, {"EXEC"},
		}},
		{"unwatch inside multi", [][]string{
			{"WATCH", "m"}, {"MULTI"}, {"UNWATCH"}, {"SET", "m", "1"}, {"EXEC"},
		}},
	}
	d := newDiffer(t)
	ran := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d.t = t
			for _, cmd := range tc.script {
				d.do(cmd...)
			}
			d.redis.do("FLUSHALL")
			d.cairn.do("FLUSHALL")
			ran++
		})
	}
	if ran != len(cases) {
		t.Fatalf("ran %d of %d cases", ran, len(cases))
	}
}

// A write by another client between WATCH and EXEC makes EXEC reply with a
// null array, in RESP2 and RESP3, on both servers.
func TestMulti_WatchOtherClient(t *testing.T) {
	r := startRedis(t)
	n := testNode(t)
	for _, proto := range []string{"2", "3"} {
		for name, addr := range map[string]string{"redis": r.addr, "cairn": n.Addr()} {
			t.Run(name+"/resp"+proto, func(t *testing.T) {
				a, b := dialRaw(t, addr), dialRaw(t, addr)
				a.do("HELLO", proto)
				a.do("SET", "w", "1")
				a.do("WATCH", "w")
				b.do("SET", "w", "2")
				a.do("MULTI")
				a.do("SET", "w", "3")
				want := "*-1\r\n"
				if proto == "3" {
					want = "_\r\n"
				}
				if got := a.do("EXEC"); got != want {
					t.Fatalf("EXEC after concurrent write = %q, want %q", got, want)
				}
				if got := a.do("GET", "w"); !strings.Contains(got, "2") {
					t.Fatalf("GET w = %q, want the other client's value", got)
				}
			})
		}
	}
}

// A watched key that expires before EXEC fails the transaction.
func TestMulti_WatchExpired(t *testing.T) {
	n := testNode(t)
	c := newClient(t, n.Addr(), 3)
	must(t, c.Set(ctx, "ttl", "v", 50*time.Millisecond).Err())
	err := c.Watch(ctx, func(tx *redis.Tx) error {
		waitFor(t, 2*time.Second, "key to expire", func() bool {
			return c.Exists(ctx, "ttl").Val() == 0
		})
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "ttl", "new", 0)
			return nil
		})
		return err
	}, "ttl")
	if err != redis.TxFailedErr {
		t.Fatalf("EXEC after the watched key expired: err = %v, want TxFailedErr", err)
	}
	if v := c.Exists(ctx, "ttl").Val(); v != 0 {
		t.Fatalf("transaction ran: key exists")
	}
}

// Optimistic locking under contention: concurrent WATCH/MULTI/EXEC
// increments through go-redis never lose an update.
func TestMulti_OptimisticIncrement(t *testing.T) {
	n := testNode(t)
	const workers, perWorker = 4, 50
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			c := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: 2 + w%2})
			defer c.Close()
			for i := 0; i < perWorker; i++ {
				for {
					err := c.Watch(ctx, func(tx *redis.Tx) error {
						v, err := tx.Get(ctx, "counter").Int()
						if err != nil && err != redis.Nil {
							return err
						}
						_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
							p.Set(ctx, "counter", v+1, 0)
							return nil
						})
						return err
					}, "counter")
					if err == nil {
						break
					}
					if err != redis.TxFailedErr {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < workers; w++ {
		must(t, <-errs)
	}
	c := newClient(t, n.Addr(), 2)
	if got := c.Get(ctx, "counter").Val(); got != "200" {
		t.Fatalf("counter = %s, want 200", got)
	}
}

// EXEC is atomic: no other client's command runs between queued commands.
func TestMulti_Atomic(t *testing.T) {
	n := testNode(t)
	c := newClient(t, n.Addr(), 2)
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		r := redis.NewClient(&redis.Options{Addr: n.Addr()})
		defer r.Close()
		bad := 0
		for {
			select {
			case <-stop:
				done <- bad
				return
			default:
			}
			vals, err := r.MGet(ctx, "x", "y").Result()
			if err == nil && vals[0] != vals[1] {
				bad++
			}
		}
	}()
	for i := 0; i < 300; i++ {
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "x", i, 0)
			p.Set(ctx, "y", i, 0)
			return nil
		})
		must(t, err)
	}
	close(stop)
	if bad := <-done; bad != 0 {
		t.Fatalf("a reader saw x != y %d times: EXEC was interleaved", bad)
	}
}
