package commands

// AUTH, the ACL command, the NOAUTH/NOPERM gate of the dispatcher, the
// aclfile and the requirepass / protected-mode settings (Redis 7.0).

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"cairn/resp"
)

// authorize is the dispatcher's authentication and ACL gate, at Redis
// processCommand's position (after the arity check, before MULTI
// queueing). It returns the error reply, or "" when the command may run.
// Cluster peers (CAIRN.PEER) and internal commands are authenticated by the
// cluster key instead and have every permission.
func (s *Server) authorize(c *resp.Conn, sess *Session, spec *Spec, args [][]byte) string {
	if sess.peer || spec.Flags&Internal != 0 {
		return ""
	}
	ref := sess.userRef(s)
	if !c.Authenticated() && s.acl.authRequired() && spec.Flags&NoAuth == 0 {
		return errNoAuth
	}
	if ref.deleted.Load() {
		c.CloseAfterReply() // Redis disconnects the clients of a deleted user
		return errNoAuth
	}
	u := ref.load()
	if u.unrestricted || spec.Flags&NoAuth != 0 { // AUTH, HELLO, QUIT: always allowed
		return ""
	}
	d, ok := u.check(spec, args)
	if ok {
		return ""
	}
	ctxName := "toplevel"
	if sess.inMulti {
		ctxName = "multi"
	}
	s.logDenial(c, sess, args, d.reason, ctxName, d.object, u.name)
	msg := errNoPermCmd(spec.fullName)
	switch d.reason {
	case "key":
		msg = errNoPermKeys
	case "channel":
		msg = errNoPermChannels
	}
	if spec.fullName == "exec" { // Redis rejectCommand: execCommandAbort
		msg = "EXECABORT Transaction discarded because of: " + msg
	}
	return msg
}

// userRef is the session's ACL user: the default user until AUTH.
func (sess *Session) userRef(s *Server) *userRef {
	if sess.user == nil {
		return s.acl.def
	}
	return sess.user
}

// logDenial adds an ACL LOG entry for this connection.
func (s *Server) logDenial(c *resp.Conn, sess *Session, args [][]byte, reason, ctxName, object, user string) {
	info := clientLine(&Ctx{Args: args, Conn: c, Sess: sess, Srv: s}, c)
	s.acl.addLog(aclLogEntry{reason: reason, context: ctxName, object: object, username: user,
		updated: time.Now(), clientInfo: info}, int(s.config.Int("acllog-max-len")))
}

// login makes the connection authenticated as ref (AUTH, HELLO AUTH).
func (c *Ctx) login(ref *userRef, name string) {
	c.Sess.user = ref
	c.Conn.SetAuthenticated(true)
	c.Conn.SetUser(name)
}

// authFailed answers a failed authentication and logs it (reason "auth").
func (c *Ctx) authFailed(user []byte) {
	ctxName := "toplevel"
	if c.Sess.inMulti {
		ctxName = "multi"
	}
	c.Srv.logDenial(c.Conn, c.Sess, c.Args, "auth", ctxName, "AUTH", string(user))
	c.W.Error(errWrongPass)
}

// cmdAuth is AUTH [username] password.
func cmdAuth(c *Ctx) {
	if len(c.Args) > 3 {
		c.W.Error(errSyntax)
		return
	}
	user, pass := []byte("default"), c.Args[1]
	if len(c.Args) == 3 {
		user, pass = c.Args[1], c.Args[2]
	} else if !c.Srv.acl.authRequired() {
		c.W.Error(errAuthNoPassword)
		return
	}
	ref := c.Srv.acl.authenticate(user, pass)
	if ref == nil {
		c.authFailed(user)
		return
	}
	c.login(ref, string(user))
	c.W.OK()
}

// helloAuth runs HELLO's AUTH option; it reports false after replying
// with an error.
func helloAuth(c *Ctx, user, pass []byte) bool {
	if user == nil {
		if !c.Conn.Authenticated() && c.Srv.acl.authRequired() {
			c.W.Error(errHelloNoAuth)
			return false
		}
		return true
	}
	ref := c.Srv.acl.authenticate(user, pass)
	if ref == nil {
		c.authFailed(user)
		return false
	}
	c.login(ref, string(user))
	return true
}

// refreshAuth pushes the default user's state to the wire layer: whether
// clients must authenticate, and whether protected mode refuses
// non-loopback clients.
func (s *Server) refreshAuth() {
	if s.wire == nil {
		return
	}
	required := s.acl.authRequired()
	s.wire.SetAuthRequired(required)
	s.wire.SetProtected(s.config.Get("protected-mode") == "yes" && s.acl.def.load().nopass)
}

// setRequirepass is CONFIG SET requirepass: the default user's only
// password, or nopass when empty (ACLUpdateDefaultUserPassword).
func (s *Server) setRequirepass(v string) {
	a := s.acl
	a.mu.Lock()
	u := a.def.load().clone()
	a.apply(u, "resetpass")
	if v == "" {
		a.apply(u, "nopass")
	} else {
		a.apply(u, ">"+v)
	}
	a.publish(a.def, u)
	a.mu.Unlock()
	s.refreshAuth()
}

// aclConfigParams declares requirepass, aclfile, protected-mode,
// acllog-max-len and acl-pubsub-default.
func aclConfigParams(c *Config) {
	c.add(&param{name: "requirepass", mutable: true, check: func(v string) (string, string) { return v, "" },
		apply: func(s *Server, v string) {
			// The first call is Attach's: initACL already applied the
			// start-up value when an aclfile (which wins) is configured.
			first := !s.acl.booted
			s.acl.booted = true
			if first && s.config.Get("aclfile") != "" {
				s.refreshAuth()
				return
			}
			s.setRequirepass(v)
		}}, "")
	c.add(&param{name: "aclfile", check: checkACLFile}, "")
	c.add(&param{name: "protected-mode", mutable: true, check: oneOf("yes", "no"),
		apply: func(s *Server, _ string) { s.refreshAuth() }}, "yes")
	c.add(&param{name: "acllog-max-len", mutable: true, check: intRange(0, 1<<63-1)}, "128")
	c.add(&param{name: "acl-pubsub-default", mutable: true, check: oneOf("allchannels", "resetchannels"),
		apply: func(s *Server, v string) { s.acl.allChannelsDefault.Store(v == "allchannels") }}, "resetchannels") // acl_channels.go
}

// checkACLFile validates an aclfile setting at start-up: the file must
// load (Redis refuses to start otherwise).
func checkACLFile(v string) (string, string) {
	if v == "" {
		return v, ""
	}
	a := newACLState(NewTable(allCommands()))
	if err := a.loadFile(v); err != nil {
		return "", err.Error()
	}
	return v, ""
}

// initACL builds the users from the configuration. With an aclfile it
// applies requirepass, then the file, whose default user (if it has one)
// wins, as in Redis; otherwise requirepass is applied at Attach.
func initACL(s *Server) {
	s.acl = newACLState(s.table)
	if peer := s.table.Get("cairn.peer"); peer != nil {
		// A verified peer connection is authenticated from its next
		// command on: lift the reader's limits before it is parsed.
		hello := peer.Handler
		peer.Handler = func(c *Ctx) {
			hello(c)
			if c.Sess.peer {
				c.Conn.SetAuthenticated(true)
			}
		}
	}
	s.acl.allChannelsDefault.Store(s.config.Get("acl-pubsub-default") == "allchannels") // for the aclfile's users
	if s.config.Get("aclfile") == "" {
		return
	}
	if pw := s.config.Get("requirepass"); pw != "" {
		u := s.acl.def.load().clone()
		s.acl.apply(u, ">"+pw)
		s.acl.publish(s.acl.def, u)
	}
	if err := s.acl.loadFile(s.config.Get("aclfile")); err != nil {
		// checkACLFile accepted it at start-up; fail closed.
		s.log.Error("cannot load the ACL file: the default user is disabled", "err", err)
		u := s.acl.def.load().clone()
		s.acl.apply(u, "off")
		s.acl.publish(s.acl.def, u)
	}
}

// loadFile replaces the users with those of an ACL file ("user <name>
// <rules...>" lines; ACLLoadFromFile). On error nothing changes.
func (a *aclState) loadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("Error loading ACLs, opening file '%s': %v", path, err)
	}
	defer f.Close()
	users := map[string]*aclUser{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		fields := strings.Fields(text)
		if fields[0] != "user" || len(fields) < 2 {
			return fmt.Errorf("%s:%d should start with user keyword", path, line)
		}
		name := fields[1]
		if _, dup := users[name]; dup {
			return fmt.Errorf("%s:%d: duplicate user '%s' found", path, line, name)
		}
		u := a.newUser(name)
		for _, rule := range fields[2:] {
			if why := a.apply(u, rule); why != "" {
				return fmt.Errorf("%s:%d: %s. ", path, line, why)
			}
		}
		users[name] = u
		order = append(order, name)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for name, ref := range a.refs {
		if _, kept := users[name]; !kept && name != "default" {
			ref.deleted.Store(true)
		}
	}
	refs := map[string]*userRef{"default": a.def}
	if _, ok := users["default"]; !ok {
		d := a.newUser("default")
		for _, rule := range []string{"on", "nopass", "~*", "&*", "+@all"} {
			a.apply(d, rule)
		}
		users["default"] = d
	}
	for _, name := range append(order, "default") {
		ref := a.refs[name]
		if ref == nil || ref.deleted.Load() {
			ref = &userRef{}
		}
		if name == "default" {
			ref = a.def
		}
		a.publish(ref, users[name])
		refs[name] = ref
	}
	a.refs = refs
	return nil
}

// saveFile writes ACL LIST to path through a temporary file and a rename.
func (a *aclState) saveFile(path string) error {
	var b strings.Builder
	for _, line := range a.list() {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".acl-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// names returns the user names in Redis's (sorted, rax) order.
func (a *aclState) names() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.refs))
	for n := range a.refs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// list returns the ACL LIST lines.
func (a *aclState) list() []string {
	var out []string
	for _, n := range a.names() {
		if ref := a.user(n); ref != nil {
			out = append(out, "user "+n+" "+a.describe(ref.load()))
		}
	}
	return out
}

func cmdACLSetUser(c *Ctx) {
	a := c.Srv.acl
	name := string(c.Args[2])
	if strings.ContainsAny(name, " \t\n\r\v\f\x00") {
		c.W.Error("ERR Usernames can't contain spaces or null characters")
		return
	}
	a.mu.Lock()
	ref := a.refs[name]
	var u *aclUser
	if ref != nil {
		u = ref.load().clone()
	} else {
		u = a.newUser(name)
	}
	for _, rule := range c.Args[3:] {
		if why := a.apply(u, string(rule)); why != "" {
			a.mu.Unlock()
			c.W.Error("ERR Error in ACL SETUSER modifier '" + oneLine(string(rule)) + "': " + why)
			return
		}
	}
	old := u // a new user keeps its channels: nothing to revoke
	if ref == nil {
		ref = &userRef{}
		a.refs[name] = ref
	} else {
		old = ref.load()
	}
	a.publish(ref, u)
	a.mu.Unlock()
	c.Srv.refreshAuth()
	c.Srv.killRevokedSubscribers(c.Conn, name, old, u) // acl_channels.go
	c.W.OK()
}

func cmdACLGetUser(c *Ctx) {
	ref := c.Srv.acl.user(string(c.Args[2]))
	if ref == nil {
		c.W.Null()
		return
	}
	u := ref.load()
	c.W.Map(6)
	c.W.BulkString("flags")
	var flags []string
	if u.enabled {
		flags = append(flags, "on")
	} else {
		flags = append(flags, "off")
	}
	if u.nopass {
		flags = append(flags, "nopass")
	}
	if u.sanitize != "" {
		flags = append(flags, u.sanitize)
	}
	c.W.Set(len(flags))
	for _, f := range flags {
		c.W.BulkString(f)
	}
	c.W.BulkString("passwords")
	c.W.Array(len(u.passwords))
	for _, p := range u.passwords {
		c.W.BulkString(p)
	}
	c.W.BulkString("commands")
	c.W.BulkString(c.Srv.acl.describeCommands(u))
	c.W.BulkString("keys")
	c.W.BulkString(strings.Join(describeKeys(u), " "))
	c.W.BulkString("channels")
	ch := make([]string, len(u.channels))
	for i, x := range u.channels {
		ch[i] = "&" + x
	}
	c.W.BulkString(strings.Join(ch, " "))
	c.W.BulkString("selectors")
	c.W.Array(0)
}

func cmdACLDelUser(c *Ctx) {
	a := c.Srv.acl
	var gone []string
	a.mu.Lock()
	for _, arg := range c.Args[2:] {
		if string(arg) == "default" {
			a.mu.Unlock()
			c.W.Error("ERR The 'default' user cannot be removed")
			return
		}
	}
	for _, arg := range c.Args[2:] {
		if ref := a.refs[string(arg)]; ref != nil {
			ref.deleted.Store(true)
			delete(a.refs, string(arg))
			gone = append(gone, string(arg))
		}
	}
	a.mu.Unlock()
	if c.Srv.wire != nil && len(gone) > 0 {
		for _, conn := range c.Srv.wire.Clients() {
			if conn != c.Conn && containsString(gone, conn.User()) {
				conn.Close()
			}
		}
		if containsString(gone, c.Conn.User()) {
			c.Conn.CloseAfterReply()
		}
	}
	c.W.Int(int64(len(gone)))
}

func cmdACLList(c *Ctx) {
	lines := c.Srv.acl.list()
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.BulkString(l)
	}
}

func cmdACLUsers(c *Ctx) {
	names := c.Srv.acl.names()
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

func cmdACLWhoAmI(c *Ctx) { c.W.BulkString(c.Sess.userRef(c.Srv).load().name) }

func cmdACLCat(c *Ctx) {
	if len(c.Args) == 2 {
		c.W.Array(len(catNames))
		for _, n := range catNames {
			c.W.BulkString(n)
		}
		return
	}
	if len(c.Args) > 3 {
		c.W.Error(errSubcommandArgs(c))
		return
	}
	cat, ok := categoryByName(string(c.Args[2]))
	if !ok {
		c.W.Error(fmt.Sprintf("ERR Unknown category '%.128s'", oneLine(string(c.Args[2]))))
		return
	}
	var names []string
	for _, s := range c.Srv.acl.all {
		if s.categories()&cat != 0 {
			names = append(names, s.fullName)
		}
	}
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

// errSubcommandArgs is Redis's reply to a subcommand with a bad argument
// count that its arity allowed: the subcommand named as typed.
func errSubcommandArgs(c *Ctx) string {
	return fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP.",
		oneLine(string(c.Args[1])), strings.ToUpper(string(c.Args[0])))
}

// aclGenpassMax is the largest ACL GENPASS bit count.
const aclGenpassMax = 4096

func cmdACLGenPass(c *Ctx) {
	bits := int64(256)
	if len(c.Args) > 3 {
		c.W.Error(errSubcommandArgs(c))
		return
	}
	if len(c.Args) == 3 {
		n, ok := parseInt(c.Args[2])
		if !ok {
			c.W.Error(errNotInt)
			return
		}
		if n <= 0 || n > aclGenpassMax {
			c.W.Error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to " + strconv.Itoa(aclGenpassMax))
			return
		}
		bits = n
	}
	chars := (bits + 3) / 4
	buf := make([]byte, (chars+1)/2)
	rand.Read(buf)
	c.W.BulkString(hex.EncodeToString(buf)[:chars])
}

func cmdACLLog(c *Ctx) {
	a := c.Srv.acl
	count := int64(10)
	if len(c.Args) > 3 {
		c.W.Error(errSubcommandArgs(c))
		return
	}
	if len(c.Args) == 3 {
		if eqFold(c.Args[2], "reset") {
			a.mu.Lock()
			a.log.entries = nil
			a.mu.Unlock()
			c.W.OK()
			return
		}
		n, ok := parseInt(c.Args[2])
		if !ok || n < 0 {
			c.W.Error(errNotInt)
			return
		}
		count = n
	}
	a.mu.Lock()
	entries := a.log.entries[:min(int64(len(a.log.entries)), count)]
	snapshot := make([]aclLogEntry, len(entries))
	for i, e := range entries {
		snapshot[i] = *e
	}
	a.mu.Unlock()
	now := time.Now()
	c.W.Array(len(snapshot))
	for _, e := range snapshot {
		c.W.Map(7)
		c.W.BulkString("count")
		c.W.Int(e.count)
		c.W.BulkString("reason")
		c.W.BulkString(e.reason)
		c.W.BulkString("context")
		c.W.BulkString(e.context)
		c.W.BulkString("object")
		c.W.BulkString(e.object)
		c.W.BulkString("username")
		c.W.BulkString(e.username)
		c.W.BulkString("age-seconds")
		c.W.Double(float64(now.Sub(e.updated).Milliseconds()) / 1000)
		c.W.BulkString("client-info")
		c.W.BulkString(e.clientInfo)
	}
}

func cmdACLDryRun(c *Ctx) {
	ref := c.Srv.acl.user(string(c.Args[2]))
	if ref == nil {
		c.W.Error("ERR User '" + oneLine(string(c.Args[2])) + "' not found")
		return
	}
	args := c.Args[3:]
	spec := c.Srv.table.Lookup(args)
	if spec == nil || spec.Flags&Internal != 0 {
		c.W.Error("ERR Command '" + oneLine(string(args[0])) + "' not found")
		return
	}
	if (spec.Arity > 0 && len(args) != spec.Arity) || len(args) < -spec.Arity {
		c.W.Error(errArity(spec.fullName))
		return
	}
	d, ok := ref.load().check(spec, args)
	switch {
	case ok:
		c.W.OK()
	case d.reason == "key":
		c.W.BulkString("This user has no permissions to access the '" + d.object + "' key")
	case d.reason == "channel":
		c.W.BulkString("This user has no permissions to access the '" + d.object + "' channel")
	default:
		c.W.BulkString("This user has no permissions to run the '" + spec.fullName + "' command")
	}
}

const errNoACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

func cmdACLSave(c *Ctx) {
	f := c.Srv.config.Get("aclfile")
	if f == "" {
		c.W.Error(errNoACLFile)
		return
	}
	if err := c.Srv.acl.saveFile(f); err != nil {
		c.W.Error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		c.Srv.log.Error("ACL SAVE failed", "aclfile", f, "err", err)
		return
	}
	c.W.OK()
}

func cmdACLLoad(c *Ctx) {
	f := c.Srv.config.Get("aclfile")
	if f == "" {
		c.W.Error(errNoACLFile)
		return
	}
	if err := c.Srv.acl.loadFile(f); err != nil {
		c.W.Error("ERR " + oneLine(err.Error()))
		return
	}
	if c.Srv.wire != nil {
		for _, conn := range c.Srv.wire.Clients() {
			if c.Srv.acl.user(conn.User()) == nil && conn != c.Conn {
				conn.Close()
			}
		}
	}
	c.Srv.refreshAuth()
	c.W.OK()
}

var aclHelp = []string{
	"CAT [<category>]",
	"    List all commands that belong to <category>, or all command categories",
	"    when no category is specified.",
	"DELUSER <username> [<username> ...]",
	"    Delete a list of users.",
	"DRYRUN <username> <command> [<arg> ...]",
	"    Returns whether the user can execute the given command without executing the command.",
	"GETUSER <username>",
	"    Get the user's details.",
	"GENPASS [<bits>]",
	"    Generate a secure 256-bit user password. The optional `bits` argument can",
	"    be used to specify a different size.",
	"LIST",
	"    Show users details in config file format.",
	"LOAD",
	"    Reload users from the ACL file.",
	"LOG [<count> | RESET]",
	"    Show the ACL log entries.",
	"SAVE",
	"    Save the current config to the ACL file.",
	"SETUSER <username> <attribute> [<attribute> ...]",
	"    Create or modify a user with the specified attributes.",
	"USERS",
	"    List all the registered usernames.",
	"WHOAMI",
	"    Return the current connection username.",
}

func cmdACLHelp(c *Ctx) { writeHelp(c.W, "ACL", aclHelp) }

const aclAdminFlags = Admin | NoScript | Loading | Stale

var aclCommands = []*Spec{
	{Name: "auth", Arity: -2, Flags: NoScript | Loading | Stale | Fast | NoAuth | AllowBusy, ACL: CatConnection,
		Group: "connection", Since: "1.0.0", Summary: "Authenticate to the server", Complexity: "O(N) where N is the number of passwords defined for the user", Handler: cmdAuth},
	{Name: "acl", Arity: -2, Group: "server", Since: "6.0.0", Summary: "A container for Access List Control commands ", Complexity: "Depends on subcommand.", Sub: []*Spec{
		{Name: "cat", Arity: -2, Flags: NoScript | Loading | Stale, Group: "server", Since: "6.0.0",
			Summary: "List the ACL categories or the commands inside a category", Complexity: "O(1) since the categories and commands are a fixed set.", Handler: cmdACLCat},
		{Name: "deluser", Arity: -3, Flags: aclAdminFlags, Group: "server", Since: "6.0.0",
			Summary: "Remove the specified ACL users and the associated rules", Complexity: "O(1) amortized time considering the typical user.", Handler: cmdACLDelUser},
		{Name: "dryrun", Arity: -4, Flags: aclAdminFlags, Group: "server", Since: "7.0.0",
			Summary: "Returns whether the user can execute the given command without executing the command.", Complexity: "O(1).", Handler: cmdACLDryRun},
		{Name: "genpass", Arity: -2, Flags: NoScript | Loading | Stale, Group: "server", Since: "6.0.0",
			Summary: "Generate a pseudorandom secure password to use for ACL users", Complexity: "O(1)", Handler: cmdACLGenPass},
		{Name: "getuser", Arity: 3, Flags: aclAdminFlags, Group: "server", Since: "6.0.0",
			Summary: "Get the rules for a specific ACL user", Complexity: "O(N). Where N is the number of password, command and pattern rules that the user has.", Handler: cmdACLGetUser},
		{Name: "help", Arity: 2, Flags: Loading | Stale, Group: "server", Since: "6.0.0",
			Summary: "Show helpful text about the different subcommands", Complexity: "O(1)", Handler: cmdACLHelp},
		{Name: "list", Arity: 2, Flags: aclAdminFlags, Group: "server", Since: "6.0.0",
			Summary: "List the current ACL rules in ACL config file format", Complexity: "O(N). Where N is the number of configured users.", Handler: cmdACLList},
		{Name: "load", Arity: 2, Flags: aclAdminFlags, Group: "server", Since: "6.0.0",
			Summary: "Reload the ACLs from the configured ACL file", Complexity: "O(N). Where N is the number of configured users.", Handler: cmdACLLoad},
		{Name: "log", Arity: -2, Flags: aclAdminFlags, Group: "server", Since: "6.0.0",
			Summary: "List latest events denied because of ACLs in place", Complexity: "O(N) with N being the number of entries shown.", Handler: cmdACLLog},
		{Name: "save", Arity: 2, Flags: aclAdminFlags, Group: "server", Since: "6.0.0",
			Summary: "Save the current ACL rules in the configured ACL file", Complexity: "O(N). Where N is the number of configured users.", Handler: cmdACLSave},
		{Name: "setuser", Arity: -3, Flags: aclAdminFlags, Group: "server", Since: "6.0.0",
			Summary: "Modify or create the rules for a specific ACL user", Complexity: "O(N). Where N is the number of rules provided.", Handler: cmdACLSetUser},
		{Name: "users", Arity: 2, Flags: aclAdminFlags, Group: "server", Since: "6.0.0",
			Summary: "List the username of all the configured ACL rules", Complexity: "O(N). Where N is the number of configured users.", Handler: cmdACLUsers},
		{Name: "whoami", Arity: 2, Flags: NoScript | Loading | Stale, Group: "server", Since: "6.0.0",
			Summary: "Return the name of the user associated to the current connection", Complexity: "O(1)", Handler: cmdACLWhoAmI},
	}},
}
