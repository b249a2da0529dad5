package commands

import (
	"fmt"
	"strings"
)

// Flag is a Redis command flag. The order of the constants is the order in
// which COMMAND INFO lists them (Redis 7.0 addReplyCommandFlags).
type Flag uint32

const (
	Write Flag = 1 << iota
	ReadOnly
	DenyOOM
	Module
	Admin
	PubSub
	NoScript
	Blocking
	Loading
	Stale
	SkipMonitor
	SkipSlowlog
	Asking
	Fast
	NoAuth
	NoMandatoryKeys
	NoAsyncLoading
	NoMulti
	MovableKeys
	AllowBusy
	// MayReplicate is a Redis flag that COMMAND does not print.
	MayReplicate
	// Internal marks peer-to-peer commands hidden from COMMAND.
	Internal
	// Keyspace makes a command without keys or Write/ReadOnly run inside a
	// store Update anyway (INFO keyspace, UNWATCH). Not printed.
	Keyspace
)

var flagNames = []string{
	"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
	"loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
	"no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy",
}

// names lists the printable flag names set in f, in COMMAND order.
func (f Flag) names() []string {
	var out []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// ACLCat is a set of ACL categories. The order of the constants is Redis's
// ACLCommandCategories order, which COMMAND INFO follows.
type ACLCat uint32

const (
	CatKeyspace ACLCat = 1 << iota
	CatRead
	CatWrite
	CatSet
	CatSortedSet
	CatList
	CatHash
	CatString
	CatBitmap
	CatHyperLogLog
	CatGeo
	CatStream
	CatPubSub
	CatAdmin
	CatFast
	CatSlow
	CatBlocking
	CatDangerous
	CatConnection
	CatTransaction
	CatScripting
)

var catNames = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
	"dangerous", "connection", "transaction", "scripting",
}

func (a ACLCat) names() []string {
	var out []string
	for i, n := range catNames {
		if a&(1<<i) != 0 {
			out = append(out, "@"+n)
		}
	}
	return out
}

// Spec declares one command (or subcommand). It is written once, next to
// its handler; everything else (arity check, COMMAND output, ACL
// categories, key extraction) is derived from it.
type Spec struct {
	Name  string // lowercase; a subcommand's own name ("get" under "config")
	Arity int    // Redis rule, counting the name: n exact, -n at least n
	Flags Flag
	// Keys: positions of key arguments, FirstKey..LastKey (negative counts
	// from the end) every Step; FirstKey 0 means no keys. KeysFunc, when
	// set, finds them instead (movable keys).
	FirstKey, LastKey, Step int
	KeysFunc                func(args [][]byte) []int
	ACL                     ACLCat // the explicit categories of Redis's JSON; implicit ones are derived
	// KeySpecs and Tips are Redis 7 key specifications and command tips,
	// as COMMAND INFO prints them (copied from Redis's command JSON).
	KeySpecs              []KeySpec
	Tips                  []string
	Group, Since, Summary string
	Complexity            string
	Handler               func(c *Ctx)
	Sub                   []*Spec

	fullName string // "config|get" for subcommands
	usesTx   bool   // runs inside store.Update: Write, ReadOnly, Keyspace or has keys
	parent   *Spec
	subs     map[string]*Spec
	stats    *cmdStats // per table: NewTable copies the declared specs
}

// FullName is the name COMMAND and error texts use: "get", "config|get".
func (s *Spec) FullName() string { return s.fullName }

// categories returns the explicit categories plus those implied by the
// flags (Redis setImplicitACLCategories).
func (s *Spec) categories() ACLCat {
	c := s.ACL
	if s.Flags&Write != 0 {
		c |= CatWrite
	}
	if s.Flags&ReadOnly != 0 && c&CatScripting == 0 {
		c |= CatRead
	}
	if s.Flags&Admin != 0 {
		c |= CatAdmin | CatDangerous
	}
	if s.Flags&PubSub != 0 {
		c |= CatPubSub
	}
	if s.Flags&Fast != 0 {
		c |= CatFast
	}
	if s.Flags&Blocking != 0 {
		c |= CatBlocking
	}
	if c&CatFast == 0 {
		c |= CatSlow
	}
	return c
}

// keyPositions returns the indexes of key arguments in args.
func (s *Spec) keyPositions(args [][]byte) []int {
	if s.KeysFunc != nil {
		return s.KeysFunc(args)
	}
	if s.FirstKey <= 0 || s.FirstKey >= len(args) {
		return nil
	}
	last := s.LastKey
	if last < 0 {
		last += len(args)
	}
	if last >= len(args) {
		last = len(args) - 1
	}
	var out []int
	for i := s.FirstKey; i <= last; i += s.Step {
		out = append(out, i)
	}
	return out
}

// Table is the immutable command table.
type Table struct {
	byName map[string]*Spec
	list   []*Spec // top-level commands in declaration order
}

// NewTable builds and validates the table. It panics on an invalid spec: a
// duplicate name, a missing handler, Write with ReadOnly, or a key range
// outside the arity; a unit test builds the real table so this fails in CI.
func NewTable(specs []*Spec) *Table {
	t := &Table{byName: make(map[string]*Spec)}
	for _, declared := range specs {
		s := declared.clone()
		s.fullName = s.Name
		validate(s)
		if _, dup := t.byName[s.Name]; dup {
			panic("commands: duplicate command " + s.Name)
		}
		t.byName[s.Name] = s
		t.list = append(t.list, s)
		if len(s.Sub) > 0 {
			s.subs = make(map[string]*Spec)
		}
		for _, sub := range s.Sub {
			sub.parent = s
			sub.stats = &cmdStats{}
			sub.fullName = s.Name + "|" + sub.Name
			validate(sub)
			if _, dup := s.subs[sub.Name]; dup {
				panic("commands: duplicate subcommand " + sub.fullName)
			}
			s.subs[sub.Name] = sub
		}
	}
	return t
}

// clone copies a declared spec and its subcommands, so that each table (each
// server in a process) has its own counters and derived fields.
func (s *Spec) clone() *Spec {
	c := *s
	c.stats = &cmdStats{}
	c.Sub = make([]*Spec, len(s.Sub))
	for i, sub := range s.Sub {
		sc := *sub
		c.Sub[i] = &sc
	}
	return &c
}

func validate(s *Spec) {
	bad := func(why string) { panic(fmt.Sprintf("commands: %s: %s", s.fullName, why)) }
	if s.Name == "" || s.Name != strings.ToLower(s.Name) {
		bad("name must be lowercase and non-empty")
	}
	if s.Handler == nil && len(s.Sub) == 0 {
		bad("no handler")
	}
	if s.Arity == 0 {
		bad("arity 0")
	}
	if s.Flags&Write != 0 && s.Flags&ReadOnly != 0 {
		bad("both write and readonly")
	}
	if s.FirstKey < 0 || (s.FirstKey > 0 && s.Step <= 0) {
		bad("bad key range")
	}
	if s.FirstKey == 0 && (s.LastKey != 0 || s.Step != 0) {
		bad("key range without first key")
	}
	if s.Arity > 0 && (s.FirstKey >= s.Arity || s.LastKey >= s.Arity) {
		bad("key range outside the arity")
	}
	if s.KeysFunc != nil && s.Flags&MovableKeys == 0 {
		s.Flags |= MovableKeys
	}
	s.usesTx = s.Flags&(Write|ReadOnly|Keyspace) != 0 || (s.FirstKey > 0 && !s.channelsOnly()) || s.KeysFunc != nil
}

// Lookup finds the command for args: the subcommand of a container when
// there is one. It does not allocate for names up to 64 bytes.
func (t *Table) Lookup(args [][]byte) *Spec {
	s := lookupFold(t.byName, args[0])
	if s == nil || s.subs == nil || len(args) < 2 {
		return s
	}
	return lookupFold(s.subs, args[1])
}

// Get returns a command by its lowercase full name ("get", "config|get").
func (t *Table) Get(fullName string) *Spec {
	name, sub, ok := strings.Cut(fullName, "|")
	s := t.byName[name]
	if !ok || s == nil {
		return s
	}
	return s.subs[sub]
}

// Commands lists the top-level commands in declaration order.
func (t *Table) Commands() []*Spec { return t.list }

// lookupFold looks name up in m case-insensitively. The conversion inside
// the index expression keeps the lookup free of allocations.
func lookupFold(m map[string]*Spec, name []byte) *Spec {
	var buf [64]byte
	if len(name) > len(buf) {
		return m[strings.ToLower(string(name))]
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return m[string(buf[:len(name)])]
}
