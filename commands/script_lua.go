package commands

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"cairn/cluster"
	"cairn/resp"
)

// The Lua side of scripting (Redis 7.0 script_lua.c): the sandboxed
// interpreter, the redis.* library, and the conversions between Lua values
// and RESP replies in both directions.
//
// Sandbox: only the base, table, string, math and coroutine libraries are
// opened, without dofile, loadfile, require, module, print, getfenv and
// setfenv, plus Redis's cjson and bit (script_libs.go); io, os, debug and
// package do not exist. Scripts see a global table that reads through to
// the interpreter's globals and refuses every write (KEYS and ARGV
// included, as in Redis), the real globals (where loadstring's code runs)
// refuse new keys too, and the library tables are read-only views, so no
// script can leave state behind for the next.

const (
	scriptChunk = "user_script" // the chunk name in error positions, as Redis

	errScriptNoArgs    = "Please specify at least one argument for this redis lib call"
	errScriptArgType   = "Lua redis lib command arguments must be strings or integers"
	errScriptUnknown   = "Unknown Redis command called from script"
	errScriptArity     = "Wrong number of args calling Redis command from script"
	errScriptNoScript  = "This Redis command is not allowed from script"
	errScriptWriteRO   = "Write commands are not allowed from read-only scripts."
	errScriptNoPerm    = "The user executing the script can't run this command or subcommand"
	errScriptNonLocal  = "Script attempted to access a non local key in a cluster node"
	errScriptReadonly  = "Attempt to modify a readonly table"
	errScriptLogArgs   = "redis.log() requires two arguments or more."
	errScriptLogLevel  = "Invalid debug level."
	errScriptRESP      = "RESP version must be 2 or 3."
	errScriptRESPArgs  = "redis.setresp() requires one argument."
	errScriptArgsCount = "wrong number of arguments"
	errScriptArgsType  = "wrong number or type of arguments"
)

// Redis's log levels as scripts see them (redis.LOG_*).
const (
	luaLogDebug = iota
	luaLogVerbose
	luaLogNotice
	luaLogWarning
)

// luaVM is one interpreter. cur is the script running on it, nil between
// runs; the redis.* functions read it. r is the state of its runs, reused.
type luaVM struct {
	L *lua.LState
	// ctx stays set on L for the interpreter's life (gopher-lua checks it
	// at every instruction); cancel is SCRIPT KILL's way in, and a killed
	// run's interpreter gets a fresh one (rearm).
	ctx     context.Context
	cancel  context.CancelFunc
	r       scriptRun
	globals *lua.LTable // the real globals; scripts see them through env
	// env is the scripts' global table: empty, it reads through to shown
	// (the globals, _G, KEYS and ARGV) and refuses every write (__newindex,
	// rawset); its metatable is protected.
	env      *lua.LTable
	envMeta  *lua.LTable
	shown    *lua.LTable
	readonly map[*lua.LTable]bool
	cur      *scriptRun
	// fnProto and fn are the last script run here and its closure, reused
	// while the same script runs again.
	fnProto *lua.FunctionProto
	fn      *lua.LFunction
	// args, argBuf and sub are redis.call's argument vector, its bytes and
	// its command context, reused by every call (arguments are only valid
	// during a call).
	args    [][]byte
	argBuf  []byte
	argEnds []int
	sub     Ctx
	// keys and argv are the KEYS and ARGV tables, reused between runs.
	keys, argv argTable
}

// scriptRun is the state of one EVAL.
type scriptRun struct {
	killState
	c        *Ctx
	sha      string
	readOnly bool
	proto    int // the protocol redis.call replies are read in (redis.setresp)
	w        resp.Writer
	// errorLine is where error() was last called with a string, for
	// messages that carry no position (error(msg, 0)).
	errorLine int
	// slot is the slot of the declared keys in cluster mode, the only slot
	// its commands may touch; -1 when there are none (a script without keys
	// then touches no key: it runs outside any slot's replication).
	slot int
}

// errLine is a Lua error with where it was raised, for the reply's
// "script: ..., on @user_script:N." suffix.
type errLine struct {
	msg  string // the reply text, code first
	line int    // 0 when unknown
}

func newLuaVM() *luaVM {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	vm := &luaVM{L: L, readonly: make(map[*lua.LTable]bool)}
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	vm.globals = g
	for _, name := range []string{"dofile", "loadfile", "require", "module", "print", "getfenv", "setfenv",
		"_printregs", "_GOPHER_LUA_VERSION", "newproxy", "package"} {
		g.RawSetString(name, lua.LNil)
	}
	g.RawSetString("rawset", L.NewFunction(vm.rawset))
	g.RawSetString("pcall", L.NewFunction(vm.pcall))
	g.RawSetString("error", L.NewFunction(vm.errorFn))
	g.RawSetString("redis", vm.redisLib())
	vm.openScriptLibs(g)
	for _, name := range []string{"string", "table", "math", "coroutine", "redis"} {
		g.RawSetString(name, vm.readonlyView(g.RawGetString(name).(*lua.LTable)))
	}
	// Strings' methods ("x"):upper() go through the read-only view too, and
	// getmetatable("") does not hand out the real table.
	if mt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		mt.RawSetString("__index", g.RawGetString("string"))
		mt.RawSetString("__metatable", lua.LFalse)
	}
	// The real globals refuse new keys and raise on missing ones, so that
	// code loaded with loadstring (which runs in them) is sandboxed too.
	// Scripts run in env, an empty table that refuses every write and
	// reads through to shown: a copy of the globals plus _G, KEYS and ARGV
	// (a table lookup, without a call), which raises on missing names.
	gm := L.NewTable()
	gm.RawSetString("__index", L.NewFunction(vm.globalGet))
	gm.RawSetString("__newindex", L.NewFunction(vm.denyWrite))
	gm.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(g, gm)
	vm.env = L.NewTable()
	vm.shown = L.CreateTable(0, 64)
	g.ForEach(func(k, v lua.LValue) { vm.shown.RawSet(k, v) })
	vm.shown.RawSetString("_G", vm.env)
	L.SetMetatable(vm.shown, gm)
	vm.envMeta = L.NewTable()
	vm.envMeta.RawSetString("__index", vm.shown)
	vm.envMeta.RawSetString("__newindex", L.NewFunction(vm.denyWrite))
	vm.envMeta.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(vm.env, vm.envMeta)
	vm.rearm()
	return vm
}

// rearm gives the interpreter a fresh, uncancelled context.
func (vm *luaVM) rearm() {
	if vm.cancel != nil {
		vm.cancel()
	}
	vm.ctx, vm.cancel = context.WithCancel(context.Background())
	vm.L.SetContext(vm.ctx)
}

// close releases the interpreter.
func (vm *luaVM) close() {
	vm.cancel()
	vm.L.Close()
}

// reset prepares r for a new run of the script sha for c.
func (r *scriptRun) reset(c *Ctx, sha string, readOnly bool) {
	r.c, r.sha, r.readOnly, r.proto, r.errorLine, r.slot = c, sha, readOnly, 2, 0, -1
	r.wrote.Store(false)
	r.killed.Store(false)
	r.slow.Store(false)
	r.w.Reset()
}

// readonlyView is an empty table that reads through to t and refuses
// writes.
func (vm *luaVM) readonlyView(t *lua.LTable) *lua.LTable {
	view := vm.L.NewTable()
	meta := vm.L.NewTable()
	meta.RawSetString("__index", t)
	meta.RawSetString("__newindex", vm.L.NewFunction(vm.denyWrite))
	meta.RawSetString("__metatable", lua.LFalse)
	vm.L.SetMetatable(view, meta)
	vm.readonly[view] = true
	return view
}

func (vm *luaVM) denyWrite(L *lua.LState) int {
	L.RaiseError(errScriptReadonly)
	return 0
}

// globalGet reads a global; a missing one is an error, as in Redis.
func (vm *luaVM) globalGet(L *lua.LState) int {
	name := L.CheckAny(2)
	v := vm.globals.RawGet(name)
	if v == lua.LNil {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", lua.LVAsString(name))
	}
	L.Push(v)
	return 1
}

// rawset is Lua's rawset, refusing the read-only tables.
func (vm *luaVM) rawset(L *lua.LState) int {
	t := L.CheckTable(1)
	if vm.readonly[t] || t == vm.env || t == vm.globals {
		// A plain message without a position, as Redis's luaL_error from C.
		vm.cur.errorLine = currentLine(L)
		L.Error(lua.LString(errScriptReadonly), 0)
	}
	L.CheckAny(2)
	L.CheckAny(3)
	t.RawSet(L.Get(2), L.Get(3))
	L.Push(t)
	return 1
}

// pcall is Lua's pcall as Redis replaces it (luaRedisPcall): an error
// table with an err string is caught as that string.
func (vm *luaVM) pcall(L *lua.LState) int {
	L.CheckAny(1)
	if err := L.PCall(L.GetTop()-1, lua.MultRet, nil); err != nil {
		var obj lua.LValue = lua.LString(err.Error())
		if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
			obj = ae.Object
		}
		if t, ok := obj.(*lua.LTable); ok {
			if msg, ok := t.RawGetString("err").(lua.LString); ok {
				obj = msg
			}
		}
		if msg, ok := obj.(lua.LString); ok {
			obj = lua.LString(quoteArgFunc(string(msg)))
		}
		L.SetTop(0)
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// errorFn is Lua's error(message [, level]), remembering where a table
// error was raised (a string error carries its position in its text).
func (vm *luaVM) errorFn(L *lua.LState) int {
	obj := L.Get(1)
	level := L.OptInt(2, 1)
	switch v := obj.(type) {
	case lua.LString:
		vm.cur.errorLine = currentLine(L)
		L.Error(v, level)
	case *lua.LNilType:
		// The reply of error() is Redis's "ERR nil".
		obj = errorTable(L, "nil")
	}
	if t, ok := obj.(*lua.LTable); ok && t.RawGetString("line") == lua.LNil {
		if line := currentLine(L); line > 0 {
			t.RawSetString("line", lua.LNumber(line))
		}
	}
	L.Error(obj, level)
	return 0
}

// currentLine is the line the innermost running Lua function is at.
func currentLine(L *lua.LState) int {
	for level := 0; level < 16; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return 0
		}
		if _, err := L.GetInfo("Sl", dbg, nil); err != nil {
			return 0
		}
		if dbg.What != "G" && dbg.CurrentLine > 0 {
			return dbg.CurrentLine
		}
	}
	return 0
}

// run runs one script with KEYS and ARGV and writes its reply to r.c.W.
func (vm *luaVM) run(r *scriptRun, proto *lua.FunctionProto, keys, argv [][]byte) {
	L, c := vm.L, r.c
	if c.Srv.cluster != nil && len(keys) > 0 {
		r.slot = int(cluster.KeySlot(keys[0]))
	}
	vm.cur = r
	db := c.Conn.DB()
	defer func() {
		vm.cur = nil
		c.Conn.SetDB(db) // SELECT inside a script does not outlive it, as in Redis 7
		vm.keys.release(L)
		vm.argv.release(L)
	}()

	vm.shown.RawSetString("KEYS", vm.keys.fill(L, keys))
	vm.shown.RawSetString("ARGV", vm.argv.fill(L, argv))
	if vm.fnProto != proto {
		vm.fn = L.NewFunctionFromProto(proto)
		vm.fn.Env = vm.env
		vm.fnProto = proto
	}
	fn := vm.fn

	top := L.GetTop()
	defer L.SetTop(top)
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		c.W.Error(vm.failure(err, r.sha))
		return
	}
	writeLuaReply(c.W, L.Get(-1), r.proto)
}

// failure is the reply text of a script that raised an error.
func (vm *luaVM) failure(err error, sha string) string {
	var obj lua.LValue = lua.LString(err.Error())
	if ae, ok := err.(*lua.ApiError); ok {
		obj = ae.Object
	}
	var e errLine
	switch v := obj.(type) {
	case *lua.LTable:
		e.msg = "ERR nil"
		if msg, ok := v.RawGetString("err").(lua.LString); ok {
			e.msg = string(msg)
		}
		if n, ok := v.RawGetString("line").(lua.LNumber); ok {
			e.line = int(n)
		}
	default:
		text := err.Error()
		if obj != nil {
			text = lua.LVAsString(obj)
		}
		e.msg = "ERR " + quoteArgFunc(text)
		if e.line = positionLine(text); e.line == 0 {
			e.line = vm.cur.errorLine
		}
	}
	if vm.cur.killed.Load() {
		e.msg = errScriptKilled
	}
	if e.line > 0 {
		return oneLine(e.msg + " script: " + sha + ", on @" + scriptChunk + ":" + strconv.Itoa(e.line) + ".")
	}
	return oneLine(e.msg)
}

// quoteArgFunc quotes the function name in gopher-lua's "bad argument #N
// to NAME (...)" as Lua 5.1's luaL_argerror does ("to 'NAME'").
func quoteArgFunc(msg string) string {
	const prefix = "bad argument #"
	i := strings.Index(msg, prefix)
	if i < 0 {
		return msg
	}
	j := i + len(prefix)
	for j < len(msg) && '0' <= msg[j] && msg[j] <= '9' {
		j++
	}
	rest, ok := strings.CutPrefix(msg[j:], " to ")
	if !ok || strings.HasPrefix(rest, "'") {
		return msg
	}
	name, tail, ok := strings.Cut(rest, " (")
	if !ok || name == "" || strings.Contains(name, " ") {
		return msg
	}
	return msg[:j] + " to '" + name + "' (" + tail
}

// positionLine is N in a message starting "user_script:N:", else 0.
func positionLine(text string) int {
	rest, ok := strings.CutPrefix(text, scriptChunk+":")
	if !ok {
		return 0
	}
	digits, _, ok := strings.Cut(rest, ":")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(digits)
	if err != nil {
		return 0
	}
	return n
}

// argTable is KEYS or ARGV. Its table is reused by the next run while
// scripts leave it as they got it: no metatable and no key beyond its
// items (items they changed are all overwritten). Nothing else can keep a
// reference to it past a run, since scripts cannot write any table that
// outlives them.
type argTable struct {
	t *lua.LTable
	n int // the items of the last fill
}

// fill sets the table's items and returns it.
func (a *argTable) fill(L *lua.LState, items [][]byte) *lua.LTable {
	if a.t == nil {
		a.t, a.n = L.CreateTable(len(items), 0), 0
	}
	for i, b := range items {
		a.t.RawSetInt(i+1, lua.LString(b))
	}
	for i := len(items) + 1; i <= a.n; i++ {
		a.t.RawSetInt(i, lua.LNil)
	}
	a.n = len(items)
	return a.t
}

// release drops the table if the script changed its shape.
func (a *argTable) release(L *lua.LState) {
	if a.t == nil {
		return
	}
	var after lua.LValue = lua.LNil
	if a.n > 0 {
		after = lua.LNumber(a.n)
	}
	if k, _ := a.t.Next(after); k != lua.LNil || L.GetMetatable(a.t) != lua.LNil {
		a.t = nil
	}
}

// redisLib builds the redis table.
func (vm *luaVM) redisLib() *lua.LTable {
	L := vm.L
	t := L.NewTable()
	for name, fn := range map[string]lua.LGFunction{
		"call":  func(L *lua.LState) int { return vm.call(L, true) },
		"pcall": func(L *lua.LState) int { return vm.call(L, false) },
		"error_reply": func(L *lua.LState) int {
			if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
				L.Push(errorTable(L, "-ERR "+errScriptArgsType))
				return 1
			}
			s := L.ToString(1)
			if !strings.HasPrefix(s, "-") {
				s = "-" + s
			}
			L.Push(errorTable(L, s))
			return 1
		},
		"status_reply": func(L *lua.LState) int {
			if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
				L.Push(errorTable(L, "-ERR "+errScriptArgsType))
				return 1
			}
			st := L.CreateTable(0, 1)
			st.RawSetString("ok", L.Get(1))
			L.Push(st)
			return 1
		},
		"sha1hex": func(L *lua.LState) int {
			if L.GetTop() != 1 {
				raise(L, errScriptArgsCount)
			}
			sum := sha1.Sum([]byte(L.ToString(1)))
			L.Push(lua.LString(hex.EncodeToString(sum[:])))
			return 1
		},
		"log":                vm.log,
		"setresp":            vm.setresp,
		"set_repl":           func(L *lua.LState) int { return 0 },
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"breakpoint":         func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":              func(L *lua.LState) int { return 0 },
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, n := range map[string]int{"LOG_DEBUG": luaLogDebug, "LOG_VERBOSE": luaLogVerbose,
		"LOG_NOTICE": luaLogNotice, "LOG_WARNING": luaLogWarning,
		"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3} {
		t.RawSetString(name, lua.LNumber(n))
	}
	return t
}

// errorTable is the table Redis's luaPushErrorBuff builds from an error
// text: "-CODE msg" keeps its code, anything else gets ERR.
func errorTable(L *lua.LState, text string) *lua.LTable {
	var msg string
	if rest, ok := strings.CutPrefix(text, "-"); ok {
		if code, m, ok := strings.Cut(rest, " "); ok {
			msg = code + " " + strings.Trim(m, "\r\n")
		} else {
			msg = "ERR " + strings.Trim(rest, "\r\n")
		}
	} else {
		msg = "ERR " + strings.Trim(text, "\r\n")
	}
	t := L.CreateTable(0, 1)
	t.RawSetString("err", lua.LString(msg))
	return t
}

// raise raises Redis's error table for text, with the caller's line.
func raise(L *lua.LState, text string) {
	t := errorTable(L, text)
	if line := currentLine(L); line > 0 {
		t.RawSetString("line", lua.LNumber(line))
	}
	L.Error(t, 0)
}

func (vm *luaVM) log(L *lua.LState) int {
	if L.GetTop() < 2 {
		raise(L, errScriptLogArgs)
	}
	level, ok := L.Get(1).(lua.LNumber)
	if !ok || level < luaLogDebug || level > luaLogWarning {
		raise(L, errScriptLogLevel)
	}
	parts := make([]string, 0, L.GetTop()-1)
	for i := 2; i <= L.GetTop(); i++ {
		parts = append(parts, lua.LVAsString(L.Get(i)))
	}
	msg := strings.Join(parts, " ")
	lg := vm.cur.c.Srv.log
	switch int(level) {
	case luaLogDebug, luaLogVerbose:
		lg.Debug(msg, "source", "script")
	case luaLogNotice:
		lg.Info(msg, "source", "script")
	default:
		lg.Warn(msg, "source", "script")
	}
	return 0
}

func (vm *luaVM) setresp(L *lua.LState) int {
	if L.GetTop() != 1 {
		raise(L, errScriptRESPArgs)
	}
	n, ok := L.Get(1).(lua.LNumber)
	if !ok || (n != 2 && n != 3) {
		raise(L, errScriptRESP)
	}
	vm.cur.proto = int(n)
	return 0
}

// call is redis.call (raise true) and redis.pcall: it runs a command through
// the table inside the script's transaction and returns its reply as Lua
// values. Refusals follow Redis scriptCall's order.
func (vm *luaVM) call(L *lua.LState, raiseErrors bool) int {
	r := vm.cur
	fail := func(text string) int {
		if raiseErrors {
			raise(L, text)
		}
		L.Push(errorTable(L, text))
		return 1
	}
	n := L.GetTop()
	if n == 0 {
		return fail(errScriptNoArgs)
	}
	buf, ends := vm.argBuf[:0], vm.argEnds[:0]
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			buf = append(buf, v...)
		case lua.LNumber:
			buf = resp.AppendDouble(buf, float64(v))
		default:
			return fail(errScriptArgType)
		}
		ends = append(ends, len(buf))
	}
	args, start := vm.args[:0], 0
	for _, end := range ends {
		args = append(args, buf[start:end:end])
		start = end
	}
	vm.argBuf, vm.argEnds, vm.args = buf, ends, args
	c := r.c
	spec := c.Srv.table.Lookup(args)
	switch {
	case spec == nil || spec.Flags&Internal != 0:
		return fail(errScriptUnknown)
	case (spec.Arity > 0 && len(args) != spec.Arity) || len(args) < -spec.Arity:
		return fail(errScriptArity)
	case spec.Flags&NoScript != 0:
		return fail(errScriptNoScript)
	case c.Srv.authorize(c.Conn, c.Sess, spec, args) != "":
		return fail(errScriptNoPerm)
	case r.readOnly && spec.Flags&Write != 0:
		return fail(errScriptWriteRO)
	}
	if c.Srv.cluster != nil {
		for _, p := range spec.keyPositions(args) {
			if r.slot < 0 || int(cluster.KeySlot(args[p])) != r.slot {
				return fail(errScriptNonLocal)
			}
		}
	}
	if spec.Flags&Write != 0 {
		r.wrote.Store(true)
	}
	r.w.Reset()
	r.w.SetProto(r.proto)
	sub := &vm.sub
	*sub = Ctx{Args: args, W: &r.w, Conn: c.Conn, Sess: c.Sess, Srv: c.Srv, Spec: spec, Start: c.Start}
	defer func() { *sub = Ctx{} }()
	if spec.usesTx {
		sub.Tx = c.Tx
		if db := c.Conn.DB(); db != c.Tx.DB() { // the script ran SELECT
			sub.Tx = c.Tx.In(db)
		}
	}
	c.Srv.run(sub)
	v, _, err := resp.ParseReply(r.w.Buffered())
	if err != nil {
		return fail("-ERR " + err.Error())
	}
	if v.Kind == '-' || v.Kind == '!' {
		if raiseErrors {
			raise(L, "-"+string(v.Str))
		}
		L.Push(errorTable(L, "-"+string(v.Str)))
		return 1
	}
	L.Push(replyToLua(L, v))
	return 1
}

// replyToLua converts a reply to Lua as Redis's redisProtocolToLuaType.
func replyToLua(L *lua.LState, v resp.Value) lua.LValue {
	field := func(name string, val lua.LValue) *lua.LTable {
		t := L.CreateTable(0, 1)
		t.RawSetString(name, val)
		return t
	}
	switch v.Kind {
	case ':':
		return lua.LNumber(v.Int)
	case '$':
		if v.Null {
			return lua.LFalse
		}
		return lua.LString(v.Str)
	case '+':
		return field("ok", lua.LString(v.Str))
	case '-', '!':
		return field("err", lua.LString(v.Str))
	case '*', '>':
		if v.Null {
			return lua.LFalse
		}
		t := L.CreateTable(len(v.Array), 0)
		for i, e := range v.Array {
			t.RawSetInt(i+1, replyToLua(L, e))
		}
		return t
	case '%':
		m := L.CreateTable(0, len(v.Array))
		for i := 0; i+1 < len(v.Array); i += 2 {
			m.RawSet(replyToLua(L, v.Array[i]), replyToLua(L, v.Array[i+1]))
		}
		return field("map", m)
	case '~':
		s := L.CreateTable(0, len(v.Array))
		for _, e := range v.Array {
			s.RawSet(replyToLua(L, e), lua.LTrue)
		}
		return field("set", s)
	case '_':
		return lua.LNil
	case '#':
		return lua.LBool(v.Int != 0)
	case ',':
		f, _ := strconv.ParseFloat(string(v.Str), 64)
		return field("double", lua.LNumber(f))
	case '(':
		return field("big_number", lua.LString(v.Str))
	case '=':
		vt := L.CreateTable(0, 2)
		vt.RawSetString("format", lua.LString(v.Str[:3]))
		vt.RawSetString("string", lua.LString(v.Str[4:]))
		return field("verbatim_string", vt)
	}
	return lua.LNil
}

// writeLuaReply writes a script's result as Redis's luaReplyToRedisReply;
// scriptProto is the protocol chosen with redis.setresp.
func writeLuaReply(w *resp.Writer, v lua.LValue, scriptProto int) {
	writeLuaValue(w, v, scriptProto, 0)
}

// luaMaxDepth bounds the nesting of a reply table (Redis stops at the C
// stack's limit with an error; a cycle would otherwise never end).
const luaMaxDepth = 1000

func writeLuaValue(w *resp.Writer, v lua.LValue, scriptProto, depth int) {
	if depth > luaMaxDepth {
		w.Error("ERR reached lua stack limit")
		return
	}
	switch x := v.(type) {
	case lua.LString:
		w.Bulk([]byte(x))
	case lua.LBool:
		switch {
		case scriptProto == 3:
			w.Bool(bool(x))
		case bool(x):
			w.Int(1)
		default:
			w.Null()
		}
	case lua.LNumber:
		w.Int(luaInt(float64(x)))
	case *lua.LTable:
		writeLuaTable(w, x, scriptProto, depth)
	default:
		w.Null()
	}
}

// luaInt truncates a Lua number as C's (long long) cast does on x86-64:
// values out of range (and NaN) become the minimum int64.
func luaInt(f float64) int64 {
	if f != f || f >= math.MaxInt64 || f < math.MinInt64 {
		return math.MinInt64
	}
	return int64(f)
}

func writeLuaTable(w *resp.Writer, t *lua.LTable, scriptProto, depth int) {
	if e, ok := t.RawGetString("err").(lua.LString); ok {
		w.Error(oneLine(string(e)))
		return
	}
	if s, ok := t.RawGetString("ok").(lua.LString); ok {
		w.Simple(oneLine(string(s)))
		return
	}
	if d, ok := t.RawGetString("double").(lua.LNumber); ok {
		w.Double(float64(d))
		return
	}
	if b, ok := t.RawGetString("big_number").(lua.LString); ok {
		if w.Proto() == 3 {
			w.Raw([]byte("(" + oneLine(string(b)) + "\r\n"))
		} else {
			w.Bulk([]byte(oneLine(string(b))))
		}
		return
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		var pairs []lua.LValue
		m.ForEach(func(k, v lua.LValue) { pairs = append(pairs, k, v) })
		w.Map(len(pairs) / 2)
		for _, x := range pairs {
			writeLuaValue(w, x, scriptProto, depth+1)
		}
		return
	}
	if s, ok := t.RawGetString("set").(*lua.LTable); ok {
		var members []lua.LValue
		s.ForEach(func(k, _ lua.LValue) { members = append(members, k) })
		w.Set(len(members))
		for _, x := range members {
			writeLuaValue(w, x, scriptProto, depth+1)
		}
		return
	}
	if vs, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		f, fok := vs.RawGetString("format").(lua.LString)
		s, sok := vs.RawGetString("string").(lua.LString)
		if fok && sok && len(f) == 3 {
			w.Verbatim(string(f), string(s))
			return
		}
	}
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	w.Array(n)
	for i := 1; i <= n; i++ {
		writeLuaValue(w, t.RawGetInt(i), scriptProto, depth+1)
	}
}
