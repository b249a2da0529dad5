package commands

import (
	"testing"
)

// Differential tests of scripting: every reply must be byte-identical to
// redis-server 7.0's, in RESP2 and RESP3 (the caller's protocol) and with
// redis.setresp(2) and (3) (the protocol scripts read replies in).

// redsyncRelease is the short compare-and-delete unlock many lock
// libraries use; redsyncExtend its compare-and-pexpire touch.
const (
	redsyncRelease = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`
	redsyncExtend  = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`
	// rateLimit is a fixed-window limiter: it counts a hit and replies
	// {allowed, hits, ttl}.
	rateLimit = `
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
local allowed = 0
if n <= tonumber(ARGV[1]) then allowed = 1 end
return {allowed, n, redis.call("PTTL", KEYS[1]) > 0}`
)

// The scripts of client libraries, byte for byte as they ship (so their
// SHA1s are the ones the libraries send with EVALSHA).
const (
	// go-redsync/redsync v4.18.1 scripts.go: unlock, extend with NX, extend.
	redsyncDelete = `
	local val = redis.call("GET", KEYS[1])
	if val == ARGV[1] then
		return redis.call("DEL", KEYS[1])
	elseif val == false then
		return -1
	else
		return 0
	end
`
	redsyncTouchNX = `
	if redis.call("GET", KEYS[1]) == ARGV[1] then
		return redis.call("PEXPIRE", KEYS[1], ARGV[2])
	elseif redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2], "NX") then
		return 1
	else
		return 0
	end
`
	redsyncTouch = `
	if redis.call("GET", KEYS[1]) == ARGV[1] then
		return redis.call("PEXPIRE", KEYS[1], ARGV[2])
	else
		return 0
	end
`
	// bsm/redislock v0.9.4: refresh, release, pttl, obtain.
	redislockRefresh = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`
	redislockRelease = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`
	redislockPTTL    = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pttl", KEYS[1]) else return -3 end`
	redislockObtain  = `
if redis.call("set", KEYS[1], ARGV[1], "NX", "PX", ARGV[3]) then return redis.status_reply("OK") end

local offset = tonumber(ARGV[2])
if redis.call("getrange", KEYS[1], 0, offset-1) == string.sub(ARGV[1], 1, offset) then return redis.call("set", KEYS[1], ARGV[1], "PX", ARGV[3]) end
`
)

// scriptCorpus is a list of named step sequences; each starts on empty
// servers with empty script caches.
var scriptCorpus = []ksScript{
	{name: "lua-to-resp", steps: [][]string{
		{"EVAL", "return 1", "0"},
		{"EVAL", "return -3.99", "0"},
		{"EVAL", "return 3.99", "0"},
		{"EVAL", "return 1e20", "0"},
		{"EVAL", "return -1e20", "0"},
		{"EVAL", "return 9007199254740993", "0"},
		{"EVAL", "return 0/0", "0"},
		{"EVAL", "return 'hello'", "0"},
		{"EVAL", "return ''", "0"},
		{"EVAL", "return true", "0"},
		{"EVAL", "return false", "0"},
		{"EVAL", "return nil", "0"},
		{"EVAL", "return", "0"},
		{"EVAL", "return {}", "0"},
		{"EVAL", "return {1,2,nil,4}", "0"},
		{"EVAL", "return {1,{2,{3,'x',{}}},true,false,'y'}", "0"},
		{"EVAL", "return {1,2,3,'ciao',{1,2}}", "0"},
		{"EVAL", "return {a=1, 5}", "0"},
		{"EVAL", "return {ok='FINE'}", "0"},
		{"EVAL", "return {err='My Error'}", "0"},
		{"EVAL", "return {err='ERR with\\nnewline'}", "0"},
		{"EVAL", "return {ok=1}", "0"},
		{"EVAL", "return {err={}}", "0"},
		{"EVAL", "return {{ok='x'},{err='y'}}", "0"},
		{"EVAL", "return redis.status_reply('PONG')", "0"},
		{"EVAL", "return redis.error_reply('boom')", "0"},
		{"EVAL", "return redis.error_reply('-MYCODE boom here')", "0"},
		{"EVAL", "return redis.error_reply('-NOSPACE')", "0"},
		{"EVAL", "return redis.sha1hex('')", "0"},
		{"EVAL", "return redis.sha1hex('Pizza & Mandolino')", "0"},
		{"EVAL", "return tostring(12345) .. ' ' .. tostring(0.5) .. ' ' .. tostring(-7)", "0"},
		{"EVAL", "return print", "0"},
		{"EVAL", "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", "0"},
		{"EVAL", "return redis.log(redis.LOG_WARNING, 'from a script', 1)", "0"},
		{"EVAL", "return _VERSION", "0"},
		{"EVAL", "return type(string.format)", "0"},
		{"EVAL", "return string.format('%d-%s-%5.2f', 7, 'x', 3.14159)", "0"},
		{"EVAL", "return table.concat({'a','b','c'}, ',')", "0"},
		{"EVAL", "return math.floor(7.9)", "0"},
		{"EVAL", "local t = {} for i = 1, 100 do t[i] = i * i end return t", "0"},
	}},
	{name: "resp-to-lua", steps: [][]string{
		{"SET", "s", "value"},
		{"ZADD", "z", "1.5", "m1", "2", "m2"},
		{"EVAL", "return redis.call('GET', KEYS[1])", "1", "s"},
		{"EVAL", "return redis.call('GET', 'missing')", "0"},
		{"EVAL", "return type(redis.call('GET', 'missing'))", "0"},
		{"EVAL", "return tostring(redis.call('GET', 'missing'))", "0"},
		{"EVAL", "return redis.call('SET', 'k', 'v')", "0"},
		{"EVAL", "return type(redis.call('SET', 'k', 'v'))", "0"},
		{"EVAL", "return redis.call('SET', 'k', 'v').ok", "0"},
		{"EVAL", "return redis.call('INCR', 'n')", "0"},
		{"EVAL", "return type(redis.call('INCR', 'n'))", "0"},
		{"EVAL", "return redis.call('ZRANGE', 'z', 0, -1, 'WITHSCORES')", "0"},
		{"EVAL", "return redis.call('ZSCORE', 'z', 'm1')", "0"},
		{"EVAL", "return redis.call('ZRANGE', 'nosuch', 0, -1)", "0"},
		{"EVAL", "return #redis.call('ZRANGE', 'nosuch', 0, -1)", "0"},
		{"EVAL", "return redis.call('PING')", "0"},
		{"EVAL", "return redis.call('ECHO', 'hi')", "0"},
		{"EVAL", "return redis.call('MGET', 's', 'missing', 's')", "0"},
		{"EVAL", "return redis.call('EXISTS', 's', 'missing')", "0"},
		{"EVAL", "redis.call('SET', 'f', 3.5) return redis.call('GET', 'f')", "0"},
		{"EVAL", "redis.call('SET', 'f', 0.1) return redis.call('GET', 'f')", "0"},
		{"EVAL", "redis.call('SET', 'f', 1e20) return redis.call('GET', 'f')", "0"},
		{"EVAL", "redis.call('SET', 'f', 42) return redis.call('GET', 'f')", "0"},
		{"EVAL", "redis.call('SET', 'f', -0.5) return redis.call('GET', 'f')", "0"},
		{"EVAL", "return redis.call('INCRBYFLOAT', 'fl', '1.5')", "0"},
		{"EVAL", "return redis.call('TYPE', 's')", "0"},
	}},
	{name: "resp3", steps: [][]string{
		{"SET", "s", "value"},
		{"ZADD", "z", "1.5", "m1", "2", "m2"},
		{"EVAL", "redis.setresp(3) return redis.call('GET', 'missing')", "0"},
		{"EVAL", "redis.setresp(3) return type(redis.call('GET', 'missing'))", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('ZSCORE', 'z', 'm1')", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('ZSCORE', 'z', 'm1').double", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('ZRANGE', 'z', 0, -1, 'WITHSCORES')", "0"},
		{"EVAL", "redis.setresp(3) local r = redis.call('ZRANGE', 'z', 0, -1, 'WITHSCORES') return r[1][2].double", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('EXISTS', 's')", "0"},
		{"EVAL", "redis.setresp(3) return true", "0"},
		{"EVAL", "redis.setresp(3) return false", "0"},
		{"EVAL", "redis.setresp(2) return false", "0"},
		{"EVAL", "return {double=3.5}", "0"},
		{"EVAL", "return {double=1/3}", "0"},
		{"EVAL", "return {big_number='1234567890123456789012345678901234567890'}", "0"},
		{"EVAL", "return {map={a=1}}", "0"},
		{"EVAL", "return {set={x=true}}", "0"},
		{"EVAL", "return {verbatim_string={format='txt', string='hello'}}", "0"},
		{"EVAL", "return redis.setresp(4)", "0"},
		{"EVAL", "return redis.setresp()", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('HELLO')['map'] == nil", "0"},
	}},
	{name: "keys-argv", steps: [][]string{
		{"EVAL", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3]}", "2", "k1", "k2", "a1", "a2", "a3"},
		{"EVAL", "return {#KEYS, #ARGV}", "0", "a", "b"},
		{"EVAL", "return KEYS", "3", "x", "y", "z"},
		{"EVAL", "return ARGV", "0"},
		{"EVAL", "return 1", "2", "only-one"},
		{"EVAL", "return 1", "-1"},
		{"EVAL", "return 1", "x"},
		{"EVAL", "return 1", "1.5", "k"},
		{"eval", "return 'lowercase'", "0"},
		// Changes a script makes to KEYS and ARGV do not reach the next one.
		{"EVAL", "KEYS[3] = 'x' ARGV.extra = 1 setmetatable(KEYS, {__index = function() return 'meta' end}) return #KEYS", "2", "a", "b", "x"},
		{"EVAL", "return {#KEYS, #ARGV, tostring(ARGV.extra), tostring(KEYS[9]), tostring(rawget(KEYS, 3)), tostring(getmetatable(KEYS))}", "1", "k"},
		{"EVAL", "return KEYS", "3", "a", "b", "c"},
		{"EVAL", "return {#KEYS, tostring(KEYS[2]), tostring(KEYS[3])}", "1", "z"},
		{"EVAL", "KEYS[1] = nil ARGV[1] = 5 return 1", "1", "a", "b"},
		{"EVAL", "return {KEYS[1], ARGV[1]}", "1", "k2", "v2"},
		{"EVAL", "table.insert(ARGV, 'more') return #ARGV", "0", "a"},
		{"EVAL", "return {#ARGV, ARGV[1], tostring(ARGV[2])}", "0", "a"},
		{"EVAL", "KEYS = {'replaced'} return 1", "0"},
		{"EVAL", "return KEYS", "1", "back"},
	}},
	{name: "errors", steps: [][]string{
		{"SET", "str", "x"},
		{"EVAL", "return redis.call('INCR', 'str')", "0"},
		{"EVAL", "return redis.pcall('INCR', 'str')", "0"},
		{"EVAL", "local r = redis.pcall('INCR', 'str') return type(r)", "0"},
		{"EVAL", "local r = redis.pcall('INCR', 'str') return r.err", "0"},
		{"EVAL", "return redis.call('nosuch')", "0"},
		{"EVAL", "return redis.pcall('nosuch')", "0"},
		{"EVAL", "return redis.call('GET')", "0"},
		{"EVAL", "return redis.pcall('GET')", "0"},
		{"EVAL", "return redis.call('SET', 'k', {})", "0"},
		{"EVAL", "return redis.call()", "0"},
		{"EVAL", "return redis.call('MULTI')", "0"},
		{"EVAL", "return redis.call('EVAL', 'return 1', '0')", "0"},
		{"EVAL", "return redis.call('SCRIPT', 'FLUSH')", "0"},
		{"EVAL", "\n\nreturn redis.call('ZADD', 'str', '1', 'v')", "0"},
		{"EVAL", "error('raw')", "0"},
		{"EVAL", "error('raw', 0)", "0"},
		{"EVAL", "\nerror({err='tbl'})", "0"},
		{"EVAL", "error()", "0"},
		{"EVAL", "return pcall(function() redis.call('nosuch') end)", "0"},
		{"EVAL", "local ok, e = pcall(function() redis.call('nosuch') end) return e", "0"},
		{"EVAL", "local ok, e = pcall(function() error('x') end) return e", "0"},
		{"EVAL", "local ok, e = pcall(function() error({err='ERR mine'}) end) return e", "0"},
		{"EVAL", "return redis.sha1hex()", "0"},
		{"EVAL", "return redis.log(redis.LOG_WARNING)", "0"},
		{"EVAL", "return redis.error_reply()", "0"},
		{"EVAL", "return redis.status_reply(1, 2)", "0"},
		{"EVAL_RO", "return redis.call('SET', 'a', '1')", "0"},
		{"EVAL_RO", "return redis.call('GET', 'str')", "1", "str"},
		{"EVAL", "redis.call('SET', 'done', 'yes') return redis.call('INCR', 'str')", "0"},
		{"GET", "done"},
	}},
	{name: "sandbox", steps: [][]string{
		{"EVAL", "x = 1", "0"},
		{"EVAL", "return x", "0"},
		{"EVAL", "return os", "0"},
		{"EVAL", "return io", "0"},
		{"EVAL", "return require", "0"},
		{"EVAL", "return dofile", "0"},
		{"EVAL", "return loadfile", "0"},
		{"EVAL", "return debug", "0"},
		{"EVAL", "return getfenv", "0"},
		{"EVAL", "return setfenv", "0"},
		{"EVAL", "return module", "0"},
		{"EVAL", "return newproxy", "0"},
		{"EVAL", "string.x = 1", "0"},
		{"EVAL", "redis.x = 1", "0"},
		{"EVAL", "redis = nil", "0"},
		{"EVAL", "return type(redis)", "0"},
		{"EVAL", "rawset(_G, 'zz', 1)", "0"},
		{"EVAL", "return type(zz)", "0"},
		{"EVAL", "local zz = 5 return zz", "0"},
		{"EVAL", "return type(_G)", "0"},
		{"EVAL", "return type(loadstring)", "0"},
		{"EVAL", "return type(coroutine)", "0"},
		{"EVAL", "local function f(a) return a * 2 end return f(21)", "0"},
		{"EVAL", "return (pcall(loadstring('leak2 = 1')))", "0"},
		{"EVAL", "return type(leak2)", "0"},
		{"EVAL", "return loadstring('return type(_G)')()", "0"},
		{"EVAL", "return {pcall(loadstring('rawset(_G, \\'leak3\\', 1)'))}", "0"},
		{"EVAL", "return type(leak3)", "0"},
	}},
	{name: "evalsha", steps: [][]string{
		{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"},
		{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "ffffffffffffffffffffffffffffffffffffffff"},
		{"SCRIPT", "LOAD", "return 1"},
		{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "ffffffffffffffffffffffffffffffffffffffff"},
		{"SCRIPT", "EXISTS", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB"},
		{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"},
		{"EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"},
		{"EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"},
		{"EVALSHA", "abc", "0"},
		{"EVAL", "return 'cached by eval'", "0"},
		{"EVALSHA", "f6d0d0ccd1f8ff1dba04fdbc3ccc0cfd9f2b6fa6", "0"},
		{"SCRIPT", "LOAD", redsyncRelease},
		{"SCRIPT", "FLUSH"},
		{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"},
		{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"},
		{"SCRIPT", "FLUSH", "ASYNC"},
		{"SCRIPT", "FLUSH", "SYNC"},
		{"SCRIPT", "FLUSH", "BAD"},
		{"SCRIPT", "EXISTS"},
		{"SCRIPT", "LOAD"},
		{"SCRIPT", "NOSUCH"},
	}},
	{name: "compare-and-delete", steps: [][]string{
		{"SET", "lock", "token-1", "PX", "10000"},
		{"EVAL", redsyncRelease, "1", "lock", "token-2"},
		{"EXISTS", "lock"},
		{"EVAL", redsyncExtend, "1", "lock", "token-1", "20000"},
		{"EVAL", redsyncExtend, "1", "lock", "token-2", "20000"},
		{"EVAL", redsyncRelease, "1", "lock", "token-1"},
		{"EXISTS", "lock"},
		{"EVAL", redsyncRelease, "1", "lock", "token-1"},
		{"SCRIPT", "LOAD", redsyncRelease},
		{"SET", "lock", "token-3"},
		{"EVALSHA", scriptSHA([]byte(redsyncRelease)), "1", "lock", "token-3"},
		{"EXISTS", "lock"},
	}},
	{name: "rate-limit", steps: [][]string{
		{"EVAL", rateLimit, "1", "rl", "3", "60000"},
		{"EVAL", rateLimit, "1", "rl", "3", "60000"},
		{"EVAL", rateLimit, "1", "rl", "3", "60000"},
		{"EVAL", rateLimit, "1", "rl", "3", "60000"},
		{"EVALSHA", scriptSHA([]byte(rateLimit)), "1", "rl", "3", "60000"},
		{"GET", "rl"},
	}},
	{name: "select", steps: [][]string{
		{"EVAL", "redis.call('SELECT', 1) redis.call('SET', 'k', 'in-1') return redis.call('GET', 'k')", "0"},
		{"GET", "k"},
		{"SELECT", "1"},
		{"GET", "k"},
		{"EVAL", "return redis.call('GET', 'k')", "0"},
		{"EVAL", "redis.call('SELECT', 0) return redis.call('GET', 'k')", "0"},
		{"GET", "k"},
		{"SELECT", "0"},
	}},
	{name: "acl", steps: [][]string{
		{"ACL", "SETUSER", "scripter", "on", "nopass", "+@all", "-set", "~*"},
		{"AUTH", "scripter", "x"},
		{"EVAL", "return redis.call('SET', 'a', 'b')", "0"},
		{"EVAL", "return redis.pcall('SET', 'a', 'b')", "0"},
		{"EVAL", "return redis.call('GET', 'a')", "0"},
		{"AUTH", "default", "x"},
		{"ACL", "DELUSER", "scripter"},
	}},
	{name: "multi", steps: [][]string{
		{"MULTI"},
		{"EVAL", "return redis.call('INCR', KEYS[1])", "1", "c"},
		{"EVAL", "return redis.call('INCR', KEYS[1])", "1", "c"},
		{"EXEC"},
	}},
	{name: "numbers", steps: [][]string{
		{"EVAL", "return 2^53", "0"},
		{"EVAL", "return 2^53 + 1", "0"},
		{"EVAL", "return {2^62, 2^63, -2^63, 2^64, -2^64}", "0"},
		{"EVAL", "return {-0, -0.0, 0/-1, -0.9, 0.9999999}", "0"},
		{"EVAL", "return {1/0, -1/0}", "0"},
		{"EVAL", "return {tostring(-0.0), tostring(1/3), tostring(2^53), tostring(1e15), tostring(1e16), tostring(0.1 + 0.2)}", "0"},
		{"EVAL", "return {tostring(2^63), tostring(1e100), tostring(-1e-5), tostring(123456.789), tostring(1/0), tostring(-1/0)}", "0"},
		{"EVAL", "return {tostring(0/0), tostring(-(0/0)), tostring(tonumber('nan')), tostring(-tonumber('inf'))}", "0"},
		{"EVAL", "return {tonumber('10', 2), tonumber('ff', 16), tonumber('0xff', 16), tonumber('z', 36), tonumber(' 7 ', 8)}", "0"},
		{"EVAL", "return {tonumber(''), tonumber('  '), tonumber('1e'), tonumber('0x'), tonumber('1 2'), tonumber({})}", "0"},
		{"EVAL", "return tonumber('1', 99)", "0"},
		{"EVAL", "return math.max(nil, 1)", "0"},
		{"EVAL", "return pcall(math.max, nil, 1)", "0"},
		{"EVAL", "return {tonumber('0x10'), tonumber('1e3'), tonumber(' 12 '), tonumber('12a') == nil, tonumber('9007199254740993')}", "0"},
		{"EVAL", "return {math.floor(-3.5), math.ceil(-3.5), math.fmod(7, 3), math.max(1, 9, 3), math.huge == 1/0}", "0"},
		{"EVAL", "return {string.format('%.17g', 0.1), string.format('%5.1f|%-5d|%x', 3.14159, 42, 255)}", "0"},
		{"EVAL", "redis.call('SET', 'f', 2^53) return redis.call('GET', 'f')", "0"},
		{"EVAL", "redis.call('SET', 'f', 2^63) return redis.call('GET', 'f')", "0"},
		{"EVAL", "redis.call('SET', 'f', -0.0) return redis.call('GET', 'f')", "0"},
		{"EVAL", "redis.call('SET', 'f', 1/3) return redis.call('GET', 'f')", "0"},
		{"EVAL", "redis.call('SET', 'f', 290000000.123456789) return redis.call('GET', 'f')", "0"},
		{"EVAL", "redis.call('SET', 'f', 1e-7) return redis.call('GET', 'f')", "0"},
		{"EVAL", "redis.call('SET', 'f', 123456789012345678) return redis.call('GET', 'f')", "0"},
		{"EVAL", "return redis.call('INCRBY', 'big', '9007199254740993')", "0"},
		{"EVAL", "return redis.call('INCRBY', 'big', '9000000000000000000')", "0"},
		{"EVAL", "return tostring(redis.call('GET', 'big'))", "0"},
		{"EVAL", "return redis.call('INCRBYFLOAT', 'fl', '0.1')", "0"},
		{"EVAL", "return redis.call('INCRBY', 'n', 2.9)", "0"},
		{"EVAL", "return redis.call('EXPIRE', 'n', 1e3)", "0"},
	}},
	{name: "tables", steps: [][]string{
		{"EVAL", "return {1, 'two', {3, {4, {5, {}}}}, false, 6}", "0"},
		{"EVAL", "return {nil, 1}", "0"},
		{"EVAL", "return {1, 2, false, 3}", "0"},
		{"EVAL", "local t = {1, 2, 3} t[5] = 5 return t", "0"},
		{"EVAL", "return {ok='a', err='b'}", "0"},
		{"EVAL", "return {err='ERR x', 1, 2}", "0"},
		{"EVAL", "return {ok='PONG', 1, 2}", "0"},
		{"EVAL", "return {1, {err='inner'}, {ok='fine'}, 3}", "0"},
		{"EVAL", "return {redis.status_reply('A'), redis.error_reply('B')}", "0"},
		{"EVAL", "return redis.status_reply('')", "0"},
		{"EVAL", "return redis.error_reply('')", "0"},
		{"EVAL", "return redis.error_reply('-')", "0"},
		{"EVAL", "return redis.error_reply('line1\\nline2')", "0"},
		{"EVAL", "return redis.status_reply('line1\\r\\nline2')", "0"},
		{"EVAL", "return redis.error_reply(42)", "0"},
		{"EVAL", "return redis.status_reply(nil)", "0"},
		{"EVAL", "local t = redis.error_reply('X') return {type(t), t.err}", "0"},
		{"EVAL", "local t = redis.status_reply('X') return {type(t), t.ok}", "0"},
	}},
	{name: "pcall-errors", steps: [][]string{
		{"SET", "str", "x"},
		{"EVAL", "local r = redis.pcall('nosuch') return r.err", "0"},
		{"EVAL", "return {redis.pcall('INCR', 'str'), 'after'}", "0"},
		{"EVAL", "local r = redis.pcall('INCR', 'str') return {type(r), type(r.err)}", "0"},
		{"EVAL", "return redis.pcall('GET', 'str', 'extra')", "0"},
		{"EVAL", "return redis.pcall('SET', 'k', {})", "0"},
		{"EVAL", "return redis.pcall()", "0"},
		{"EVAL", "return redis.pcall('EVAL', 'return 1', '0')", "0"},
		{"EVAL", "local ok, e = pcall(redis.call, 'INCR', 'str') return {tostring(ok), e}", "0"},
		{"EVAL", "local ok, e = pcall(redis.call, 'nosuch') return e", "0"},
		{"EVAL", "local r = redis.pcall('INCR', 'str') return redis.error_reply(r.err)", "0"},
		{"EVAL", "local r = redis.pcall('INCR', 'str') error(r)", "0"},
		{"EVAL", "\n\nlocal r = redis.pcall('INCR', 'str') return r", "0"},
		{"EVAL_RO", "return redis.pcall('SET', 'a', '1')", "0"},
	}},
	{name: "resp3-conversions", steps: [][]string{
		{"ZADD", "z", "1.5", "m1", "-2.25", "m2"},
		{"EVAL", "redis.setresp(3) return redis.call('ZINCRBY', 'z', '1', 'm1')", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('ZSCORE', 'z', 'm2')", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('ZRANGE', 'z', 0, -1, 'WITHSCORES')", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('ZSCORE', 'z', 'nosuch')", "0"},
		{"EVAL", "redis.setresp(3) return {redis.call('GET', 'nosuch') == nil, redis.call('EXISTS', 'z')}", "0"},
		{"EVAL", "redis.setresp(3) return {true, false, {false}}", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('PING')", "0"},
		{"EVAL", "return {double=-0.0}", "0"},
		{"EVAL", "return {double=1/0}", "0"},
		{"EVAL", "return {double=-1/0}", "0"},
		{"EVAL", "return {double=2^53}", "0"},
		{"EVAL", "return {double=1e-300}", "0"},
		{"EVAL", "return {big_number='-9223372036854775809'}", "0"},
		{"EVAL", "return {map={}}", "0"},
		{"EVAL", "return {set={}}", "0"},
		{"EVAL", "return {map={k={1, {double=2.5}, {map={x=true}}}}}", "0"},
		{"EVAL", "return {{map={a='b'}}, {set={c=true}}, {double=0.5}}", "0"},
		{"EVAL", "redis.setresp(3) return {map={a=false}}", "0"},
	}},
	{name: "redsync", steps: [][]string{
		{"SCRIPT", "LOAD", redsyncDelete},
		{"SCRIPT", "LOAD", redsyncTouchNX},
		{"SCRIPT", "LOAD", redsyncTouch},
		{"EVALSHA", scriptSHA([]byte(redsyncDelete)), "1", "lock", "tok-1"},
		{"SET", "lock", "tok-1", "NX", "PX", "8000"},
		{"EVALSHA", scriptSHA([]byte(redsyncTouch)), "1", "lock", "tok-1", "9000"},
		{"EVALSHA", scriptSHA([]byte(redsyncTouch)), "1", "lock", "tok-2", "9000"},
		{"EVALSHA", scriptSHA([]byte(redsyncTouchNX)), "1", "lock", "tok-1", "9000"},
		{"EVALSHA", scriptSHA([]byte(redsyncTouchNX)), "1", "lock", "tok-2", "9000"},
		{"EVALSHA", scriptSHA([]byte(redsyncDelete)), "1", "lock", "tok-2"},
		{"EVALSHA", scriptSHA([]byte(redsyncDelete)), "1", "lock", "tok-1"},
		{"EXISTS", "lock"},
		{"EVALSHA", scriptSHA([]byte(redsyncTouchNX)), "1", "lock", "tok-2", "9000"},
		{"GET", "lock"},
		{"EVALSHA", scriptSHA([]byte(redsyncTouch)), "1", "lock", "tok-2", "9000"},
		{"EVAL", redsyncDelete, "1", "lock", "tok-2"},
		{"EVALSHA", scriptSHA([]byte(redsyncDelete)), "1", "lock", "tok-2"},
		{"ZADD", "wrongtype", "1", "m"},
		{"EVALSHA", scriptSHA([]byte(redsyncDelete)), "1", "wrongtype", "tok-1"},
		{"EVALSHA", scriptSHA([]byte(redsyncTouchNX)), "1", "lock", "tok-3", "notanumber"},
	}},
	{name: "redislock", steps: [][]string{
		{"EVAL", redislockObtain, "1", "lock", "abcdefgh-1", "8", "9000"},
		{"EVAL", redislockObtain, "1", "lock", "abcdefgh-2", "8", "9000"},
		{"GET", "lock"},
		{"EVAL", redislockObtain, "1", "lock", "zzzzzzzz-3", "8", "9000"},
		{"EVAL", redislockPTTL, "1", "lock", "zzzzzzzz-3"},
		{"EVAL", redislockRefresh, "1", "lock", "abcdefgh-2", "7000"},
		{"EVAL", redislockRefresh, "1", "lock", "zzzzzzzz-3", "7000"},
		{"EVAL", redislockRelease, "1", "lock", "zzzzzzzz-3"},
		{"EVAL", redislockRelease, "1", "lock", "abcdefgh-2"},
		{"EVAL", redislockRelease, "1", "lock", "abcdefgh-2"},
		{"SET", "lock", "abcdefgh-9"},
		{"EVAL", redislockPTTL, "1", "lock", "abcdefgh-9"},
		{"EVAL", redislockPTTL, "1", "nosuch", "abcdefgh-9"},
		{"EVAL", redislockObtain, "1", "lock", "abcdefgh-9", "0", "9000"},
		{"EVAL", redislockObtain, "1", "lock", "x", "8", "9000"},
		{"EVAL", redislockObtain, "1", "lock2", "abc", "3", "-5"},
		{"SCRIPT", "LOAD", redislockObtain},
		{"EVALSHA", scriptSHA([]byte(redislockObtain)), "1", "lock3", "abc", "3", "9000"},
	}},
}

func TestScript_Diff(t *testing.T) {
	for i := range scriptCorpus {
		sc := &scriptCorpus[i]
		sc.steps = append([][]string{{"SCRIPT", "FLUSH"}}, sc.steps...)
	}
	ksRunScripts(t, scriptCorpus)
}
