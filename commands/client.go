package commands

import (
	"strconv"
	"strings"
	"time"

	"cairn/resp"
)

// CLIENT and its subcommands; TRACKING, CACHING, GETREDIR and TRACKINGINFO
// live in tracking.go. Cairn has no client pause and no reply suppression:
// PAUSE, UNPAUSE and REPLY are not implemented.

func cmdClientID(c *Ctx) { c.W.Int(int64(c.Conn.ID())) }

func cmdClientGetName(c *Ctx) {
	if name := c.Conn.Name(); name != "" {
		c.W.BulkString(name)
		return
	}
	c.W.Null()
}

func cmdClientSetName(c *Ctx) {
	if !validClientName(c.Args[2]) {
		c.W.Error(errClientName)
		return
	}
	c.Conn.SetName(string(c.Args[2]))
	c.W.OK()
}

// cmdClientSetInfo is CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2),
// which client libraries such as go-redis v9 send on every connection.
func cmdClientSetInfo(c *Ctx) {
	attr, val := c.Args[2], c.Args[3]
	var set func(string)
	switch {
	case eqFold(attr, "lib-name"):
		set = c.Conn.SetLibName
	case eqFold(attr, "lib-ver"):
		set = c.Conn.SetLibVer
	default:
		c.W.Error("ERR Unrecognized option '" + oneLine(string(attr)) + "'")
		return
	}
	if !validClientName(val) {
		c.W.Error("ERR " + oneLine(string(attr)) + " cannot contain spaces, newlines or special characters.")
		return
	}
	set(string(val))
	c.W.OK()
}

func cmdClientInfo(c *Ctx) {
	c.W.Verbatim("txt", clientLine(c, c.Conn)+"\n")
}

// cmdClientList is CLIENT LIST [TYPE type | ID id ...] (Redis 7.0 accepts
// one of the two filters, not both).
func cmdClientList(c *Ctx) {
	args := c.Args
	var b strings.Builder
	switch {
	case len(args) == 4 && eqFold(args[2], "type"):
		typ, ok := clientType(args[3])
		if !ok {
			c.W.Error("ERR Unknown client type '" + oneLine(string(args[3])) + "'")
			return
		}
		if typ == "normal" {
			for _, conn := range c.Srv.clients() {
				b.WriteString(clientLine(c, conn))
				b.WriteByte('\n')
			}
		}
	case len(args) >= 4 && eqFold(args[2], "id"):
		ids := make([]int64, 0, len(args)-3)
		for _, a := range args[3:] {
			id, ok := parseInt(a)
			if !ok {
				c.W.Error(errInvalidClientID)
				return
			}
			ids = append(ids, id)
		}
		byID := map[uint64]*resp.Conn{}
		for _, conn := range c.Srv.clients() {
			byID[conn.ID()] = conn
		}
		for _, id := range ids {
			if conn := byID[uint64(id)]; conn != nil && id > 0 {
				b.WriteString(clientLine(c, conn))
				b.WriteByte('\n')
			}
		}
	case len(args) != 2:
		c.W.Error(errSyntax)
		return
	default:
		for _, conn := range c.Srv.clients() {
			b.WriteString(clientLine(c, conn))
			b.WriteByte('\n')
		}
	}
	c.W.Verbatim("txt", b.String())
}

// clients lists the live connections (none when no wire server is
// attached).
func (s *Server) clients() []*resp.Conn {
	if s.wire == nil {
		return nil
	}
	return s.wire.Clients()
}

// clientType maps a CLIENT LIST/KILL type name to Redis's type; Cairn's
// clients are all "normal".
func clientType(name []byte) (string, bool) {
	for _, t := range []string{"normal", "slave", "replica", "pubsub", "master"} {
		if eqFold(name, t) {
			if t == "slave" {
				t = "replica"
			}
			return t, true
		}
	}
	return "", false
}

// clientLine formats one CLIENT LIST line in Redis 7.0's field order.
// Fields Cairn has no equivalent for carry fixed plausible values (see the
// README). MULTI state is only known for the calling connection: another
// connection's session belongs to its own goroutine. For the same reason,
// in cluster mode only the calling connection's line ends with its
// consistency level (CONSISTENCY).
func clientLine(c *Ctx, conn *resp.Conn) string {
	flags, multi, argvMem := "", -1, 0
	subs := c.Srv.pubsub.kindCounts(conn.ID())
	if subs[kindChannel]+subs[kindPattern]+subs[kindShard] > 0 {
		flags += "P"
	}
	if conn == c.Conn {
		if n := len(c.Sess.queue); n > 0 { // running EXEC
			flags, multi = flags+"x", n
		}
		for _, a := range c.Args {
			argvMem += len(a)
		}
	}
	cmd := conn.LastCmd()
	if cmd == "" {
		cmd = "NULL"
	}
	now := time.Now()
	b := make([]byte, 0, 256)
	b = append(b, "id="...)
	b = strconv.AppendUint(b, conn.ID(), 10)
	b = append(b, " addr="...)
	b = append(b, conn.RemoteAddr()...)
	b = append(b, " laddr="...)
	b = append(b, conn.LocalAddr()...)
	b = append(b, " fd="...)
	b = strconv.AppendInt(b, int64(conn.FD()), 10)
	b = append(b, " name="...)
	b = append(b, conn.Name()...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, int64(now.Sub(conn.Created())/time.Second), 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, int64(conn.Idle()/time.Second), 10)
	tflags, redir := c.Srv.tracking.clientListFlags(conn.ID())
	if flags += tflags; flags == "" {
		flags = "N"
	}
	b = append(b, " flags="...)
	b = append(b, flags...)
	b = append(b, " db="...)
	b = strconv.AppendInt(b, int64(conn.DB()), 10)
	b = append(b, " sub="...)
	b = strconv.AppendInt(b, int64(subs[kindChannel]), 10)
	b = append(b, " psub="...)
	b = strconv.AppendInt(b, int64(subs[kindPattern]), 10)
	b = append(b, " ssub="...)
	b = strconv.AppendInt(b, int64(subs[kindShard]), 10)
	b = append(b, " multi="...)
	b = strconv.AppendInt(b, int64(multi), 10)
	b = append(b, " qbuf=0 qbuf-free=0 argv-mem="...)
	b = strconv.AppendInt(b, int64(argvMem), 10)
	b = append(b, " multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd="...)
	b = append(b, cmd...)
	b = append(b, " user=default redir="...)
	b = strconv.AppendInt(b, redir, 10)
	b = append(b, " resp="...)
	b = strconv.AppendInt(b, int64(conn.Proto()), 10)
	if c.Srv.cluster != nil && conn == c.Conn {
		b = append(b, " consistency="...)
		b = append(b, c.Sess.level.String()...)
	}
	return string(b)
}

// cmdClientKill is CLIENT KILL addr (old form: +OK or "No such client") or
// CLIENT KILL <filter> <value> ... (new form: the number killed).
func cmdClientKill(c *Ctx) {
	args := c.Args
	var addr, laddr, typ string
	hasAddr, hasLaddr := false, false
	var id int64
	skipMe := true
	if len(args) == 3 {
		addr, hasAddr, skipMe = string(args[2]), true, false
	} else {
		for i := 2; i < len(args); i += 2 {
			if i+1 >= len(args) {
				c.W.Error(errSyntax)
				return
			}
			opt, val := args[i], args[i+1]
			switch {
			case eqFold(opt, "id"):
				n, ok := parseInt(val)
				if !ok || n < 1 {
					c.W.Error(errClientIDRange)
					return
				}
				id = n
			case eqFold(opt, "type"):
				t, ok := clientType(val)
				if !ok {
					c.W.Error("ERR Unknown client type '" + oneLine(string(val)) + "'")
					return
				}
				typ = t
			case eqFold(opt, "addr"):
				addr, hasAddr = string(val), true
			case eqFold(opt, "laddr"):
				laddr, hasLaddr = string(val), true
			case eqFold(opt, "user"):
				if string(val) != "default" {
					c.W.Error("ERR No such user '" + oneLine(string(val)) + "'")
					return
				}
			case eqFold(opt, "skipme"):
				switch {
				case eqFold(val, "yes"):
					skipMe = true
				case eqFold(val, "no"):
					skipMe = false
				default:
					c.W.Error(errSyntax)
					return
				}
			default:
				c.W.Error(errSyntax)
				return
			}
		}
	}
	killed := 0
	for _, conn := range c.Srv.clients() {
		switch {
		case hasAddr && conn.RemoteAddr() != addr,
			hasLaddr && conn.LocalAddr() != laddr,
			typ != "" && typ != "normal",
			id != 0 && conn.ID() != uint64(id),
			conn == c.Conn && skipMe:
			continue
		}
		if conn == c.Conn {
			c.Conn.CloseAfterReply()
		} else {
			conn.Close()
		}
		killed++
	}
	if len(args) == 3 {
		if killed == 0 {
			c.W.Error(errNoSuchClient)
		} else {
			c.W.OK()
		}
		return
	}
	c.W.Int(int64(killed))
}

// cmdClientUnblock is CLIENT UNBLOCK id [TIMEOUT|ERROR]. Cairn has no
// blocking commands, so no client is ever unblocked.
func cmdClientUnblock(c *Ctx) {
	args := c.Args
	if len(args) > 4 {
		c.W.Error(subcommandSyntaxError(args))
		return
	}
	if len(args) == 4 && !eqFold(args[3], "timeout") && !eqFold(args[3], "error") {
		c.W.Error(errUnblockReason)
		return
	}
	if _, ok := parseInt(args[2]); !ok {
		c.W.Error(errNotInt)
		return
	}
	c.W.Int(0)
}

// cmdClientNoEvict accepts ON and OFF; Cairn never evicts clients.
func cmdClientNoEvict(c *Ctx) {
	if !eqFold(c.Args[2], "on") && !eqFold(c.Args[2], "off") {
		c.W.Error(errSyntax)
		return
	}
	c.W.OK()
}

// subcommandSyntaxError is Redis's addReplySubcommandSyntaxError text.
func subcommandSyntaxError(args [][]byte) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + oneLine(clipString(string(args[1]), 128)) +
		"'. Try " + strings.ToUpper(string(args[0])) + " HELP."
}

func clipString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

var clientHelp = []string{
	"CACHING (YES|NO)",
	"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
	"GETREDIR",
	"    Return the client ID we are redirecting to when tracking is enabled.",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"SETINFO <option> <value>",
	"    Set client meta attr. Options are:",
	"    * LIB-NAME: the client lib name.",
	"    * LIB-VER: the client lib version.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
	"         [OPTIN] [OPTOUT] [NOLOOP]",
	"    Control server assisted client side caching.",
	"TRACKINGINFO",
	"    Report tracking status for the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
}

func cmdClientHelp(c *Ctx) { writeHelp(c.W, "CLIENT", clientHelp) }

const clientSubFlags = NoScript | Loading | Stale

var clientCommands = []*Spec{
	{Name: "client", Arity: -2, Group: "connection", Since: "2.4.0", Summary: "A container for client connection commands",
		Complexity: "Depends on subcommand.", Sub: []*Spec{
			{Name: "caching", Arity: 3, Flags: clientSubFlags, ACL: CatConnection, Group: "connection", Since: "6.0.0",
				Summary: "Instruct the server about tracking or not keys in the next request", Complexity: "O(1)", Handler: cmdClientCaching},
			{Name: "getname", Arity: 2, Flags: clientSubFlags, ACL: CatConnection, Group: "connection", Since: "2.6.9",
				Summary: "Get the current connection name", Complexity: "O(1)", Handler: cmdClientGetName},
			{Name: "getredir", Arity: 2, Flags: clientSubFlags, ACL: CatConnection, Group: "connection", Since: "6.0.0",
				Summary: "Get tracking notifications redirection client ID if any", Complexity: "O(1)", Handler: cmdClientGetRedir},
			{Name: "help", Arity: 2, Flags: Loading | Stale, ACL: CatConnection, Group: "connection", Since: "5.0.0",
				Summary: "Show helpful text about the different subcommands", Complexity: "O(1)", Handler: cmdClientHelp},
			{Name: "id", Arity: 2, Flags: clientSubFlags, ACL: CatConnection, Group: "connection", Since: "5.0.0",
				Summary: "Returns the client ID for the current connection", Complexity: "O(1)", Handler: cmdClientID},
			{Name: "info", Tips: []string{"nondeterministic_output"}, Arity: 2, Flags: clientSubFlags, ACL: CatConnection, Group: "connection", Since: "6.2.0",
				Summary: "Returns information about the current client connection.", Complexity: "O(1)", Handler: cmdClientInfo},
			{Name: "kill", Arity: -3, Flags: Admin | clientSubFlags, ACL: CatConnection, Group: "connection", Since: "2.4.0",
				Summary: "Kill the connection of a client", Complexity: "O(N) where N is the number of client connections", Handler: cmdClientKill},
			{Name: "list", Tips: []string{"nondeterministic_output"}, Arity: -2, Flags: Admin | clientSubFlags, ACL: CatConnection, Group: "connection", Since: "2.4.0",
				Summary: "Get the list of client connections", Complexity: "O(N) where N is the number of client connections", Handler: cmdClientList},
			{Name: "no-evict", Arity: 3, Flags: Admin | clientSubFlags, ACL: CatConnection, Group: "connection", Since: "7.0.0",
				Summary: "Set client eviction mode for the current connection", Complexity: "O(1)", Handler: cmdClientNoEvict},
			{Name: "setinfo", Arity: 4, Flags: clientSubFlags, ACL: CatConnection, Group: "connection", Since: "7.2.0",
				Summary: "Sets information specific to the client or connection.", Complexity: "O(1)", Handler: cmdClientSetInfo},
			{Name: "setname", Arity: 3, Flags: clientSubFlags, ACL: CatConnection, Group: "connection", Since: "2.6.9",
				Summary: "Set the current connection name", Complexity: "O(1)", Handler: cmdClientSetName},
			{Name: "tracking", Arity: -3, Flags: clientSubFlags, ACL: CatConnection, Group: "connection", Since: "6.0.0",
				Summary: "Enable or disable server assisted client side caching support", Complexity: "O(1). Some options may introduce additional complexity.", Handler: cmdClientTracking},
			{Name: "trackinginfo", Arity: 2, Flags: clientSubFlags, ACL: CatConnection, Group: "connection", Since: "6.2.0",
				Summary: "Return information about server assisted client side caching for the current connection", Complexity: "O(1)", Handler: cmdClientTrackingInfo},
			{Name: "unblock", Arity: -3, Flags: Admin | clientSubFlags, ACL: CatConnection, Group: "connection", Since: "5.0.0",
				Summary: "Unblock a client blocked in a blocking command from a different connection", Complexity: "O(log N) where N is the number of client connections", Handler: cmdClientUnblock},
		}},
}
