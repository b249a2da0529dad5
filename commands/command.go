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

// tips returns a command's tips.
func (s *Spec) tips() []string { return s.Tips }

// keySpecs returns a command's key specifications.
func (s *Spec) keySpecs() []KeySpec { return s.KeySpecs }

// hasKeys reports whether a command takes key arguments (Redis
// doesCommandHaveKeys): shard channels are not keys (channelsOnly).
func (s *Spec) hasKeys() bool {
	return (s.FirstKey > 0 || s.KeysFunc != nil || len(s.keySpecs()) > 0) && !s.channelsOnly()
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
	{Name: "command", Tips: []string{"nondeterministic_output_order"}, Arity: -1, Flags: Loading | Stale, ACL: CatConnection,
		Group: "server", Since: "2.8.13", Summary: "Get array of Redis command details",
		Complexity: "O(N) where N is the total number of Redis commands", Handler: cmdCommand, Sub: []*Spec{
			{Name: "count", Arity: 2, Flags: Loading | Stale, ACL: CatConnection,
				Group: "server", Since: "2.8.13", Summary: "Get total number of Redis commands", Complexity: "O(1)", Handler: cmdCommandCount},
			{Name: "docs", Tips: []string{"nondeterministic_output_order"}, Arity: -2, Flags: Loading | Stale, ACL: CatConnection,
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
			{Name: "info", Tips: []string{"nondeterministic_output_order"}, Arity: -2, Flags: Loading | Stale, ACL: CatConnection,
				Group: "server", Since: "2.8.13", Summary: "Get array of specific Redis command details, or all when no argument is given.",
				Complexity: "O(N) where N is the number of commands to look up", Handler: cmdCommandInfo},
			{Name: "list", Tips: []string{"nondeterministic_output_order"}, Arity: -2, Flags: Loading | Stale, ACL: CatConnection,
				Group: "server", Since: "7.0.0", Summary: "Get an array of Redis command names",
				Complexity: "O(N) where N is the total number of Redis commands", Handler: cmdCommandList},
		}},
}
