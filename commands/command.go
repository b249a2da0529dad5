package commands

import (
	"strings"

	"cairn/resp"
)

// COMMAND and its subcommands. Every reply is derived from the table
// (Spec fields, Flag.names, Spec.categories) plus two side tables below for
// the Redis 7 fields Spec has no place for yet: command tips and key
// specifications. Commands flagged Internal are invisible here.

// KeySpec is one Redis 7 key specification (COMMAND INFO element 9): where
// the search for keys begins and how keys are found from there, plus the
// access flags of those keys.
type KeySpec struct {
	Notes string
	Flags string // space-separated, in Redis's order: "RW access update"

	// Begin search: Index > 0 starts at that argument; else Keyword (looked
	// for from StartFrom, counting from the end when negative); neither
	// means "unknown".
	Index     int
	Keyword   string
	StartFrom int

	// Find keys: KeyNum means "keynum" (KeyNumIdx, FirstKey, KeyStep);
	// Unknown means "unknown"; otherwise "range" (LastKey, KeyStep, Limit).
	KeyNum    bool
	Unknown   bool
	LastKey   int
	KeyStep   int
	Limit     int
	KeyNumIdx int
	FirstKey  int
}

// ksRange is a key spec starting at argument index with a range of keys:
// lastKey relative to index (negative counts from the end), every step.
func ksRange(flags string, index, lastKey, step, limit int) KeySpec {
	return KeySpec{Flags: flags, Index: index, LastKey: lastKey, KeyStep: step, Limit: limit}
}

// ksKeyNum is a key spec starting at index whose key count is the argument
// at index+keyNumIdx, with the first key at index+firstKey.
func ksKeyNum(flags string, index, keyNumIdx, firstKey, step int) KeySpec {
	return KeySpec{Flags: flags, Index: index, KeyNum: true, KeyNumIdx: keyNumIdx, FirstKey: firstKey, KeyStep: step}
}

// ksKeyword is a key spec starting after keyword, searched from startFrom.
func ksKeyword(flags, keyword string, startFrom, lastKey, step, limit int) KeySpec {
	return KeySpec{Flags: flags, Keyword: keyword, StartFrom: startFrom, LastKey: lastKey, KeyStep: step, Limit: limit}
}

// ksUnknown is a key spec whose keys cannot be found from the arguments.
func ksUnknown(flags, notes string) KeySpec {
	return KeySpec{Flags: flags, Notes: notes, Unknown: true}
}

func (k KeySpec) withNotes(n string) KeySpec { k.Notes = n; return k }

// commandTips are Redis 7.0's command tips, by full name (COMMAND INFO
// element 8), for the command groups Cairn implements (string, generic,
// sorted-set, transactions, server, connection, cluster). They belong next
// to each Spec; until Spec has a Tips field they live here, and the golden
// test checks them against Redis for every command in the table.
var commandTips = map[string][]string{
	"client|info":                   {"nondeterministic_output"},
	"client|list":                   {"nondeterministic_output"},
	"cluster|bumpepoch":             {"nondeterministic_output"},
	"cluster|count-failure-reports": {"nondeterministic_output"},
	"cluster|getkeysinslot":         {"nondeterministic_output"},
	"cluster|info":                  {"nondeterministic_output"},
	"cluster|links":                 {"nondeterministic_output"},
	"cluster|nodes":                 {"nondeterministic_output"},
	"cluster|replicas":              {"nondeterministic_output"},
	"cluster|shards":                {"nondeterministic_output"},
	"cluster|slaves":                {"nondeterministic_output"},
	"cluster|slots":                 {"nondeterministic_output"},
	"command":                       {"nondeterministic_output_order"},
	"command|docs":                  {"nondeterministic_output_order"},
	"command|info":                  {"nondeterministic_output_order"},
	"command|list":                  {"nondeterministic_output_order"},
	"config|set":                    {"request_policy:all_nodes", "response_policy:all_succeeded"},
	"dbsize":                        {"request_policy:all_shards", "response_policy:agg_sum"},
	"del":                           {"request_policy:multi_shard", "response_policy:agg_sum"},
	"dump":                          {"nondeterministic_output"},
	"exists":                        {"request_policy:multi_shard", "response_policy:agg_sum"},
	"flushall":                      {"request_policy:all_shards", "response_policy:all_succeeded"},
	"flushdb":                       {"request_policy:all_shards", "response_policy:all_succeeded"},
	"info":                          {"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
	"keys":                          {"request_policy:all_shards", "nondeterministic_output_order"},
	"lastsave":                      {"nondeterministic_output"},
	"latency|doctor":                {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"},
	"latency|graph":                 {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"},
	"latency|histogram":             {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"},
	"latency|history":               {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"},
	"latency|latest":                {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"},
	"latency|reset":                 {"request_policy:all_nodes", "response_policy:all_succeeded"},
	"memory|doctor":                 {"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
	"memory|malloc-stats":           {"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
	"memory|purge":                  {"request_policy:all_shards", "response_policy:all_succeeded"},
	"memory|stats":                  {"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
	"mget":                          {"request_policy:multi_shard"},
	"migrate":                       {"nondeterministic_output"},
	"module|list":                   {"nondeterministic_output_order"},
	"mset":                          {"request_policy:multi_shard", "response_policy:all_succeeded"},
	"msetnx":                        {"request_policy:multi_shard", "response_policy:agg_min"},
	"object|encoding":               {"nondeterministic_output"},
	"object|freq":                   {"nondeterministic_output"},
	"object|idletime":               {"nondeterministic_output"},
	"object|refcount":               {"nondeterministic_output"},
	"ping":                          {"request_policy:all_shards", "response_policy:all_succeeded"},
	"pttl":                          {"nondeterministic_output"},
	"randomkey":                     {"request_policy:all_shards", "nondeterministic_output"},
	"scan":                          {"nondeterministic_output", "request_policy:special"},
	"slowlog|get":                   {"request_policy:all_nodes", "nondeterministic_output"},
	"slowlog|len":                   {"request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"},
	"slowlog|reset":                 {"request_policy:all_nodes", "response_policy:all_succeeded"},
	"time":                          {"nondeterministic_output"},
	"touch":                         {"request_policy:multi_shard", "response_policy:agg_sum"},
	"ttl":                           {"nondeterministic_output"},
	"unlink":                        {"request_policy:multi_shard", "response_policy:agg_sum"},
	"wait":                          {"request_policy:all_shards", "response_policy:agg_min"},
	"zrandmember":                   {"nondeterministic_output"},
	"zscan":                         {"nondeterministic_output"},
}

// commandKeySpecs are Redis 7.0's key specifications, by full name, for
// the same groups as commandTips. Like the tips they belong in Spec; a
// command missing here replies with no key specs and the golden test lists
// it.
var commandKeySpecs = map[string][]KeySpec{
	"append":   {ksRange("RW insert", 1, 0, 1, 0)},
	"bzmpop":   {ksKeyNum("RW access delete", 2, 0, 1, 1)},
	"bzpopmax": {ksRange("RW access delete", 1, -2, 1, 0)},
	"bzpopmin": {ksRange("RW access delete", 1, -2, 1, 0)},
	"copy": {
		ksRange("RO access", 1, 0, 1, 0),
		ksRange("OW update", 2, 0, 1, 0),
	},
	"decr":         {ksRange("RW access update", 1, 0, 1, 0)},
	"decrby":       {ksRange("RW access update", 1, 0, 1, 0)},
	"del":          {ksRange("RM delete", 1, -1, 1, 0)},
	"dump":         {ksRange("RO access", 1, 0, 1, 0)},
	"exists":       {ksRange("RO", 1, -1, 1, 0)},
	"expire":       {ksRange("RW update", 1, 0, 1, 0)},
	"expireat":     {ksRange("RW update", 1, 0, 1, 0)},
	"expiretime":   {ksRange("RO access", 1, 0, 1, 0)},
	"get":          {ksRange("RO access", 1, 0, 1, 0)},
	"getdel":       {ksRange("RW access delete", 1, 0, 1, 0)},
	"getex":        {ksRange("RW access update", 1, 0, 1, 0).withNotes("RW and UPDATE because it changes the TTL")},
	"getrange":     {ksRange("RO access", 1, 0, 1, 0)},
	"getset":       {ksRange("RW access update", 1, 0, 1, 0)},
	"incr":         {ksRange("RW access update", 1, 0, 1, 0)},
	"incrby":       {ksRange("RW access update", 1, 0, 1, 0)},
	"incrbyfloat":  {ksRange("RW access update", 1, 0, 1, 0)},
	"lcs":          {ksRange("RO access", 1, 1, 1, 0)},
	"memory|usage": {ksRange("RO", 2, 0, 1, 0)},
	"mget":         {ksRange("RO access", 1, -1, 1, 0)},
	"migrate": {
		ksRange("RW access delete", 3, 0, 1, 0),
		ksKeyword("RW access delete incomplete", "KEYS", -2, -1, 1, 0),
	},
	"move":            {ksRange("RW access update", 1, 0, 1, 0)},
	"mset":            {ksRange("OW update", 1, -1, 2, 0)},
	"msetnx":          {ksRange("OW insert", 1, -1, 2, 0)},
	"object|encoding": {ksRange("RO", 2, 0, 1, 0)},
	"object|freq":     {ksRange("RO", 2, 0, 1, 0)},
	"object|idletime": {ksRange("RO", 2, 0, 1, 0)},
	"object|refcount": {ksRange("RO", 2, 0, 1, 0)},
	"persist":         {ksRange("RW update", 1, 0, 1, 0)},
	"pexpire":         {ksRange("RW update", 1, 0, 1, 0)},
	"pexpireat":       {ksRange("RW update", 1, 0, 1, 0)},
	"pexpiretime":     {ksRange("RO access", 1, 0, 1, 0)},
	"psetex":          {ksRange("OW update", 1, 0, 1, 0)},
	"pttl":            {ksRange("RO access", 1, 0, 1, 0)},
	"rename": {
		ksRange("RW access delete", 1, 0, 1, 0),
		ksRange("OW update", 2, 0, 1, 0),
	},
	"renamenx": {
		ksRange("RW access delete", 1, 0, 1, 0),
		ksRange("OW insert", 2, 0, 1, 0),
	},
	"restore":        {ksRange("OW update", 1, 0, 1, 0)},
	"restore-asking": {ksRange("OW update", 1, 0, 1, 0)},
	"set":            {ksRange("RW access update variable_flags", 1, 0, 1, 0).withNotes("RW and ACCESS due to the optional `GET` argument")},
	"setex":          {ksRange("OW update", 1, 0, 1, 0)},
	"setnx":          {ksRange("OW insert", 1, 0, 1, 0)},
	"setrange":       {ksRange("RW update", 1, 0, 1, 0)},
	"sort": {
		ksRange("RO access", 1, 0, 1, 0),
		ksUnknown("RO access", "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
		ksUnknown("OW update", "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"),
	},
	"sort_ro": {
		ksRange("RO access", 1, 0, 1, 0),
		ksUnknown("RO access", "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
	},
	"strlen": {ksRange("RO", 1, 0, 1, 0)},
	"substr": {ksRange("RO access", 1, 0, 1, 0)},
	"touch":  {ksRange("RO", 1, -1, 1, 0)},
	"ttl":    {ksRange("RO access", 1, 0, 1, 0)},
	"type":   {ksRange("RO", 1, 0, 1, 0)},
	"unlink": {ksRange("RM delete", 1, -1, 1, 0)},
	"watch":  {ksRange("RO", 1, -1, 1, 0)},
	"zadd":   {ksRange("RW update", 1, 0, 1, 0)},
	"zcard":  {ksRange("RO", 1, 0, 1, 0)},
	"zcount": {ksRange("RO access", 1, 0, 1, 0)},
	"zdiff":  {ksKeyNum("RO access", 1, 0, 1, 1)},
	"zdiffstore": {
		ksRange("OW update", 1, 0, 1, 0),
		ksKeyNum("RO access", 2, 0, 1, 1),
	},
	"zincrby":    {ksRange("RW access update", 1, 0, 1, 0)},
	"zinter":     {ksKeyNum("RO access", 1, 0, 1, 1)},
	"zintercard": {ksKeyNum("RO access", 1, 0, 1, 1)},
	"zinterstore": {
		ksRange("OW update", 1, 0, 1, 0),
		ksKeyNum("RO access", 2, 0, 1, 1),
	},
	"zlexcount":     {ksRange("RO access", 1, 0, 1, 0)},
	"zmpop":         {ksKeyNum("RW access delete", 1, 0, 1, 1)},
	"zmscore":       {ksRange("RO access", 1, 0, 1, 0)},
	"zpopmax":       {ksRange("RW access delete", 1, 0, 1, 0)},
	"zpopmin":       {ksRange("RW access delete", 1, 0, 1, 0)},
	"zrandmember":   {ksRange("RO access", 1, 0, 1, 0)},
	"zrange":        {ksRange("RO access", 1, 0, 1, 0)},
	"zrangebylex":   {ksRange("RO access", 1, 0, 1, 0)},
	"zrangebyscore": {ksRange("RO access", 1, 0, 1, 0)},
	"zrangestore": {
		ksRange("OW update", 1, 0, 1, 0),
		ksRange("RO access", 2, 0, 1, 0),
	},
	"zrank":            {ksRange("RO access", 1, 0, 1, 0)},
	"zrem":             {ksRange("RW delete", 1, 0, 1, 0)},
	"zremrangebylex":   {ksRange("RW delete", 1, 0, 1, 0)},
	"zremrangebyrank":  {ksRange("RW delete", 1, 0, 1, 0)},
	"zremrangebyscore": {ksRange("RW delete", 1, 0, 1, 0)},
	"zrevrange":        {ksRange("RO access", 1, 0, 1, 0)},
	"zrevrangebylex":   {ksRange("RO access", 1, 0, 1, 0)},
	"zrevrangebyscore": {ksRange("RO access", 1, 0, 1, 0)},
	"zrevrank":         {ksRange("RO access", 1, 0, 1, 0)},
	"zscan":            {ksRange("RO access", 1, 0, 1, 0)},
	"zscore":           {ksRange("RO access", 1, 0, 1, 0)},
	"zunion":           {ksKeyNum("RO access", 1, 0, 1, 1)},
	"zunionstore": {
		ksRange("OW update", 1, 0, 1, 0),
		ksKeyNum("RO access", 2, 0, 1, 1),
	},
}

// tips returns a command's tips.
func (s *Spec) tips() []string { return commandTips[s.fullName] }

// keySpecs returns a command's key specifications.
func (s *Spec) keySpecs() []KeySpec { return commandKeySpecs[s.fullName] }

// hasKeys reports whether a command takes key arguments (Redis
// doesCommandHaveKeys).
func (s *Spec) hasKeys() bool {
	return s.FirstKey > 0 || s.KeysFunc != nil || len(s.keySpecs()) > 0
}

func visible(s *Spec) bool { return s != nil && s.Flags&Internal == 0 }

// lookupFullName finds a visible command by a "name" or "container|sub"
// argument, case-insensitively (Redis lookupCommandBySds).
func (t *Table) lookupFullName(name []byte) *Spec {
	s := t.Get(strings.ToLower(string(name)))
	if !visible(s) {
		return nil
	}
	return s
}

// writeCommandInfo writes one command's COMMAND INFO element (Redis 7.0
// addReplyCommandInfo).
func writeCommandInfo(w *resp.Writer, s *Spec) {
	w.Array(10)
	w.BulkString(s.fullName)
	w.Int(int64(s.Arity))
	flags := s.Flags.names()
	w.Set(len(flags))
	for _, f := range flags {
		w.Simple(f)
	}
	w.Int(int64(s.FirstKey))
	w.Int(int64(s.LastKey))
	w.Int(int64(s.Step))
	cats := s.categories().names()
	w.Set(len(cats))
	for _, c := range cats {
		w.Simple(c)
	}
	tips := s.tips()
	w.Set(len(tips))
	for _, t := range tips {
		w.BulkString(t)
	}
	specs := s.keySpecs()
	w.Set(len(specs))
	for _, k := range specs {
		writeKeySpec(w, k)
	}
	if len(s.Sub) == 0 {
		w.Set(0)
		return
	}
	subs := visibleSubs(s)
	w.Array(len(subs))
	for _, sub := range subs {
		writeCommandInfo(w, sub)
	}
}

func visibleSubs(s *Spec) []*Spec {
	var out []*Spec
	for _, sub := range s.Sub {
		if visible(sub) {
			out = append(out, sub)
		}
	}
	return out
}

// writeKeySpec writes one key spec map (Redis addReplyCommandKeySpecs).
func writeKeySpec(w *resp.Writer, k KeySpec) {
	n := 3
	if k.Notes != "" {
		n++
	}
	w.Map(n)
	if k.Notes != "" {
		w.BulkString("notes")
		w.BulkString(k.Notes)
	}
	w.BulkString("flags")
	flags := strings.Fields(k.Flags)
	w.Set(len(flags))
	for _, f := range flags {
		w.Simple(f)
	}
	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	switch {
	case k.Index > 0:
		w.BulkString("index")
		w.BulkString("spec")
		w.Map(1)
		w.BulkString("index")
		w.Int(int64(k.Index))
	case k.Keyword != "":
		w.BulkString("keyword")
		w.BulkString("spec")
		w.Map(2)
		w.BulkString("keyword")
		w.BulkString(k.Keyword)
		w.BulkString("startfrom")
		w.Int(int64(k.StartFrom))
	default:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.Map(0)
	}
	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	switch {
	case k.Unknown:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.Map(0)
	case k.KeyNum:
		w.BulkString("keynum")
		w.BulkString("spec")
		w.Map(3)
		w.BulkString("keynumidx")
		w.Int(int64(k.KeyNumIdx))
		w.BulkString("firstkey")
		w.Int(int64(k.FirstKey))
		w.BulkString("keystep")
		w.Int(int64(k.KeyStep))
	default:
		w.BulkString("range")
		w.BulkString("spec")
		w.Map(3)
		w.BulkString("lastkey")
		w.Int(int64(k.LastKey))
		w.BulkString("keystep")
		w.Int(int64(k.KeyStep))
		w.BulkString("limit")
		w.Int(int64(k.Limit))
	}
}

// writeCommandDocs writes one command's COMMAND DOCS map (Redis 7.0
// addReplyCommandDocs). Cairn has no argument, history or doc-flag data, so
// those fields are left out.
func writeCommandDocs(w *resp.Writer, s *Spec) {
	n := 1 // group is always there
	for _, f := range []string{s.Summary, s.Since, s.Complexity} {
		if f != "" {
			n++
		}
	}
	subs := visibleSubs(s)
	if len(s.Sub) > 0 {
		n++
	}
	w.Map(n)
	if s.Summary != "" {
		w.BulkString("summary")
		w.BulkString(s.Summary)
	}
	if s.Since != "" {
		w.BulkString("since")
		w.BulkString(s.Since)
	}
	w.BulkString("group")
	w.BulkString(s.Group)
	if s.Complexity != "" {
		w.BulkString("complexity")
		w.BulkString(s.Complexity)
	}
	if len(s.Sub) > 0 {
		w.BulkString("subcommands")
		w.Map(len(subs))
		for _, sub := range subs {
			w.BulkString(sub.fullName)
			writeCommandDocs(w, sub)
		}
	}
}

// visibleCommands lists the top-level commands COMMAND shows.
func visibleCommands(t *Table) []*Spec {
	var out []*Spec
	for _, s := range t.Commands() {
		if visible(s) {
			out = append(out, s)
		}
	}
	return out
}

func cmdCommand(c *Ctx) {
	all := visibleCommands(c.Srv.table)
	c.W.Array(len(all))
	for _, s := range all {
		writeCommandInfo(c.W, s)
	}
}

func cmdCommandCount(c *Ctx) { c.W.Int(int64(len(visibleCommands(c.Srv.table)))) }

func cmdCommandInfo(c *Ctx) {
	if len(c.Args) == 2 {
		cmdCommand(c)
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, name := range c.Args[2:] {
		if s := c.Srv.table.lookupFullName(name); s != nil {
			writeCommandInfo(c.W, s)
		} else {
			c.W.Null()
		}
	}
}

func cmdCommandDocs(c *Ctx) {
	var found []*Spec
	if len(c.Args) == 2 {
		found = visibleCommands(c.Srv.table)
	} else {
		for _, name := range c.Args[2:] {
			if s := c.Srv.table.lookupFullName(name); s != nil {
				found = append(found, s)
			}
		}
	}
	c.W.Map(len(found))
	for _, s := range found {
		c.W.BulkString(s.fullName)
		writeCommandDocs(c.W, s)
	}
}

// cmdCommandList answers COMMAND LIST [FILTERBY MODULE m|ACLCAT c|PATTERN p]:
// the full names of every command and subcommand that pass the filter.
func cmdCommandList(c *Ctx) {
	var match func(s *Spec) bool
	for i := 2; i < len(c.Args); i += 3 {
		if !eqFold(c.Args[i], "filterby") || len(c.Args)-1-i != 2 {
			c.W.Error(errSyntax)
			return
		}
		kind, arg := c.Args[i+1], c.Args[i+2]
		switch {
		case eqFold(kind, "module"):
			match = func(*Spec) bool { return false } // Cairn has no modules
		case eqFold(kind, "aclcat"):
			cat, ok := aclCategory(arg)
			match = func(s *Spec) bool { return ok && s.categories()&cat != 0 }
		case eqFold(kind, "pattern"):
			match = func(s *Spec) bool { return globMatch(arg, []byte(s.fullName), true) }
		default:
			c.W.Error(errSyntax)
			return
		}
	}
	var names []string
	for _, s := range visibleCommands(c.Srv.table) {
		for _, x := range append([]*Spec{s}, visibleSubs(s)...) {
			if match == nil || match(x) {
				names = append(names, x.fullName)
			}
		}
	}
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

// aclCategory finds an ACL category by name, case-insensitively.
func aclCategory(name []byte) (ACLCat, bool) {
	for i, n := range catNames {
		if eqFold(name, n) {
			return ACLCat(1) << i, true
		}
	}
	return 0, false
}

func cmdCommandGetKeys(c *Ctx)         { getKeys(c, false) }
func cmdCommandGetKeysAndFlags(c *Ctx) { getKeys(c, true) }

// getKeys answers COMMAND GETKEYS and GETKEYSANDFLAGS (Redis
// getKeysSubcommandImpl): the keys of the command given as arguments.
func getKeys(c *Ctx, withFlags bool) {
	args := c.Args[2:]
	s := c.Srv.table.Lookup(args)
	switch {
	case !visible(s):
		c.W.Error(errInvalidCommand)
		return
	case !s.hasKeys():
		c.W.Error(errNoKeyArgs)
		return
	case (s.Arity > 0 && len(args) != s.Arity) || len(args) < -s.Arity:
		c.W.Error(errInvalidArgCount)
		return
	}
	pos := s.keyPositions(args)
	if len(pos) == 0 {
		if s.Flags&NoMandatoryKeys != 0 {
			c.W.Array(0)
		} else {
			c.W.Error(errInvalidArgs)
		}
		return
	}
	var flags map[int]string
	if withFlags {
		flags = keySpecFlags(s, args)
	}
	c.W.Array(len(pos))
	for _, p := range pos {
		if !withFlags {
			c.W.Bulk(args[p])
			continue
		}
		c.W.Array(2)
		c.W.Bulk(args[p])
		f, ok := flags[p]
		if !ok {
			f = defaultKeyFlags(s)
		}
		if resolve := variableKeyFlags[s.fullName]; resolve != nil && strings.Contains(f, "variable_flags") {
			f = resolve(args)
		}
		fs := strings.Fields(f)
		c.W.Set(len(fs))
		for _, x := range fs {
			c.W.Simple(x)
		}
	}
}

// variableKeyFlags resolve the flags of key specs marked variable_flags
// from the actual arguments, as Redis's getkeys procs do (setGetKeys).
var variableKeyFlags = map[string]func(args [][]byte) string{
	"set": func(args [][]byte) string {
		for _, a := range args[min(3, len(args)):] {
			if eqFold(a, "get") {
				return "RW access update"
			}
		}
		return "OW update"
	},
}

// defaultKeyFlags are the access flags reported for a key of a command
// without declared key specs.
func defaultKeyFlags(s *Spec) string {
	switch {
	case s.Flags&Write != 0:
		return "RW access update"
	case s.Flags&ReadOnly != 0:
		return "RO access"
	}
	return "RO"
}

// keySpecFlags maps argument positions to the flags of the key spec that
// finds them (Redis getKeysUsingKeySpecs, returning partial results).
func keySpecFlags(s *Spec, args [][]byte) map[int]string {
	out := map[int]string{}
	argc := len(args)
	for _, k := range s.keySpecs() {
		if strings.Contains(k.Flags, "not_key") || k.Unknown {
			continue
		}
		first := 0
		switch {
		case k.Index > 0:
			first = k.Index
		case k.Keyword != "":
			start, end := k.StartFrom, argc-1
			if k.StartFrom <= 0 {
				start, end = argc+k.StartFrom, 1
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if strings.EqualFold(string(args[i]), k.Keyword) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
		}
		if first == 0 {
			continue
		}
		var last, step int
		if k.KeyNum {
			if first+k.KeyNumIdx >= argc {
				continue
			}
			n, ok := parseInt(args[first+k.KeyNumIdx])
			if !ok || n < 0 || n > int64(argc) {
				continue
			}
			first += k.FirstKey
			last, step = first+int(n)-1, k.KeyStep
		} else {
			step = k.KeyStep
			switch {
			case k.LastKey >= 0:
				last = first + k.LastKey
			case k.Limit == 0:
				last = argc + k.LastKey
			default:
				last = first + ((argc-first)/k.Limit + k.LastKey)
			}
		}
		if last >= argc || last < first || first >= argc || step <= 0 {
			continue
		}
		for i := first; i <= last; i += step {
			if _, seen := out[i]; !seen {
				out[i] = k.Flags
			}
		}
	}
	return out
}

var commandHelp = []string{
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
	"GETKEYSANDFLAGS <full-command>",
	"    Return the keys and the access flags from a full Redis command.",
}

func cmdCommandHelp(c *Ctx) { writeHelp(c.W, "COMMAND", commandHelp) }

// writeHelp writes a container's HELP reply as Redis addReplyHelp does:
// a header, the given lines and the HELP entry, as status replies.
func writeHelp(w *resp.Writer, container string, lines []string) {
	w.Array(len(lines) + 3)
	w.Simple(container + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		w.Simple(l)
	}
	w.Simple("HELP")
	w.Simple("    Prints this help.")
}

var commandCommands = []*Spec{
	{Name: "command", Arity: -1, Flags: Loading | Stale, ACL: CatConnection,
		Group: "server", Since: "2.8.13", Summary: "Get array of Redis command details",
		Complexity: "O(N) where N is the total number of Redis commands", Handler: cmdCommand, Sub: []*Spec{
			{Name: "count", Arity: 2, Flags: Loading | Stale, ACL: CatConnection,
				Group: "server", Since: "2.8.13", Summary: "Get total number of Redis commands", Complexity: "O(1)", Handler: cmdCommandCount},
			{Name: "docs", Arity: -2, Flags: Loading | Stale, ACL: CatConnection,
				Group: "server", Since: "7.0.0", Summary: "Get array of specific Redis command documentation",
				Complexity: "O(N) where N is the number of commands to look up", Handler: cmdCommandDocs},
			{Name: "getkeys", Arity: -4, Flags: Loading | Stale, ACL: CatConnection,
				Group: "server", Since: "2.8.13", Summary: "Extract keys given a full Redis command",
				Complexity: "O(N) where N is the number of arguments to the command", Handler: cmdCommandGetKeys},
			{Name: "getkeysandflags", Arity: -4, Flags: Loading | Stale, ACL: CatConnection,
				Group: "server", Since: "7.0.0", Summary: "Extract keys and access flags given a full Redis command",
				Complexity: "O(N) where N is the number of arguments to the command", Handler: cmdCommandGetKeysAndFlags},
			{Name: "help", Arity: 2, Flags: Loading | Stale, ACL: CatConnection,
				Group: "server", Since: "5.0.0", Summary: "Show helpful text about the different subcommands", Complexity: "O(1)", Handler: cmdCommandHelp},
			{Name: "info", Arity: -2, Flags: Loading | Stale, ACL: CatConnection,
				Group: "server", Since: "2.8.13", Summary: "Get array of specific Redis command details, or all when no argument is given.",
				Complexity: "O(N) where N is the number of commands to look up", Handler: cmdCommandInfo},
			{Name: "list", Arity: -2, Flags: Loading | Stale, ACL: CatConnection,
				Group: "server", Since: "7.0.0", Summary: "Get an array of Redis command names",
				Complexity: "O(N) where N is the total number of Redis commands", Handler: cmdCommandList},
		}},
}
