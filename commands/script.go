package commands

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Scripting (Redis 7.0 eval.c): EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and
// SCRIPT LOAD/EXISTS/FLUSH. A script runs inside the store Update of its
// EVAL, so no other command interleaves with it; redis.call runs commands
// through the table against that same transaction (script_lua.go).
//
// SCRIPT KILL stops the running scripts that have not written: it cancels
// their interpreters' context, which raises an error at the next Lua
// instruction (and again after any pcall that catches it). It runs outside
// the store lock, so it reaches a script that holds it.
//
// Ownership: each Server has one scripting value (scriptCommands is called
// once per table). Its mutex guards the script cache, the idle interpreters
// and the set of running scripts; an interpreter belongs to one EVAL while
// it runs.

const (
	errNoScript        = "NOSCRIPT No matching script. Please use EVAL."
	errNumKeysNegative = "ERR Number of keys can't be negative"
	errNumKeysTooMany  = "ERR Number of keys can't be greater than number of args"
	errNotBusy         = "NOTBUSY No scripts in execution right now."
	errUnkillable      = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
)

// scripting is one server's script cache and interpreter pool.
type scripting struct {
	mu      sync.Mutex
	scripts map[string]*lua.FunctionProto // compiled bodies by SHA1 hex
	idle    []*luaVM
	running map[*scriptRun]bool
}

func newScripting() *scripting {
	return &scripting{scripts: make(map[string]*lua.FunctionProto), running: make(map[*scriptRun]bool)}
}

// killState is what SCRIPT KILL needs of a running script.
type killState struct {
	cancel context.CancelFunc
	wrote  atomic.Bool // it ran a write command: it cannot be killed
	killed atomic.Bool
}

// scriptCommands returns the scripting commands bound to a fresh cache.
func scriptCommands() []*Spec {
	sc := newScripting()
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
			Handler: func(c *Ctx) { sc.eval(c, false, false) }},
		{Name: "evalsha", KeySpecs: evalShaKeys, Arity: -3, Flags: rw, KeysFunc: evalKeyPositions, ACL: CatScripting,
			Group: "scripting", Since: "2.6.0", Summary: "Execute a Lua script server side", Complexity: complexity,
			Handler: func(c *Ctx) { sc.eval(c, true, false) }},
		{Name: "eval_ro", KeySpecs: roKeys, Arity: -3, Flags: ro, KeysFunc: evalKeyPositions, ACL: CatScripting,
			Group: "scripting", Since: "7.0.0", Summary: "Execute a read-only Lua script server side", Complexity: complexity,
			Handler: func(c *Ctx) { sc.eval(c, false, true) }},
		{Name: "evalsha_ro", KeySpecs: roShaKeys, Arity: -3, Flags: ro, KeysFunc: evalKeyPositions, ACL: CatScripting,
			Group: "scripting", Since: "7.0.0", Summary: "Execute a read-only Lua script server side", Complexity: complexity,
			Handler: func(c *Ctx) { sc.eval(c, true, true) }},
		{Name: "script", Arity: -2, Group: "scripting", Since: "2.6.0",
			Summary: "A container for Lua scripts management commands", Complexity: "Depends on subcommand.", Sub: []*Spec{
				{Name: "exists", Arity: -3, Flags: NoScript, ACL: CatScripting,
					Tips:  []string{"request_policy:all_shards", "response_policy:agg_logical_and"},
					Group: "scripting", Since: "2.6.0", Summary: "Check existence of scripts in the script cache.",
					Complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
					Handler:    sc.cmdExists},
				{Name: "flush", Arity: -2, Flags: NoScript, ACL: CatScripting,
					Tips:  []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					Group: "scripting", Since: "2.6.0", Summary: "Remove all the scripts from the script cache.",
					Complexity: "O(N) with N being the number of scripts in cache", Handler: sc.cmdFlush},
				{Name: "kill", Arity: 2, Flags: NoScript | AllowBusy, ACL: CatScripting,
					Tips:  []string{"request_policy:all_shards", "response_policy:one_succeeded"},
					Group: "scripting", Since: "2.6.0", Summary: "Kill the script currently in execution.",
					Complexity: "O(1)", Handler: sc.cmdKill},
				{Name: "load", Arity: 3, Flags: NoScript | Stale, ACL: CatScripting,
					Tips:  []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					Group: "scripting", Since: "2.6.0", Summary: "Load the specified Lua script into the script cache.",
					Complexity: "O(N) with N being the length in bytes of the script body.", Handler: sc.cmdLoad},
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

// load compiles body and caches it under its SHA1, returning the SHA1 and
// the compiled script, or the compile error's reply text.
func (sc *scripting) load(body []byte) (string, *lua.FunctionProto, string) {
	sha := scriptSHA(body)
	if proto := sc.lookup(sha); proto != nil {
		return sha, proto, ""
	}
	chunk, err := parse.Parse(strings.NewReader(string(body)), scriptChunk)
	if err != nil {
		return "", nil, "ERR Error compiling script (new function): " + oneLine(err.Error())
	}
	proto, err := lua.Compile(chunk, scriptChunk)
	if err != nil {
		return "", nil, "ERR Error compiling script (new function): " + oneLine(err.Error())
	}
	sc.mu.Lock()
	sc.scripts[sha] = proto
	sc.mu.Unlock()
	return sha, proto, ""
}

func (sc *scripting) lookup(sha string) *lua.FunctionProto {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.scripts[strings.ToLower(sha)]
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
	var sha string
	var proto *lua.FunctionProto
	if bySHA {
		sha = strings.ToLower(string(c.Args[1]))
		if proto = sc.lookup(sha); proto == nil {
			c.W.Error(errNoScript)
			return
		}
	} else {
		var msg string
		if sha, proto, msg = sc.load(c.Args[1]); msg != "" {
			c.W.Error(msg)
			return
		}
	}
	vm := sc.get()
	defer sc.put(vm)
	r := &scriptRun{c: c, sha: sha, readOnly: readOnly, proto: 2, slot: -1}
	kctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	vm.L.SetContext(kctx)
	sc.track(r, true)
	defer func() {
		sc.track(r, false)
		cancel()
		vm.L.RemoveContext()
	}()
	vm.run(r, proto, c.Args[3:3+numKeys], c.Args[3+numKeys:])
}

func (sc *scripting) track(r *scriptRun, running bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if running {
		sc.running[r] = true
	} else {
		delete(sc.running, r)
	}
}

// cmdKill is SCRIPT KILL.
func (sc *scripting) cmdKill(c *Ctx) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if len(sc.running) == 0 {
		c.W.Error(errNotBusy)
		return
	}
	for r := range sc.running {
		if r.wrote.Load() {
			c.W.Error(errUnkillable)
			return
		}
	}
	for r := range sc.running {
		r.killed.Store(true)
		r.cancel()
	}
	c.W.OK()
}

// get takes an idle interpreter or makes one.
func (sc *scripting) get() *luaVM {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if n := len(sc.idle); n > 0 {
		vm := sc.idle[n-1]
		sc.idle = sc.idle[:n-1]
		return vm
	}
	return newLuaVM()
}

func (sc *scripting) put(vm *luaVM) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.idle = append(sc.idle, vm)
}

func (sc *scripting) cmdLoad(c *Ctx) {
	sha, _, msg := sc.load(c.Args[2])
	if msg != "" {
		c.W.Error(msg)
		return
	}
	c.W.BulkString(sha)
}

func (sc *scripting) cmdExists(c *Ctx) {
	c.W.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if sc.lookup(string(a)) != nil {
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
	sc.mu.Lock()
	sc.scripts = make(map[string]*lua.FunctionProto)
	for _, vm := range sc.idle {
		vm.L.Close()
	}
	sc.idle = nil
	sc.mu.Unlock()
	c.W.OK()
}
