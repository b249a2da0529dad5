package commands

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"cairn/store"
)

// Differential tests of the string and counter commands: every reply must
// be byte-identical to redis-server 7.0's, in RESP2 and RESP3.

// strDiffer is a differ that also holds the Cairn node, to plant keys of
// another type.
type strDiffer struct {
	*differ
	node *Node
}

// newStrDiffer starts redis-server and a Cairn node (with settings) and
// connects to both with protocol proto.
func newStrDiffer(t *testing.T, proto int, settings ...string) *strDiffer {
	t.Helper()
	r := startRedis(t)
	n := testNode(t, settings...)
	d := &strDiffer{differ: &differ{t: t, redis: dialRaw(t, r.addr), cairn: dialRaw(t, n.Addr())}, node: n}
	if proto == 3 {
		for _, c := range []*rawConn{d.redis, d.cairn} {
			if got := c.do("HELLO", "3"); !strings.HasPrefix(got, "%") {
				t.Fatalf("HELLO 3: %q", got)
			}
		}
	}
	return d
}

// sub returns the differ reporting to the subtest t.
func (d *strDiffer) sub(t *testing.T) *strDiffer {
	return &strDiffer{differ: &differ{t: t, redis: d.redis, cairn: d.cairn}, node: d.node}
}

// run sends each command to both servers and compares the replies.
func (d *strDiffer) run(cmds [][]string) {
	d.t.Helper()
	for _, args := range cmds {
		d.do(args...)
	}
}

// nonString makes key hold a sorted set on both servers: ZADD on Redis; on
// Cairn ZADD when it has the command, else a sorted-set entry planted in
// the store (string commands only look at the type).
func (d *strDiffer) nonString(key string) {
	d.t.Helper()
	if got := d.redis.do("ZADD", key, "1", "m"); got != ":1\r\n" {
		d.t.Fatalf("redis ZADD %s: %q", key, got)
	}
	strPlantNonString(d.t, d.node, key)
}

// strPlantNonString makes key a non-string key in db 0 of n.
func strPlantNonString(t testing.TB, n *Node, key string) {
	t.Helper()
	if n.Cmd.Table().Get("zadd") != nil {
		if got := dialRaw(t, n.Addr()).do("ZADD", key, "1", "m"); got != ":1\r\n" {
			t.Fatalf("cairn ZADD %s: %q", key, got)
		}
		return
	}
	_, err := n.Store.Update(0, func(tx *store.Tx) {
		tx.Put([]byte(key), &store.Entry{Type: store.TypeZSet})
	})
	must(t, err)
}

func strForEachDiffProto(t *testing.T, fn func(t *testing.T, d *strDiffer)) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			fn(t, newStrDiffer(t, proto))
		})
	}
}

// strDiffCase is a named list of commands run in order on both servers; keys
// are named after the case. nonString keys are made to hold a sorted set
// first.
type strDiffCase struct {
	name      string
	nonString []string
	cmds      [][]string
}

func strRunDiffCases(t *testing.T, d *strDiffer, cases []strDiffCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sd := d.sub(t)
			for _, k := range tc.nonString {
				sd.nonString(k)
			}
			sd.run(tc.cmds)
		})
	}
}

func TestStringDiff_GetSet(t *testing.T) {
	cases := []strDiffCase{
		{name: "get", nonString: []string{"get:z"}, cmds: [][]string{
			{"GET", "get:missing"}, {"SET", "get:a", "hello"}, {"GET", "get:a"},
			{"SET", "get:empty", ""}, {"GET", "get:empty"},
			{"SET", "get:bin", "a\x00b\r\nc\xff"}, {"GET", "get:bin"},
			{"GET", "get:z"},
			{"get", "get:a"},
		}},
		{name: "set overwrites", nonString: []string{"set:z"}, cmds: [][]string{
			{"SET", "set:a", "1"}, {"SET", "set:a", "2"}, {"GET", "set:a"},
			{"SET", "set:z", "now a string"}, {"GET", "set:z"},
		}},
		{name: "nx xx", cmds: [][]string{
			{"SET", "nx:a", "1", "NX"}, {"SET", "nx:a", "2", "NX"}, {"GET", "nx:a"},
			{"SET", "nx:b", "1", "XX"}, {"GET", "nx:b"}, {"SET", "nx:a", "3", "XX"}, {"GET", "nx:a"},
			{"SET", "nx:a", "4", "nx", "nx"}, {"SET", "nx:a", "4", "xx", "xx"},
			{"SET", "nx:a", "5", "NX", "XX"}, {"SET", "nx:a", "5", "XX", "NX"}, {"GET", "nx:a"},
		}},
		{name: "get option", nonString: []string{"sg:z"}, cmds: [][]string{
			{"SET", "sg:a", "1", "GET"}, {"SET", "sg:a", "2", "GET"}, {"SET", "sg:a", "3", "get", "GET"},
			{"SET", "sg:b", "1", "NX", "GET"}, {"SET", "sg:b", "2", "NX", "GET"}, {"GET", "sg:b"},
			{"SET", "sg:c", "1", "XX", "GET"}, {"GET", "sg:c"}, {"SET", "sg:b", "9", "GET", "XX"}, {"GET", "sg:b"},
			{"SET", "sg:z", "v", "GET"}, {"SET", "sg:z", "v", "NX", "GET"}, {"SET", "sg:z", "v", "XX", "GET"},
			{"GET", "sg:z"}, {"SET", "sg:z", "v"}, {"GET", "sg:z"},
		}},
		{name: "expiry options", cmds: [][]string{
			{"SET", "ex:a", "v", "EX", "100"}, {"SET", "ex:a", "v", "PX", "100000"},
			{"SET", "ex:a", "v", "EXAT", "99999999999"}, {"SET", "ex:a", "v", "PXAT", "99999999999999"},
			{"SET", "ex:a", "v", "KEEPTTL"}, {"SET", "ex:a", "v", "keepttl", "KEEPTTL"},
			{"SET", "ex:a", "v", "EX", "10", "EX", "20"}, {"SET", "ex:a", "v", "PX", "10000", "px", "20000"},
			{"SET", "ex:a", "v", "NX", "EX", "10"}, {"SET", "ex:a", "v2", "XX", "GET", "PX", "10000"}, {"GET", "ex:a"},
			{"SET", "ex:b", "v", "EXAT", "1"}, {"GET", "ex:b"}, {"SET", "ex:b", "v", "PXAT", "1", "GET"}, {"GET", "ex:b"},
			{"SET", "ex:c", "v", "EXAT", "9223372036854775"}, {"GET", "ex:c"},
			{"SET", "ex:c", "v", "PXAT", "9223372036854775807"}, {"GET", "ex:c"},
		}},
		{name: "option case", cmds: [][]string{
			{"SET", "oc:a", "v", "Ex", "100", "gEt"}, {"SET", "oc:a", "w", "KeepTtl", "nX"}, {"SET", "oc:a", "w", "xX", "pXaT", "99999999999999"},
			{"GETEX", "oc:a", "PeRsIsT"}, {"GETEX", "oc:a", "eXaT", "99999999999"}, {"GET", "oc:a"},
		}},
		{name: "arity", cmds: [][]string{
			{"GET"}, {"GET", "ar:a", "ar:b"}, {"SET", "ar:a"}, {"SETNX", "ar:a"}, {"SETEX", "ar:a", "10"}, {"PSETEX", "ar:a"},
			{"GETEX"}, {"GETDEL"}, {"GETSET", "ar:a"}, {"MGET"}, {"MSET"}, {"MSET", "ar:a"}, {"MSETNX", "ar:a"},
			{"APPEND", "ar:a"}, {"STRLEN"}, {"GETRANGE", "ar:a", "0"}, {"SUBSTR", "ar:a"}, {"SETRANGE", "ar:a", "0"},
			{"INCR"}, {"DECR", "ar:a", "1"}, {"INCRBY", "ar:a"}, {"DECRBY", "ar:a", "1", "2"}, {"INCRBYFLOAT", "ar:a"},
		}},
		{name: "expiry errors", cmds: [][]string{
			{"SET", "exe:a", "v", "EX", "10", "PX", "10"}, {"SET", "exe:a", "v", "PX", "10", "EX", "10"},
			{"SET", "exe:a", "v", "EX", "10", "EXAT", "10"}, {"SET", "exe:a", "v", "PXAT", "10", "EX", "10"},
			{"SET", "exe:a", "v", "KEEPTTL", "EX", "10"}, {"SET", "exe:a", "v", "EX", "10", "KEEPTTL"},
			{"SET", "exe:a", "v", "PXAT", "10", "KEEPTTL"}, {"SET", "exe:a", "v", "EX"}, {"SET", "exe:a", "v", "PX"},
			{"SET", "exe:a", "v", "EXAT"}, {"SET", "exe:a", "v", "PXAT"}, {"SET", "exe:a", "v", "NX", "EX"},
			{"SET", "exe:a", "v", "EX", "abc"}, {"SET", "exe:a", "v", "EX", "1.5"}, {"SET", "exe:a", "v", "EX", "+1"},
			{"SET", "exe:a", "v", "EX", "0"}, {"SET", "exe:a", "v", "EX", "-1"}, {"SET", "exe:a", "v", "PX", "0"},
			{"SET", "exe:a", "v", "EXAT", "0"}, {"SET", "exe:a", "v", "PXAT", "-5"},
			{"SET", "exe:a", "v", "EX", "9223372036854775"}, {"SET", "exe:a", "v", "EX", "9223372036854776"},
			{"SET", "exe:a", "v", "EX", "9223372036854775807"}, {"SET", "exe:a", "v", "PX", "9223372036854775807"},
			{"SET", "exe:a", "v", "EXAT", "9223372036854776"}, {"SET", "exe:a", "v", "PX", "9223372036854775808"},
			{"SET", "exe:a", "v", "PERSIST"}, {"SET", "exe:a", "v", "FOO"}, {"SET", "exe:a", "v", "GET", "EX", "0"},
			{"SET", "exe:a", "v", "IFEQ"}, {"GET", "exe:a"},
		}},
		{name: "expiry error precedes wrongtype", nonString: []string{"exw:z"}, cmds: [][]string{
			{"SET", "exw:z", "v", "GET", "EX", "0"}, {"SET", "exw:z", "v", "GET", "EX", "x"}, {"SET", "exw:z", "v", "GET", "EX", "5"},
		}},
		{name: "setnx", nonString: []string{"snx:z"}, cmds: [][]string{
			{"SETNX", "snx:a", "1"}, {"SETNX", "snx:a", "2"}, {"GET", "snx:a"}, {"SETNX", "snx:z", "1"},
		}},
		{name: "setex psetex", nonString: []string{"sex:z"}, cmds: [][]string{
			{"SETEX", "sex:a", "100", "v"}, {"GET", "sex:a"}, {"PSETEX", "sex:a", "100000", "w"}, {"GET", "sex:a"},
			{"SETEX", "sex:a", "0", "v"}, {"SETEX", "sex:a", "-1", "v"}, {"SETEX", "sex:a", "x", "v"},
			{"SETEX", "sex:a", "9223372036854775", "v"}, {"PSETEX", "sex:a", "0", "v"},
			{"PSETEX", "sex:a", "9223372036854775807", "v"}, {"PSETEX", "sex:a", "1.5", "v"},
			{"SETEX", "sex:z", "100", "v"}, {"GET", "sex:z"}, {"GET", "sex:a"},
		}},
		{name: "getex", nonString: []string{"gex:z"}, cmds: [][]string{
			{"GETEX", "gex:missing"}, {"GETEX", "gex:missing", "EX", "0"}, {"GETEX", "gex:missing", "EX", "abc"},
			{"GETEX", "gex:missing", "FOO"}, {"GETEX", "gex:z"}, {"GETEX", "gex:z", "EX", "0"},
			{"SET", "gex:a", "v"}, {"GETEX", "gex:a"}, {"GETEX", "gex:a", "EX", "100"}, {"GETEX", "gex:a", "PX", "100000"},
			{"GETEX", "gex:a", "EXAT", "99999999999"}, {"GETEX", "gex:a", "PXAT", "99999999999999"},
			{"GETEX", "gex:a", "PERSIST"}, {"GETEX", "gex:a", "persist", "PERSIST"}, {"GETEX", "gex:a", "EX", "10", "EX", "20"},
			{"GETEX", "gex:a", "PERSIST", "EX", "10"}, {"GETEX", "gex:a", "EX", "10", "PERSIST"},
			{"GETEX", "gex:a", "EX", "10", "PX", "10"}, {"GETEX", "gex:a", "KEEPTTL"}, {"GETEX", "gex:a", "GET"},
			{"GETEX", "gex:a", "NX"}, {"GETEX", "gex:a", "EX"}, {"GETEX", "gex:a", "EX", "0"}, {"GETEX", "gex:a", "EX", "-3"},
			{"GETEX", "gex:a", "EX", "9223372036854775"}, {"GETEX", "gex:a", "PX", "9223372036854775807"},
			{"GETEX", "gex:a", "EX", "x"}, {"GETEX", "gex:a", "EXAT", "0"},
			{"GETEX", "gex:a", "EXAT", "1"}, {"GET", "gex:a"}, {"GETEX", "gex:a"},
			{"SET", "gex:b", "w"}, {"GETEX", "gex:b", "PXAT", "1"}, {"GET", "gex:b"},
		}},
		{name: "getdel", nonString: []string{"gdl:z"}, cmds: [][]string{
			{"GETDEL", "gdl:missing"}, {"SET", "gdl:a", "v"}, {"GETDEL", "gdl:a"}, {"GET", "gdl:a"}, {"GETDEL", "gdl:a"},
			{"GETDEL", "gdl:z"},
		}},
		{name: "getset", nonString: []string{"gst:z"}, cmds: [][]string{
			{"GETSET", "gst:a", "1"}, {"GETSET", "gst:a", "2"}, {"GET", "gst:a"}, {"GETSET", "gst:z", "1"},
		}},
		{name: "mget mset", nonString: []string{"mg:z"}, cmds: [][]string{
			{"MSET", "mg:a", "1", "mg:b", "2"}, {"MGET", "mg:a", "mg:b", "mg:missing", "mg:z", "mg:a"},
			{"MSET", "mg:a"}, {"MSET", "mg:a", "1", "mg:b"}, {"MSETNX", "mg:a", "1", "mg:c"},
			{"MSET", "mg:z", "now string", "mg:a", "x", "mg:a", "y"}, {"MGET", "mg:z", "mg:a"},
			{"MSETNX", "mg:c", "1", "mg:a", "2"}, {"MGET", "mg:c", "mg:a"},
			{"MSETNX", "mg:c", "1", "mg:d", "2"}, {"MGET", "mg:c", "mg:d"},
			{"MSETNX", "mg:e", "1", "mg:e", "2"}, {"GET", "mg:e"},
		}},
		{name: "append strlen", nonString: []string{"ap:z"}, cmds: [][]string{
			{"STRLEN", "ap:a"}, {"APPEND", "ap:a", "hello"}, {"APPEND", "ap:a", " world"}, {"APPEND", "ap:a", ""},
			{"GET", "ap:a"}, {"STRLEN", "ap:a"}, {"APPEND", "ap:b", ""}, {"GET", "ap:b"}, {"STRLEN", "ap:b"},
			{"APPEND", "ap:z", "x"}, {"STRLEN", "ap:z"},
			{"SET", "ap:n", "10"}, {"APPEND", "ap:n", "5"}, {"INCR", "ap:n"},
		}},
		{name: "getrange", nonString: []string{"gr:z"}, cmds: [][]string{
			{"GETRANGE", "gr:missing", "0", "-1"}, {"GETRANGE", "gr:z", "0", "-1"}, {"GETRANGE", "gr:z", "x", "-1"},
			{"SET", "gr:e", ""}, {"GETRANGE", "gr:e", "0", "-1"}, {"GETRANGE", "gr:e", "0", "0"}, {"GETRANGE", "gr:e", "-1", "5"},
			{"SET", "gr:a", "hello"},
			{"GETRANGE", "gr:a", "0", "-1"}, {"GETRANGE", "gr:a", "0", "0"}, {"GETRANGE", "gr:a", "1", "3"},
			{"GETRANGE", "gr:a", "-3", "-1"}, {"GETRANGE", "gr:a", "0", "-100"}, {"GETRANGE", "gr:a", "-100", "-100"},
			{"GETRANGE", "gr:a", "-1", "-5"}, {"GETRANGE", "gr:a", "-10", "-20"}, {"GETRANGE", "gr:a", "-5", "-1"}, {"GETRANGE", "gr:a", "3", "1"},
			{"GETRANGE", "gr:a", "2", "100"}, {"GETRANGE", "gr:a", "5", "10"}, {"GETRANGE", "gr:a", "10", "20"},
			{"GETRANGE", "gr:a", "-100", "2"}, {"GETRANGE", "gr:a", "4", "-1"}, {"GETRANGE", "gr:a", "-1", "-1"},
			{"GETRANGE", "gr:a", "0", "9223372036854775807"}, {"GETRANGE", "gr:a", "-9223372036854775808", "-1"},
			{"GETRANGE", "gr:a", "-9223372036854775808", "-9223372036854775808"},
			{"GETRANGE", "gr:a", "0", "9223372036854775808"}, {"GETRANGE", "gr:a", "a", "1"}, {"GETRANGE", "gr:a", "1", "b"},
			{"GETRANGE", "gr:a", "01", "2"}, {"GETRANGE", "gr:a", " 1", "2"},
			{"SUBSTR", "gr:a", "1", "3"}, {"SUBSTR", "gr:a", "-2", "-1"}, {"SUBSTR", "gr:missing", "0", "1"},
			{"SET", "gr:n", "12345"}, {"GETRANGE", "gr:n", "1", "2"},
		}},
		{name: "setrange", nonString: []string{"sr:z"}, cmds: [][]string{
			{"SETRANGE", "sr:a", "0", "hello"}, {"SETRANGE", "sr:a", "6", "world"}, {"GET", "sr:a"},
			{"SETRANGE", "sr:a", "1", "EL"}, {"GET", "sr:a"}, {"SETRANGE", "sr:a", "2", ""}, {"GET", "sr:a"},
			{"SETRANGE", "sr:b", "3", "ab"}, {"GET", "sr:b"},
			{"SETRANGE", "sr:c", "5", ""}, {"GET", "sr:c"}, {"STRLEN", "sr:c"},
			{"SETRANGE", "sr:c", "536870912", ""}, {"SETRANGE", "sr:a", "536870912", ""},
			{"SETRANGE", "sr:a", "-1", "x"}, {"SETRANGE", "sr:a", "-1", ""}, {"SETRANGE", "sr:z", "-1", "x"},
			{"SETRANGE", "sr:a", "x", "y"}, {"SETRANGE", "sr:a", "9223372036854775808", "y"},
			{"SETRANGE", "sr:a", "536870912", "x"}, {"SETRANGE", "sr:a", "536870911", "xy"},
			{"SETRANGE", "sr:a", "9223372036854775807", "x"}, {"SETRANGE", "sr:d", "536870912", "x"}, {"GET", "sr:d"},
			{"SETRANGE", "sr:z", "0", "x"}, {"SETRANGE", "sr:z", "0", ""},
			{"SET", "sr:n", "12345"}, {"SETRANGE", "sr:n", "1", "x"}, {"GET", "sr:n"},
		}},
	}
	strForEachDiffProto(t, func(t *testing.T, d *strDiffer) { strRunDiffCases(t, d, cases) })
}

func TestStringDiff_Counters(t *testing.T) {
	cases := []strDiffCase{
		{name: "incr decr", nonString: []string{"ic:z"}, cmds: [][]string{
			{"INCR", "ic:a"}, {"INCR", "ic:a"}, {"DECR", "ic:a"}, {"DECR", "ic:b"}, {"GET", "ic:b"},
			{"INCRBY", "ic:a", "100"}, {"INCRBY", "ic:a", "-300"}, {"DECRBY", "ic:a", "-5"}, {"DECRBY", "ic:a", "5"},
			{"GET", "ic:a"}, {"INCR", "ic:z"}, {"DECRBY", "ic:z", "1"}, {"INCRBY", "ic:z", "x"},
		}},
		{name: "bad values", cmds: [][]string{
			{"SET", "iv:a", "abc"}, {"INCR", "iv:a"}, {"SET", "iv:a", ""}, {"INCR", "iv:a"},
			{"SET", "iv:a", " 1"}, {"INCR", "iv:a"}, {"SET", "iv:a", "1 "}, {"INCR", "iv:a"},
			{"SET", "iv:a", "+1"}, {"INCR", "iv:a"}, {"SET", "iv:a", "01"}, {"INCR", "iv:a"},
			{"SET", "iv:a", "-0"}, {"INCR", "iv:a"}, {"SET", "iv:a", "1.0"}, {"INCR", "iv:a"},
			{"SET", "iv:a", "9223372036854775808"}, {"INCR", "iv:a"}, {"SET", "iv:a", "0x10"}, {"INCR", "iv:a"},
			{"SET", "iv:a", "-"}, {"DECR", "iv:a"}, {"SET", "iv:a", "0"}, {"INCR", "iv:a"},
			{"SET", "iv:a", "-9223372036854775808"}, {"INCR", "iv:a"},
			{"SET", "iv:b", "5"}, {"INCRBY", "iv:b", "abc"}, {"INCRBY", "iv:b", "1.5"}, {"INCRBY", "iv:b", ""},
			{"INCRBY", "iv:b", "9223372036854775808"}, {"DECRBY", "iv:b", "+1"}, {"DECRBY", "iv:b", "-0"},
			{"SET", "iv:c", "x"}, {"INCRBY", "iv:c", "y"}, {"DECRBY", "iv:c", "-9223372036854775808"},
		}},
		{name: "overflow", nonString: []string{"io:z"}, cmds: [][]string{
			{"SET", "io:a", "9223372036854775807"}, {"INCR", "io:a"}, {"INCRBY", "io:a", "1"}, {"DECRBY", "io:a", "-1"},
			{"INCRBY", "io:a", "0"}, {"INCRBY", "io:a", "-9223372036854775808"}, {"GET", "io:a"},
			{"SET", "io:b", "-9223372036854775808"}, {"DECR", "io:b"}, {"INCRBY", "io:b", "-1"}, {"DECRBY", "io:b", "1"},
			{"INCRBY", "io:b", "9223372036854775807"}, {"GET", "io:b"},
			{"SET", "io:c", "-1"}, {"INCRBY", "io:c", "-9223372036854775808"}, {"SET", "io:c", "-1"}, {"DECRBY", "io:c", "9223372036854775807"},
			{"GET", "io:c"}, {"DECRBY", "io:c", "-9223372036854775808"}, {"DECRBY", "io:d", "-9223372036854775808"},
			{"DECRBY", "io:z", "-9223372036854775808"}, {"GET", "io:d"},
		}},
		{name: "incrbyfloat", nonString: []string{"if:z"}, cmds: [][]string{
			{"INCRBYFLOAT", "if:a", "0.1"}, {"INCRBYFLOAT", "if:a", "0.2"}, {"INCRBYFLOAT", "if:a", "-0.3"},
			{"INCRBYFLOAT", "if:a", "10.5"}, {"INCRBYFLOAT", "if:a", "1e3"}, {"INCRBYFLOAT", "if:a", "5.0e3"},
			{"GET", "if:a"}, {"INCRBYFLOAT", "if:z", "1"}, {"INCRBYFLOAT", "if:z", "x"},
			{"SET", "if:b", "10.5"}, {"INCRBYFLOAT", "if:b", "0.1"}, {"SET", "if:b", "3.0e3"}, {"INCRBYFLOAT", "if:b", "0"},
			{"SET", "if:b", "5"}, {"INCRBYFLOAT", "if:b", "2"}, {"INCR", "if:b"}, {"INCRBYFLOAT", "if:b", "0.5"}, {"INCR", "if:b"},
			{"SET", "if:b", "9223372036854775807"}, {"INCRBYFLOAT", "if:b", "1"},
			{"SET", "if:b", "18446744073709551617"}, {"INCRBYFLOAT", "if:b", "0"},
			{"SET", "if:b", "1.23456789012345678901234567890"}, {"INCRBYFLOAT", "if:b", "0"},
			{"SET", "if:b", "1"}, {"INCRBYFLOAT", "if:b", "0.00000000000000001"}, {"INCRBYFLOAT", "if:b", "5e-18"},
			{"SET", "if:b", "1"}, {"INCRBYFLOAT", "if:b", "-1.5e-17"}, {"SET", "if:b", "3"}, {"INCRBYFLOAT", "if:b", "1e20"},
			{"SET", "if:b", "-0"}, {"INCRBYFLOAT", "if:b", "-0"}, {"SET", "if:b", "-1e-20"}, {"INCRBYFLOAT", "if:b", "0"},
			{"SET", "if:b", "1"}, {"INCRBYFLOAT", "if:b", "-1"}, {"INCRBYFLOAT", "if:b", "-0.0"},
		}},
		{name: "incrbyfloat limits", cmds: [][]string{
			{"SET", "il:a", "1e308"}, {"INCRBYFLOAT", "il:a", "1e308"}, {"INCRBYFLOAT", "il:a", "9e308"},
			{"SET", "il:b", "1e4932"}, {"INCRBYFLOAT", "il:b", "1e4932"}, {"GET", "il:b"},
			{"SET", "il:b", "1e4000"}, {"INCRBYFLOAT", "il:b", "-1e3999"},
			{"SET", "il:c", "0"}, {"INCRBYFLOAT", "il:c", "1e5000"}, {"INCRBYFLOAT", "il:c", "1e-5000"},
			{"INCRBYFLOAT", "il:c", "1e-4940"}, {"INCRBYFLOAT", "il:c", "-1e-4950"},
			{"INCRBYFLOAT", "il:c", "1.18973149535723176502e+4932"}, {"SET", "il:c", "0"},
			{"INCRBYFLOAT", "il:c", "1.18973149535723176509e+4932"},
			{"INCRBYFLOAT", "il:c", "0x1.fffffffffffffffep16383"}, {"INCRBYFLOAT", "il:c", "0x1.ffffffffffffffff8p16383"},
			{"SET", "il:c", "0"}, {"INCRBYFLOAT", "il:c", "0x1p-16445"}, {"INCRBYFLOAT", "il:c", "0x1p-16446"},
			{"INCRBYFLOAT", "il:c", "1.8225997659412373012e-4951"}, {"INCRBYFLOAT", "il:c", "1.8225997659412373013e-4951"},
			{"SET", "il:d", "1e5000"}, {"INCRBYFLOAT", "il:d", "1"}, {"SET", "il:d", "1e-5000"}, {"INCRBYFLOAT", "il:d", "1"},
			{"SET", "il:e", "1." + strings.Repeat("0", ldMaxChars-3)}, {"INCRBYFLOAT", "il:e", "1"},
			{"SET", "il:e", "1." + strings.Repeat("0", ldMaxChars-2)}, {"INCRBYFLOAT", "il:e", "1"},
			{"INCRBYFLOAT", "il:f", "1." + strings.Repeat("0", ldMaxChars-3)},
			{"INCRBYFLOAT", "il:f", "1." + strings.Repeat("0", ldMaxChars-2)},
		}},
		{name: "incrbyfloat syntax", cmds: strFloatSyntaxCases("is")},
	}
	strForEachDiffProto(t, func(t *testing.T, d *strDiffer) { strRunDiffCases(t, d, cases) })
}

// strFloatSyntaxCases feeds strtold edge syntaxes to INCRBYFLOAT both as the
// increment and as the stored value.
func strFloatSyntaxCases(prefix string) [][]string {
	inputs := []string{
		"1", "+1", "-1", ".5", "5.", "-.5", "+.5", ".", "-", "+", "", " 1", "1 ", "\t1", "1\x00",
		"0x10", "0X1P+2", "0x1.8p1", "0x.8", "0x", "0x1p", "0xg", "-0x10", "0x1P-2",
		"1e5", "1E5", "1e+5", "1e-5", "1e", "1e+", "1ee", "1e0005", "00012", "1_000", "1d", "1f", "1L",
		"inf", "INF", "-inf", "infinity", "-Infinity", "+inf", "infin", "nan", "NaN", "-nan", "nan(123)",
		"1,5", "1.5.5", "--1", "0.1", "3.0e3", "1e-400", "1e400", ".e1", "-.e1", "0e99999", "1e-99999999999999999999",
	}
	var cmds [][]string
	for i, in := range inputs {
		k := fmt.Sprintf("%s:%d", prefix, i)
		cmds = append(cmds,
			[]string{"SET", k, "1"}, []string{"INCRBYFLOAT", k, in},
			[]string{"SET", k, in}, []string{"INCRBYFLOAT", k, "1"}, []string{"GET", k})
	}
	return cmds
}

// TestStringDiff_StringLimits lowers proto-max-bulk-len to Redis's minimum
// (1 MiB) on both servers so that the APPEND and SETRANGE size limits are
// reachable without 512 MiB strings.
func TestStringDiff_StringLimits(t *testing.T) {
	const limit = 1 << 20
	d := newStrDiffer(t, 2, "proto-max-bulk-len", strconv.Itoa(limit))
	if got := d.redis.do("CONFIG", "SET", "proto-max-bulk-len", strconv.Itoa(limit)); got != "+OK\r\n" {
		t.Fatalf("redis CONFIG SET: %q", got)
	}
	big := strings.Repeat("x", limit-10)
	d.run([][]string{
		{"SET", "lim:a", big}, {"APPEND", "lim:a", "0123456789"}, {"APPEND", "lim:a", "x"}, {"STRLEN", "lim:a"},
		{"SET", "lim:b", big}, {"APPEND", "lim:b", "0123456789x"}, {"STRLEN", "lim:b"},
		{"SETRANGE", "lim:c", strconv.Itoa(limit - 1), "x"}, {"STRLEN", "lim:c"},
		{"SETRANGE", "lim:c", strconv.Itoa(limit), "x"}, {"SETRANGE", "lim:c", strconv.Itoa(limit - 1), "xy"},
		{"SETRANGE", "lim:d", strconv.Itoa(limit - 1), "xy"}, {"STRLEN", "lim:d"},
		{"SETRANGE", "lim:c", strconv.Itoa(limit + 5), ""}, {"STRLEN", "lim:c"},
	})
}

// TestStringDiff_Random runs a seeded random sequence of string and counter
// commands over a few keys on both servers. CAIRN_SEED overrides the seed.
func TestStringDiff_Random(t *testing.T) {
	seed := rand.Uint64()
	if s := os.Getenv("CAIRN_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CAIRN_SEED: %v", err)
		}
	}
	t.Logf("seed %d (rerun with CAIRN_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const ops = 600
	strForEachDiffProto(t, func(t *testing.T, d *strDiffer) {
		for i := range ops {
			args := strRandomStringCommand(rng)
			d.do(args...)
			if t.Failed() {
				t.Fatalf("stopped at op %d of %d", i, ops)
			}
		}
	})
}

var strRandomKeys = []string{"rk:a", "rk:b", "rk:c", "rk:d"}

func strRandomValue(rng *rand.Rand) string {
	pool := []string{
		"", "0", "1", "-1", "10", "42", "9223372036854775807", "-9223372036854775808", "9223372036854775806",
		"0.1", "0.2", "10.5", "-3.25", "1e3", "3.0e3", "1e308", "abc", "hello world", "x", "0x10", " 1",
	}
	switch rng.IntN(4) {
	case 0:
		return strconv.FormatInt(rng.Int64N(2000)-1000, 10)
	case 1:
		return strconv.FormatFloat(rng.NormFloat64()*1000, 'f', rng.IntN(6), 64)
	}
	return pool[rng.IntN(len(pool))]
}

func strRandomInt(rng *rand.Rand) string {
	pool := []string{"0", "1", "-1", "100", "-100", "9223372036854775807", "-9223372036854775808", "x", "1.5"}
	if rng.IntN(3) == 0 {
		return pool[rng.IntN(len(pool))]
	}
	return strconv.FormatInt(rng.Int64N(200)-100, 10)
}

// strRandomStringCommand builds one command. Expiry options are either far in
// the future or already past, so replies never depend on timing.
func strRandomStringCommand(rng *rand.Rand) []string {
	k := strRandomKeys[rng.IntN(len(strRandomKeys))]
	k2 := strRandomKeys[rng.IntN(len(strRandomKeys))]
	switch rng.IntN(22) {
	case 0, 1:
		return []string{"GET", k}
	case 2, 3:
		args := []string{"SET", k, strRandomValue(rng)}
		opts := [][]string{{"NX"}, {"XX"}, {"GET"}, {"KEEPTTL"}, {"EX", "1000"}, {"PX", "1000000"},
			{"EXAT", "99999999999"}, {"PXAT", "1"}, {"EX", "0"}}
		for range rng.IntN(3) {
			args = append(args, opts[rng.IntN(len(opts))]...)
		}
		return args
	case 4:
		return []string{"SETNX", k, strRandomValue(rng)}
	case 5:
		return []string{"SETEX", k, []string{"1000", "0", "x"}[rng.IntN(3)], strRandomValue(rng)}
	case 6:
		opts := [][]string{{}, {"EX", "1000"}, {"PERSIST"}, {"PXAT", "1"}, {"PX", "0"}}
		return append([]string{"GETEX", k}, opts[rng.IntN(len(opts))]...)
	case 7:
		return []string{"GETDEL", k}
	case 8:
		return []string{"GETSET", k, strRandomValue(rng)}
	case 9:
		return []string{"MGET", k, k2, "rk:missing"}
	case 10:
		return []string{"MSET", k, strRandomValue(rng), k2, strRandomValue(rng)}
	case 11:
		return []string{"MSETNX", k, strRandomValue(rng), k2, strRandomValue(rng)}
	case 12:
		return []string{"APPEND", k, strRandomValue(rng)}
	case 13:
		return []string{"STRLEN", k}
	case 14:
		return []string{"GETRANGE", k, strconv.Itoa(rng.IntN(30) - 15), strconv.Itoa(rng.IntN(30) - 15)}
	case 15:
		return []string{"SETRANGE", k, strconv.Itoa(rng.IntN(20) - 2), strRandomValue(rng)}
	case 16:
		return []string{"INCR", k}
	case 17:
		return []string{"DECR", k}
	case 18:
		return []string{"INCRBY", k, strRandomInt(rng)}
	case 19:
		return []string{"DECRBY", k, strRandomInt(rng)}
	default:
		return []string{"INCRBYFLOAT", k, strRandomValue(rng)}
	}
}
