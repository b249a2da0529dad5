package commands

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"cairn/resp"
)

// Scripting (Redis 7.0 eval.c): EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and
// SCRIPT LOAD/EXISTS/FLUSH/KILL. A script runs inside the store Update of
// its EVAL, so no other command interleaves with it; redis.call runs
// commands through the table against that same transaction (script_lua.go).
//
// Time limit (Redis busy-reply-threshold, alias lua-time-limit): once a
// script has run longer than the threshold, the dispatcher answers other
// clients' commands with BUSY before they wait for the store lock, except
// the allow-busy ones (SCRIPT KILL, SHUTDOWN, MULTI, DISCARD, WATCH,
// AUTH, HELLO, QUIT ...). A command that was already waiting for the store
// lock when the threshold passed keeps waiting until the script ends.
//
// SCRIPT KILL stops the running scripts that have not written: it cancels
// their interpreters' context, which raises an error at the next Lua
// instruction (and again after any pcall that catches it). It runs outside
// the store lock, so it reaches a script that holds it. SHUTDOWN NOSAVE
// stops every running script, those that wrote included (their writes so
// far stay: the store has no rollback).
//
// Ownership: one scripting value per Server (Server.scripts). cacheMu
// guards the script cache; mu guards the idle interpreters and the running
// scripts. An interpreter belongs to one EVAL while it runs.

const (
	errNoScript        = "NOSCRIPT No matching script. Please use EVAL."
	errNumKeysNegative = "ERR Number of keys can't be negative"
	errNumKeysTooMany  = "ERR Number of keys can't be greater than number of args"
	errNotBusy         = "NOTBUSY No scripts in execution right now."
	errUnkillable      = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	errBusyScript      = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	errScriptKilled    = "ERR Script killed by user with SCRIPT KILL..."
)

// scripting is one server's script cache, interpreter pool and running
// scripts.
type scripting struct {
	cacheMu sync.RWMutex
	scripts map[string]*cachedScript // by lowercase SHA1 hex

	mu      sync.Mutex
	idle    []*luaVM
	running []*scriptRun
	// since is when the longest-running script started (UnixNano), 0 when
	// none runs; written under mu, read by the BUSY gate without it.
	since atomic.Int64
	// busyAfter is busy-reply-threshold in nanoseconds.
	busyAfter atomic.Int64
}

// cachedScript is a compiled script body.
type cachedScript struct {
	sha   string
	proto *lua.FunctionProto
	body  string // the source (a cluster forwards EVALSHA as EVAL)
}

func newScripting() *scripting {
	sc := &scripting{scripts: make(map[string]*cachedScript)}
	sc.setBusyThreshold(5000)
	return sc
}

// setBusyThreshold applies busy-reply-threshold (milliseconds).
func (sc *scripting) setBusyThreshold(ms int64) {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		ms = math.MaxInt64 / int64(time.Millisecond)
	}
	sc.busyAfter.Store(ms * int64(time.Millisecond))
}

// killState is what SCRIPT KILL needs of a running script.
type killState struct {
	cancel context.CancelFunc // cancels its interpreter's context
	wrote  atomic.Bool        // it ran a write command: SCRIPT KILL refuses
	killed atomic.Bool
	start  int64       // UnixNano
	slow   atomic.Bool // "slow script" was logged
}

// scriptCommands returns the scripting commands; they work on the
// server's scripting value.
func scriptCommands() []*Spec {
	evalKeys := []KeySpec{ksKeyNum("RW access update", 2, 0, 1, 1).
		withNotes("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")}
	evalShaKeys := []KeySpec{ksKeyNum("RW access update", 2, 0, 1, 1)}
	roKeys := []KeySpec{ksKeyNum("RO access", 2, 0, 1, 1).
		withNotes("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")}
	roShaKeys := []KeySpec{ksKeyNum("RO access", 2, 0, 1, 1)}
	const rw = NoScript | Stale | SkipMonitor | NoMandatoryKeys | MayReplicate
	const ro = ReadOnly | NoScript | Stale | SkipMonitor | NoMandatoryKeys
	const complexity = "Depends on the script that is executed."
	return []*Spec{
		{Name: "eval", KeySpecs: evalKeys, Arity: -3, Flags: rw, KeysFunc: evalKeyPositions, ACL: CatScripting,
			Group: "scripting", Since: "2.6.0", Summary: "Execute a Lua script server side", Complexity: complexity,
			Handler: func(c *Ctx) { c.Srv.scripts.eval(c, false, false) }},
		{Name: "evalsha", KeySpecs: evalShaKeys, Arity: -3, Flags: rw, KeysFunc: evalKeyPositions, ACL: CatScripting,
			Group: "scripting", Since: "2.6.0", Summary: "Execute a Lua script server side", Complexity: complexity,
			Handler: func(c *Ctx) { c.Srv.scripts.eval(c, true, false) }},
		{Name: "eval_ro", KeySpecs: roKeys, Arity: -3, Flags: ro, KeysFunc: evalKeyPositions, ACL: CatScripting,
			Group: "scripting", Since: "7.0.0", Summary: "Execute a read-only Lua script server side", Complexity: complexity,
			Handler: func(c *Ctx) { c.Srv.scripts.eval(c, false, true) }},
		{Name: "evalsha_ro", KeySpecs: roShaKeys, Arity: -3, Flags: ro, KeysFunc: evalKeyPositions, ACL: CatScripting,
			Group: "scripting", Since: "7.0.0", Summary: "Execute a read-only Lua script server side", Complexity: complexity,
			Handler: func(c *Ctx) { c.Srv.scripts.eval(c, true, true) }},
		{Name: "script", Arity: -2, Group: "scripting", Since: "2.6.0",
			Summary: "A container for Lua scripts management commands", Complexity: "Depends on subcommand.", Sub: []*Spec{
				{Name: "exists", Arity: -3, Flags: NoScript, ACL: CatScripting,
					Tips:  []string{"request_policy:all_shards", "response_policy:agg_logical_and"},
					Group: "scripting", Since: "2.6.0", Summary: "Check existence of scripts in the script cache.",
					Complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
					Handler:    func(c *Ctx) { c.Srv.scripts.cmdExists(c) }},
				{Name: "flush", Arity: -2, Flags: NoScript, ACL: CatScripting,
					Tips:  []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					Group: "scripting", Since: "2.6.0", Summary: "Remove all the scripts from the script cache.",
					Complexity: "O(N) with N being the number of scripts in cache", Handler: clusterScripts(func(c *Ctx) { c.Srv.scripts.cmdFlush(c) })},
				{Name: "kill", Arity: 2, Flags: NoScript | AllowBusy, ACL: CatScripting,
					Tips:  []string{"request_policy:all_shards", "response_policy:one_succeeded"},
					Group: "scripting", Since: "2.6.0", Summary: "Kill the script currently in execution.",
					Complexity: "O(1)", Handler: func(c *Ctx) { c.Srv.scripts.cmdKill(c) }},
				{Name: "load", Arity: 3, Flags: NoScript | Stale, ACL: CatScripting,
					Tips:  []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					Group: "scripting", Since: "2.6.0", Summary: "Load the specified Lua script into the script cache.",
					Complexity: "O(N) with N being the length in bytes of the script body.", Handler: clusterScripts(func(c *Ctx) { c.Srv.scripts.cmdLoad(c) })},
			}},
	}
}

// evalKeyPositions finds EVAL's keys: numkeys (argument 2) arguments
// after it. A bad numkeys gives no keys; the handler reports it.
func evalKeyPositions(args [][]byte) []int {
	n, ok := parseInt(args[2])
	if !ok || n <= 0 || n > int64(len(args)-3) {
		return nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 3 + i
	}
	return out
}

// scriptSHA is the SHA1 hex of a body, as Redis computes it (sha1hex).
func scriptSHA(body []byte) string {
	sum := sha1.Sum(body)
	return hex.EncodeToString(sum[:])
}

// load compiles body and caches it under its SHA1, returning the cached
// script or the compile error's reply text.
func (sc *scripting) load(body []byte) (*cachedScript, string) {
	sum := sha1.Sum(body)
	var hexSHA [40]byte
	hex.Encode(hexSHA[:], sum[:])
	if cs := sc.get(hexSHA[:]); cs != nil {
		return cs, ""
	}
	chunk, err := parse.Parse(strings.NewReader(string(body)), scriptChunk)
	if err != nil {
		return nil, "ERR Error compiling script (new function): " + oneLine(err.Error())
	}
	proto, err := lua.Compile(chunk, scriptChunk)
	if err != nil {
		return nil, "ERR Error compiling script (new function): " + oneLine(err.Error())
	}
	// gopher-lua would build Lua 5.0's "arg" table of the chunk's varargs at
	// every run, but a main chunk cannot name it (as in Lua 5.1, where
	// main chunks never get one).
	proto.IsVarArg &^= lua.VarArgNeedsArg
	cs := &cachedScript{sha: string(hexSHA[:]), proto: proto, body: string(body)}
	sc.cacheMu.Lock()
	if old := sc.scripts[cs.sha]; old != nil {
		cs = old
	} else {
		sc.scripts[cs.sha] = cs
	}
	sc.cacheMu.Unlock()
	return cs, ""
}

// get finds a cached script by SHA1 hex in either case, without
// allocating.
func (sc *scripting) get(sha []byte) *cachedScript {
	if len(sha) != 40 {
		return nil
	}
	var lower [40]byte
	for i, ch := range sha {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower[i] = ch
	}
	sc.cacheMu.RLock()
	cs := sc.scripts[string(lower[:])]
	sc.cacheMu.RUnlock()
	return cs
}

// eval is EVAL, EVALSHA and their _RO forms: args are script-or-sha,
// numkeys, keys..., args.... c.Tx is the store view the script runs in.
func (sc *scripting) eval(c *Ctx, bySHA, readOnly bool) {
	numKeys, ok := parseInt(c.Args[2])
	switch {
	case !ok:
		c.W.Error(errNotInt)
		return
	case numKeys < 0:
		c.W.Error(errNumKeysNegative)
		return
	case numKeys > int64(len(c.Args)-3):
		c.W.Error(errNumKeysTooMany)
		return
	}
	var cs *cachedScript
	if bySHA {
		if cs = sc.get(c.Args[1]); cs == nil {
			c.W.Error(errNoScript)
			return
		}
	} else {
		var msg string
		if cs, msg = sc.load(c.Args[1]); msg != "" {
			c.W.Error(msg)
			return
		}
	}
	vm := sc.begin(c, cs.sha, readOnly)
	defer sc.end(vm)
	vm.run(&vm.r, cs.proto, c.Args[3:3+numKeys], c.Args[3+numKeys:])
}

// begin takes an idle interpreter (or makes one) and registers its run.
func (sc *scripting) begin(c *Ctx, sha string, readOnly bool) *luaVM {
	start := c.Start
	if start.IsZero() { // inside EXEC
		start = time.Now()
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var vm *luaVM
	if n := len(sc.idle); n > 0 {
		vm = sc.idle[n-1]
		sc.idle[n-1] = nil
		sc.idle = sc.idle[:n-1]
	} else {
		vm = newLuaVM()
	}
	r := &vm.r
	r.reset(c, sha, readOnly)
	r.cancel = vm.cancel
	r.start = start.UnixNano()
	sc.running = append(sc.running, r)
	if len(sc.running) == 1 {
		sc.since.Store(r.start)
	}
	return vm
}

// end unregisters vm's run and returns vm to the pool, with a fresh
// context if the run was killed.
func (sc *scripting) end(vm *luaVM) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	r := &vm.r
	for i, x := range sc.running {
		if x == r {
			last := len(sc.running) - 1
			sc.running[i] = sc.running[last]
			sc.running[last] = nil
			sc.running = sc.running[:last]
			break
		}
	}
	oldest := int64(0)
	for _, x := range sc.running {
		if oldest == 0 || x.start < oldest {
			oldest = x.start
		}
	}
	sc.since.Store(oldest)
	if r.killed.Load() {
		vm.rearm()
	}
	r.c = nil
	sc.idle = append(sc.idle, vm)
}

// cmdKill is SCRIPT KILL.
func (sc *scripting) cmdKill(c *Ctx) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if len(sc.running) == 0 {
		c.W.Error(errNotBusy)
		return
	}
	for _, r := range sc.running {
		if r.wrote.Load() {
			c.W.Error(errUnkillable)
			return
		}
	}
	sc.killAll()
	c.W.OK()
}

// killAll stops every running script. REQUIRES: sc.mu held.
func (sc *scripting) killAll() {
	for _, r := range sc.running {
		r.killed.Store(true)
		r.cancel()
	}
}

// busy reports whether a script has run past busy-reply-threshold, and
// logs Redis's "slow script" warning the first time it is seen.
func (sc *scripting) busy(log *slog.Logger) bool {
	since := sc.since.Load()
	if since == 0 || time.Now().UnixNano()-since < sc.busyAfter.Load() {
		return false
	}
	sc.mu.Lock()
	for _, r := range sc.running {
		if r.start == since && r.slow.CompareAndSwap(false, true) {
			log.Warn("Slow script detected: still in execution after the busy-reply-threshold. You can try killing the script using the SCRIPT KILL command.",
				"script", r.sha, "threshold_ms", sc.busyAfter.Load()/int64(time.Millisecond))
		}
	}
	sc.mu.Unlock()
	return true
}

// busyGate answers a command with BUSY while a script has run past
// busy-reply-threshold (Redis processCommand), unless the command is
// allowed then; inside MULTI the rejection makes EXEC fail, and EXEC itself
// is aborted. SHUTDOWN NOSAVE stops the running scripts so the server can
// close; SHUTDOWN without NOSAVE waits for a running script to end, and is
// BUSY if it runs past the threshold. Peers' internal commands are never
// refused: they wait for the store like before the threshold.
func (s *Server) busyGate(c *resp.Conn, sess *Session, spec *Spec, args [][]byte) bool {
	sc := s.scripts
	if sc.since.Load() == 0 || spec.Flags&Internal != 0 {
		return false
	}
	if spec.fullName == "shutdown" && !sess.inMulti {
		return s.shutdownGate(c, args)
	}
	if spec.Flags&AllowBusy != 0 || !sc.busy(s.log) {
		return false
	}
	spec.stats.rejected.Add(1)
	if spec.fullName == "exec" { // Redis execCommandAbort
		if sess.watch.Watching() {
			s.store.Unwatch(&sess.watch) // waits for the store lock
		}
		sess.resetMulti()
		c.W.Error("EXECABORT Transaction discarded because of: " + errBusyScript)
		return true
	}
	s.reject(c, sess, errBusyScript)
	return true
}

// shutdownGate handles SHUTDOWN while a script runs (see busyGate). A
// SHUTDOWN its handler refuses (bad options, ABORT) is left to it.
func (s *Server) shutdownGate(c *resp.Conn, args [][]byte) bool {
	sc := s.scripts
	noSave, save := false, false
	for _, a := range args[1:] {
		switch {
		case eqFold(a, "nosave"):
			noSave = true
		case eqFold(a, "save"):
			save = true
		case eqFold(a, "now"), eqFold(a, "force"):
		default:
			return false
		}
	}
	switch {
	case noSave && save:
		return false
	case noSave:
		sc.mu.Lock()
		sc.killAll()
		sc.mu.Unlock()
		return false
	}
	for sc.since.Load() != 0 && !sc.busy(s.log) {
		time.Sleep(time.Millisecond)
	}
	if sc.since.Load() == 0 {
		return false
	}
	c.W.Error(errBusyScript)
	return true
}

func (sc *scripting) cmdLoad(c *Ctx) {
	cs, msg := sc.load(c.Args[2])
	if msg != "" {
		c.W.Error(msg)
		return
	}
	c.W.BulkString(cs.sha)
}

func (sc *scripting) cmdExists(c *Ctx) {
	c.W.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if sc.get(a) != nil {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

// cmdFlush is SCRIPT FLUSH [ASYNC|SYNC]: it empties the cache and drops the
// idle interpreters (both modes flush at once).
func (sc *scripting) cmdFlush(c *Ctx) {
	if len(c.Args) > 3 || (len(c.Args) == 3 && !strings.EqualFold(string(c.Args[2]), "sync") && !strings.EqualFold(string(c.Args[2]), "async")) {
		c.W.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	sc.cacheMu.Lock()
	sc.scripts = make(map[string]*cachedScript)
	sc.cacheMu.Unlock()
	sc.mu.Lock()
	for _, vm := range sc.idle {
		vm.close()
	}
	sc.idle = nil
	sc.mu.Unlock()
	c.W.OK()
}
