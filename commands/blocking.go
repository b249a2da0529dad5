package commands

import (
	"math/big"
	"time"

	"cairn/store"
)

// Blocking commands (BZPOPMIN, BZPOPMAX, BZMPOP). The dispatcher hands a
// command flagged Blocking, called outside MULTI, to callBlocking, which
// runs the handler in a store Update like any command. A handler that finds
// every key empty calls c.block instead of replying: inside the same Update
// that saw the keys empty it registers a store Waiter on them, so no write
// can slip between the check and the registration. callBlocking then leaves
// the Update, flushes the replies pipelined before the command, and waits on
// the connection's goroutine (other clients are unaffected) for one of:
//
//   - a write to one of the keys (the waiter is signalled): it runs the
//     handler again in a new Update, which pops or blocks again;
//   - the timeout: it replies a null array (RESP2 *-1, RESP3 _), as Redis;
//   - the connection closing (CLIENT KILL, server Close): it returns without
//     a reply, so the connection's goroutine exits promptly.
//
// As Redis 7.0: inside MULTI/EXEC the command never blocks and replies as
// on a timeout when its keys are empty (c.block reports false); a key that
// another client turns into another type while a client is blocked on it
// does not wake it with WRONGTYPE: the retry skips it (c.retrying) and the
// client stays blocked until a sorted set appears; INFO commandstats and the
// slow log count a blocking call once, with the time spent running it, not
// the time spent waiting, and a call that timed out is counted but not
// slow-logged (updateStatsOnUnblock).
//
// Differences from Redis 7.0:
//   - Fairness. Redis serves the clients blocked on a key in FIFO order, one
//     element each. Cairn wakes every waiter of a written key; each retries
//     in its own Update and the first to take the store's lock wins, the
//     others block again (with their original deadline). Two clients blocked
//     on one key and two ZADDs still serve both, but not in arrival order.
//   - Which key. When several of a client's keys become non-empty at once
//     (one MULTI/EXEC), Redis serves the key signalled first; Cairn retries
//     the command, which pops from the first non-empty key in argument order.
//   - A client whose peer hangs up while blocked is noticed only when it is
//     woken (a write to its keys or its timeout): nothing reads the socket
//     meanwhile. CLIENT KILL and a server Close unblock it at once.
//   - CLIENT UNBLOCK, INFO blocked_clients and CLIENT LIST's "b" flag do not
//     see blocked clients yet.

// blocker is the state of one blocking call, owned by the connection's
// goroutine.
type blocker struct {
	w        *store.Waiter // set by block during an attempt; nil when the handler replied
	deadline time.Time     // zero: wait forever; set by the first block
	started  bool          // block was called once: deadline is fixed
	retry    bool          // the current attempt follows a wake-up
}

// maxBlockMs bounds a timer: a longer timeout (Redis allows up to 2^63 ms)
// waits forever, which nobody can tell apart.
const maxBlockMs = 1 << 40 // about 35 years

// block asks to wait until one of keys is written, timeoutMs passes (0 =
// forever; counted from the first call of this command) or the connection
// closes, and then to run the handler again. It must be called inside the
// handler's Update, after it found every key empty, and the handler must
// then return without replying. It reports false when the command may not
// block (inside MULTI/EXEC): the handler then replies as on a timeout.
func (c *Ctx) block(keys [][]byte, timeoutMs int64) bool {
	b := c.blk
	if b == nil {
		return false
	}
	if !b.started {
		b.started = true
		if timeoutMs > 0 && timeoutMs <= maxBlockMs {
			b.deadline = c.Start.Add(time.Duration(timeoutMs) * time.Millisecond)
		}
	}
	b.w = c.Tx.Block(keys)
	return true
}

// retrying reports whether this run of a blocking handler follows a
// wake-up (not the command's first attempt).
func (c *Ctx) retrying() bool { return c.blk != nil && c.blk.retry }

// parseBlockTimeout parses a blocking command's timeout in seconds as Redis
// 7.0's getTimeoutFromObjectOrReply: a long double (string2ld), times 1000,
// rounded up to whole milliseconds (ceill), converted to a long long. NaN
// and bad syntax are "not a float"; a negative result, or one that does not
// fit (±inf, 1e300: the x87 conversion gives LLONG_MIN), is "negative". So
// "-0.0001" is 0 (forever) and "0.0001" is 1 ms. On error it replies and
// returns ok false.
func parseBlockTimeout(c *Ctx, arg []byte) (ms int64, ok bool) {
	v, ok := parseLongDouble(arg)
	if !ok {
		c.W.Error(errTimeoutNotFloat)
		return 0, false
	}
	ms, fits := ceilMillis(v)
	if !fits || ms < 0 {
		c.W.Error(errTimeoutNegative)
		return 0, false
	}
	return ms, true
}

// ceilMillis returns ceil(v*1000) computed in long double precision, and
// whether it fits an int64.
func ceilMillis(v *big.Float) (int64, bool) {
	if v.IsInf() {
		return 0, false
	}
	x := new(big.Float).SetPrec(ldMantBits).SetMode(big.ToNearestEven)
	x.Mul(v, big.NewFloat(1000))
	i, _ := x.Int(nil) // truncated toward zero
	if x.Sign() > 0 && !x.IsInt() {
		i.Add(i, big.NewInt(1))
	}
	if !i.IsInt64() {
		return 0, false
	}
	return i.Int64(), true
}

// callBlocking runs a blocking command outside MULTI: attempts in separate
// store Updates, waiting between them while the handler asks to block.
func (s *Server) callBlocking(ctx *Ctx) {
	b := &blocker{}
	ctx.blk = b
	defer func() { ctx.blk = nil }()
	var busy time.Duration // time spent in attempts, not waiting
	start := ctx.Start
	for {
		b.w = nil
		mark := ctx.W.Len()
		t, err := s.store.UpdateAt(ctx.Conn.DB(), start.UnixMilli(), func(tx *store.Tx) {
			ctx.Tx = tx
			s.attempt(ctx, mark)
		})
		ctx.Tx = nil
		busy += time.Since(start)
		if err != nil {
			ctx.W.Truncate(mark)
			ctx.W.Error(errMisconf + oneLine(err.Error()))
		}
		ctx.Sess.wrote(t)
		if b.w != nil && ctx.W.Len() != mark { // replied after all (failed Update, panic)
			s.store.Unblock(b.w)
			b.w = nil
		}
		if b.w == nil {
			s.recordBlocking(ctx, busy, mark, false)
			return
		}
		switch s.await(ctx, b) {
		case wakeClosed:
			return // no reply: the connection is gone
		case wakeTimeout:
			mark = ctx.W.Len()
			ctx.W.NullArray()
			s.recordBlocking(ctx, busy, mark, true)
			return
		}
		b.retry = true
		start = time.Now()
	}
}

type wake int

const (
	wakeWritten wake = iota // a key was written: try again
	wakeTimeout
	wakeClosed
)

// await flushes the replies pipelined before the blocked command, then
// waits for a write to one of b's keys, the deadline or the connection's
// close, and unregisters b's waiter.
func (s *Server) await(ctx *Ctx, b *blocker) wake {
	defer s.store.Unblock(b.w)
	if ctx.Conn.Flush() != nil {
		return wakeClosed
	}
	var timeout <-chan time.Time
	if !b.deadline.IsZero() {
		t := time.NewTimer(time.Until(b.deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-b.w.C():
		return wakeWritten
	case <-timeout:
		return wakeTimeout
	case <-ctx.Conn.Done():
		return wakeClosed
	}
}

// recordBlocking updates INFO commandstats and the slow log for a blocking
// call whose reply starts at mark.
func (s *Server) recordBlocking(ctx *Ctx, busy time.Duration, mark int, timedOut bool) {
	spec := ctx.Spec
	spec.stats.calls.Add(1)
	spec.stats.usec.Add(busy.Microseconds())
	if b := ctx.W.Buffered(); len(b) > mark && b[mark] == '-' {
		spec.stats.failed.Add(1)
	}
	if !timedOut && spec.Flags&SkipSlowlog == 0 {
		s.slow.maybeAdd(busy, ctx)
	}
}
