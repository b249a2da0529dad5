package commands

// ACL users and their permissions (Redis 7.0 acl.c): passwords, on/off,
// command and category rules, key and channel patterns. The gate in
// ServeRESP (authorize, aclcmd.go) answers NOAUTH and NOPERM; AUTH, HELLO
// AUTH and the ACL commands (aclcmd.go) change users and sessions.
//
// Ownership: aclState.mu guards the user table and the log. An aclUser is
// immutable once published: SETUSER builds a modified copy and stores it in
// the user's userRef, so the per-command check reads a session's user with
// one atomic load and no lock.

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// aclPerm is what a key pattern grants: read, write or both.
type aclPerm uint8

const (
	permRead aclPerm = 1 << iota
	permWrite
	permAll = permRead | permWrite
)

type keyPattern struct {
	pattern []byte
	perm    aclPerm
}

// aclUser is one user's rules. Published values are never modified.
type aclUser struct {
	name      string
	enabled   bool
	nopass    bool
	sanitize  string   // "", "sanitize-payload" or "skip-sanitize-payload"
	passwords []string // SHA-256 hex digests, in the order added

	allKeys     bool // "allkeys" or "~*"
	keys        []keyPattern
	allChannels bool
	channels    []string

	// allCmds is Redis's "future commands" bit: set by +@all, cleared by
	// -@all; single-command removals leave it set.
	allCmds bool
	// cmds holds the allowed commands: containers and subcommands have
	// their own entries, as Redis's command bits do.
	cmds map[*Spec]bool
	// catRules are the category rules applied since the last +@all/-@all,
	// in order, one per category (a later rule replaces an earlier one).
	catRules []string
	// unrestricted: every command, key and channel is allowed (fast path).
	unrestricted bool
}

// userRef is a user's identity: sessions keep it while SETUSER replaces the
// rules behind it; DELUSER marks it deleted.
type userRef struct {
	u       atomic.Pointer[aclUser]
	deleted atomic.Bool
}

func (r *userRef) load() *aclUser { return r.u.Load() }

// aclState is the server's users and ACL log.
type aclState struct {
	tab  *Table
	mu   sync.Mutex
	refs map[string]*userRef
	def  *userRef // the default user, never deleted
	log  aclLog
	// booted is set by the first requirepass apply (Attach's); owned by
	// the config apply path.
	booted bool
	// all lists every command Redis would give a bit (no Internal ones),
	// containers and subcommands included, in table order.
	all []*Spec
	// allChannelsDefault is acl-pubsub-default = allchannels: new users
	// get every channel (acl_channels.go).
	allChannelsDefault atomic.Bool
}

func newACLState(t *Table) *aclState {
	a := &aclState{tab: t, refs: map[string]*userRef{}}
	for _, s := range t.Commands() {
		if s.Flags&Internal != 0 {
			continue
		}
		a.all = append(a.all, s)
		a.all = append(a.all, s.Sub...)
	}
	a.reset()
	return a
}

// reset leaves only the default user, with Redis's defaults.
func (a *aclState) reset() {
	a.refs = map[string]*userRef{}
	a.def = &userRef{}
	u := a.newUser("default")
	for _, rule := range []string{"on", "nopass", "~*", "&*", "+@all"} {
		a.apply(u, rule)
	}
	a.publish(a.def, u)
	a.refs["default"] = a.def
}

// newUser returns a user with no rights but the channels of
// acl-pubsub-default, as ACLCreateUser.
func (a *aclState) newUser(name string) *aclUser {
	u := &aclUser{name: name, cmds: map[*Spec]bool{}}
	a.newUserChannels(u)
	return u
}

// clone copies u for modification.
func (u *aclUser) clone() *aclUser {
	c := *u
	c.passwords = append([]string(nil), u.passwords...)
	c.keys = append([]keyPattern(nil), u.keys...)
	c.channels = append([]string(nil), u.channels...)
	c.catRules = append([]string(nil), u.catRules...)
	c.cmds = make(map[*Spec]bool, len(u.cmds))
	for s, ok := range u.cmds {
		c.cmds[s] = ok
	}
	return &c
}

// publish computes the derived fields and makes u the ref's user.
func (a *aclState) publish(ref *userRef, u *aclUser) {
	u.unrestricted = u.allKeys && u.allChannels && len(u.cmds) == len(a.all)
	if u.unrestricted {
		for _, s := range a.all {
			if !u.cmds[s] {
				u.unrestricted = false
				break
			}
		}
	}
	ref.u.Store(u)
}

// user returns the ref of a user, or nil.
func (a *aclState) user(name string) *userRef {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refs[name]
}

// authRequired reports whether clients must authenticate: the default user
// has a password or is off (Redis authRequired).
func (a *aclState) authRequired() bool {
	u := a.def.load()
	return !u.nopass || !u.enabled
}

// authenticate checks a name/password pair (ACLCheckUserCredentials) and
// returns the user's ref, or nil.
func (a *aclState) authenticate(name, pass []byte) *userRef {
	ref := a.user(string(name))
	if ref == nil {
		return nil
	}
	u := ref.load()
	if !u.enabled {
		return nil
	}
	if u.nopass {
		return ref
	}
	h := hashPassword(pass)
	for _, p := range u.passwords {
		if timeIndependentEqual(p, h) {
			return ref
		}
	}
	return nil
}

func hashPassword(p []byte) string {
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:])
}

// timeIndependentEqual compares two digests in time independent of where
// they differ.
func timeIndependentEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := 0; i < len(a); i++ {
		d |= a[i] ^ b[i]
	}
	return d == 0
}

// Error texts of Redis 7.0.
const (
	errNoAuth          = "NOAUTH Authentication required."
	errNoPermKeys      = "NOPERM this user has no permissions to access one of the keys used as arguments"
	errNoPermChannels  = "NOPERM this user has no permissions to access one of the channels used as arguments"
	errAuthNoPassword  = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errHelloNoAuth     = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	aclErrSyntax       = "Syntax error"
	aclErrUnknownCmd   = "Unknown command or category name in ACL"
	aclErrBadHash      = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	aclErrNoSuchPass   = "The password you are trying to remove from the user does not exist"
	aclErrKeyAfterAll  = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	aclErrChanAfterAll = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	aclErrSubFirstArg  = "Allowing first-arg of a subcommand is not supported"
	aclErrFirstArg     = "First-arg rules (+command|arg) are not supported by Cairn"
)

func errNoPermCmd(fullName string) string {
	return "NOPERM this user has no permissions to run the '" + fullName + "' command"
}

// apply applies one rule to u (ACLSetUser/ACLSetSelector) and returns ""
// or the reason it is invalid. u must not be published yet.
func (a *aclState) apply(u *aclUser, rule string) string {
	lower := strings.ToLower(rule)
	switch lower {
	case "on":
		u.enabled = true
		return ""
	case "off":
		u.enabled = false
		return ""
	case "nopass":
		u.nopass = true
		u.passwords = nil
		return ""
	case "resetpass":
		u.nopass = false
		u.passwords = nil
		return ""
	case "sanitize-payload", "skip-sanitize-payload":
		u.sanitize = lower
		return ""
	case "allkeys":
		u.allKeys, u.keys = true, []keyPattern{{pattern: []byte("*"), perm: permAll}}
		return ""
	case "resetkeys":
		u.allKeys, u.keys = false, nil
		return ""
	case "allchannels":
		u.allChannels, u.channels = true, []string{"*"}
		return ""
	case "resetchannels":
		u.allChannels, u.channels = false, nil
		return ""
	case "allcommands", "+@all":
		u.allCmds, u.catRules = true, nil
		for _, s := range a.all {
			u.cmds[s] = true
		}
		return ""
	case "nocommands", "-@all":
		u.allCmds, u.catRules = false, nil
		clear(u.cmds)
		return ""
	case "reset":
		*u = *a.newUser(u.name)
		for _, r := range []string{"resetpass", "resetkeys", "resetchannels", "off", "-@all", "sanitize-payload"} {
			a.apply(u, r)
		}
		a.newUserChannels(u) // acl-pubsub-default
		return ""
	}
	if rule == "" {
		return aclErrSyntax
	}
	switch rule[0] {
	case '>', '<':
		h := hashPassword([]byte(rule[1:]))
		return u.changePassword(h, rule[0] == '>')
	case '#', '!':
		h := rule[1:]
		if !validHash(h) {
			return aclErrBadHash
		}
		return u.changePassword(h, rule[0] == '#')
	case '~':
		return u.addKeyPattern(rule[1:], permAll)
	case '%':
		perm, pat, ok := parsePermPattern(rule[1:])
		if !ok {
			return aclErrSyntax
		}
		return u.addKeyPattern(pat, perm)
	case '&':
		if rule[1:] == "*" {
			u.allChannels, u.channels = true, []string{"*"}
			return ""
		}
		if u.allChannels {
			return aclErrChanAfterAll
		}
		if !containsString(u.channels, rule[1:]) {
			u.channels = append(u.channels, rule[1:])
		}
		return ""
	case '+', '-':
		return a.commandRule(u, rule[1:], rule[0] == '+')
	}
	return aclErrSyntax
}

// changePassword adds or removes a digest.
func (u *aclUser) changePassword(h string, add bool) string {
	i := -1
	for j, p := range u.passwords {
		if p == h {
			i = j
		}
	}
	if add {
		u.nopass = false
		if i < 0 {
			u.passwords = append(u.passwords, h)
		}
		return ""
	}
	if i < 0 {
		return aclErrNoSuchPass
	}
	u.passwords = append(u.passwords[:i], u.passwords[i+1:]...)
	return ""
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parsePermPattern parses "R~pat", "W~pat", "RW~pat" (the text after '%').
func parsePermPattern(s string) (aclPerm, string, bool) {
	var perm aclPerm
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'R', 'r':
			perm |= permRead
		case 'W', 'w':
			perm |= permWrite
		case '~':
			return perm, s[i+1:], perm != 0
		default:
			return 0, "", false
		}
	}
	return 0, "", false
}

// addKeyPattern adds a key pattern; an existing identical pattern gains
// the permission instead (Redis merges their flags).
func (u *aclUser) addKeyPattern(pat string, perm aclPerm) string {
	if u.allKeys {
		return aclErrKeyAfterAll
	}
	if pat == "*" && perm == permAll {
		u.allKeys, u.keys = true, []keyPattern{{pattern: []byte("*"), perm: permAll}}
		return ""
	}
	for i := range u.keys {
		if string(u.keys[i].pattern) == pat {
			u.keys[i].perm |= perm
			return ""
		}
	}
	u.keys = append(u.keys, keyPattern{pattern: []byte(pat), perm: perm})
	return ""
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// commandRule applies +name, -name, +@cat, -@cat, +cmd|sub, -cmd|sub.
func (a *aclState) commandRule(u *aclUser, name string, allow bool) string {
	if cat, ok := strings.CutPrefix(name, "@"); ok {
		c, ok := categoryByName(cat)
		if !ok {
			return aclErrUnknownCmd
		}
		sign := "-@"
		if allow {
			sign = "+@"
		}
		rule := sign + catNames[catIndex(c)]
		for i := 0; i < len(u.catRules); i++ {
			if u.catRules[i][2:] == rule[2:] {
				u.catRules = append(u.catRules[:i], u.catRules[i+1:]...)
				i--
			}
		}
		u.catRules = append(u.catRules, rule)
		setCategory(a.all, u.cmds, c, allow)
		return ""
	}
	parent, sub, hasSub := strings.Cut(strings.ToLower(name), "|")
	s := a.tab.byName[parent]
	if s == nil || s.Flags&Internal != 0 {
		return aclErrUnknownCmd
	}
	if hasSub {
		if strings.Contains(sub, "|") {
			return aclErrSubFirstArg
		}
		if s.subs == nil {
			return aclErrFirstArg
		}
		if s = s.subs[sub]; s == nil {
			return aclErrUnknownCmd
		}
	}
	changePerm(u.cmds, s, allow)
	return ""
}

// changePerm sets a command's bit, and its subcommands' (ACLChangeSelectorPerm).
func changePerm(cmds map[*Spec]bool, s *Spec, allow bool) {
	setBit(cmds, s, allow)
	for _, sub := range s.Sub {
		setBit(cmds, sub, allow)
	}
}

func setBit(cmds map[*Spec]bool, s *Spec, allow bool) {
	if allow {
		cmds[s] = true
	} else {
		delete(cmds, s)
	}
}

// setCategory applies a category to every command in it
// (ACLSetSelectorCommandBitsForCategory): a container in the category
// carries all its subcommands along.
func setCategory(all []*Spec, cmds map[*Spec]bool, c ACLCat, allow bool) {
	for _, s := range all {
		if s.categories()&c == 0 {
			continue
		}
		if s.parent == nil {
			changePerm(cmds, s, allow)
		} else {
			setBit(cmds, s, allow)
		}
	}
}

func categoryByName(name string) (ACLCat, bool) {
	for i, n := range catNames {
		if strings.EqualFold(n, name) {
			return 1 << i, true
		}
	}
	return 0, false
}

func catIndex(c ACLCat) int {
	for i := range catNames {
		if c == 1<<i {
			return i
		}
	}
	return -1
}

// describeCommands is the command part of ACL LIST/GETUSER: +@all or
// -@all, the category rules that still change something, in the order
// they were given, then the single commands that differ, in table order.
// Redis 7.0 picks categories by a best-fit search over its own command
// set; Cairn's set is smaller, so for category mixes the text may differ
// from Redis's while describing the same permissions.
func (a *aclState) describeCommands(u *aclUser) string {
	fake := map[*Spec]bool{}
	var out []string
	if u.allCmds {
		out = append(out, "+@all")
		for _, s := range a.all {
			fake[s] = true
		}
	} else {
		out = append(out, "-@all")
	}
	for _, r := range u.catRules {
		c, _ := categoryByName(r[2:])
		changed := false
		for _, s := range a.all {
			if s.categories()&c != 0 && fake[s] != (r[0] == '+') {
				changed = true
				break
			}
		}
		if changed {
			setCategory(a.all, fake, c, r[0] == '+')
			out = append(out, r)
		}
	}
	for _, s := range a.all {
		if s.parent != nil {
			continue
		}
		for _, x := range append([]*Spec{s}, s.Sub...) {
			if u.cmds[x] == fake[x] {
				continue
			}
			if u.cmds[x] {
				out = append(out, "+"+x.fullName)
			} else {
				out = append(out, "-"+x.fullName)
			}
			if x == s {
				changePerm(fake, s, u.cmds[x])
			} else {
				setBit(fake, x, u.cmds[x])
			}
		}
	}
	return strings.Join(out, " ")
}

// describeKeys is the key part: "~*" or the patterns with their prefixes.
func describeKeys(u *aclUser) []string {
	out := make([]string, 0, len(u.keys))
	for _, k := range u.keys {
		switch k.perm {
		case permAll:
			out = append(out, "~"+string(k.pattern))
		case permRead:
			out = append(out, "%R~"+string(k.pattern))
		default:
			out = append(out, "%W~"+string(k.pattern))
		}
	}
	return out
}

// describe is a user's ACL LIST line without the "user name" prefix
// (ACLDescribeUser).
func (a *aclState) describe(u *aclUser) string {
	var b []string
	if u.enabled {
		b = append(b, "on")
	} else {
		b = append(b, "off")
	}
	if u.nopass {
		b = append(b, "nopass")
	}
	if u.sanitize != "" {
		b = append(b, u.sanitize)
	}
	for _, p := range u.passwords {
		b = append(b, "#"+p)
	}
	b = append(b, describeKeys(u)...)
	if u.allChannels {
		b = append(b, "&*")
	} else {
		b = append(b, "resetchannels")
		for _, c := range u.channels {
			b = append(b, "&"+c)
		}
	}
	b = append(b, a.describeCommands(u))
	return strings.Join(b, " ")
}

// aclDenial is why a command was refused: reason "command", "key" or
// "channel", and the object (command full name, key or channel) for the
// log.
type aclDenial struct {
	reason, object string
}

// check reports whether u may run spec with args
// (ACLCheckAllUserCommandPerm): the command, then its keys, then its
// channels (acl_channels.go).
func (u *aclUser) check(spec *Spec, args [][]byte) (aclDenial, bool) {
	if u.unrestricted {
		return aclDenial{}, true
	}
	if !u.cmds[spec] {
		return aclDenial{"command", spec.fullName}, false
	}
	if u.allKeys || !spec.hasKeys() {
		return u.checkChannels(spec, args)
	}
	pos := spec.keyPositions(args)
	if len(pos) == 0 {
		return u.checkChannels(spec, args)
	}
	var flags map[int]string
	if len(spec.KeySpecs) > 1 {
		flags = keySpecFlags(spec, args)
	}
	for _, p := range pos {
		need := keyPerm(spec, args, flags, p)
		if !u.keyAllowed(args[p], need) {
			return aclDenial{"key", string(args[p])}, false
		}
	}
	return u.checkChannels(spec, args)
}

// keyPerm is the permission a key argument needs: read for "access",
// write for "insert", "delete" or "update" (ACLSelectorCheckKey).
func keyPerm(spec *Spec, args [][]byte, flags map[int]string, pos int) aclPerm {
	var f string
	switch {
	case len(spec.KeySpecs) == 1:
		f = spec.KeySpecs[0].Flags
	case flags != nil:
		f = flags[pos]
	}
	if f == "" {
		f = defaultKeyFlags(spec)
	}
	if resolve := variableKeyFlags[spec.fullName]; resolve != nil && strings.Contains(f, "variable_flags") {
		f = resolve(args)
	}
	var need aclPerm
	if strings.Contains(f, "access") {
		need |= permRead
	}
	if strings.Contains(f, "insert") || strings.Contains(f, "delete") || strings.Contains(f, "update") {
		need |= permWrite
	}
	return need
}

func (u *aclUser) keyAllowed(key []byte, need aclPerm) bool {
	for _, k := range u.keys {
		if k.perm&need == need && globMatch(k.pattern, key, false) {
			return true
		}
	}
	return false
}

// aclLog is the ACL LOG (Redis addACLLogEntry): newest first, similar
// entries within 60 s merged, at most acllog-max-len entries. Guarded by
// aclState.mu.
type aclLog struct {
	entries []*aclLogEntry
}

type aclLogEntry struct {
	count                             int64
	reason, context, object, username string
	updated                           time.Time
	clientInfo                        string
}

// aclLogGroupWindow is ACL_LOG_GROUPING_MAX_TIME_DELTA.
const aclLogGroupWindow = 60 * time.Second

// addLog records a denial.
func (a *aclState) addLog(e aclLogEntry, maxLen int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, old := range a.log.entries {
		if old.reason == e.reason && old.context == e.context && old.object == e.object &&
			old.username == e.username && e.updated.Sub(old.updated) < aclLogGroupWindow {
			old.count++
			old.updated = e.updated
			old.clientInfo = e.clientInfo
			copy(a.log.entries[1:i+1], a.log.entries[:i])
			a.log.entries[0] = old
			return
		}
	}
	e.count = 1
	a.log.entries = append([]*aclLogEntry{&e}, a.log.entries...)
	if len(a.log.entries) > maxLen {
		a.log.entries = a.log.entries[:maxLen]
	}
}
