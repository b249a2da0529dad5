package commands

// Connection commands: PING, ECHO, QUIT, SELECT, HELLO. CLIENT lives in
// client.go.

// RedisVersion is the Redis version whose behaviour Cairn reproduces; HELLO
// and INFO report it so clients enable the matching features.
const RedisVersion = "7.0.15"

func cmdPing(c *Ctx) {
	switch len(c.Args) {
	case 1:
		c.W.Simple("PONG")
	case 2:
		c.W.Bulk(c.Args[1])
	default:
		c.W.Error(errArity("ping"))
	}
}

func cmdEcho(c *Ctx) { c.W.Bulk(c.Args[1]) }

func cmdQuit(c *Ctx) {
	c.W.OK()
	c.Conn.CloseAfterReply()
}

func cmdSelect(c *Ctx) {
	n, ok := parseInt(c.Args[1])
	if !ok || n < -1<<31 || n > 1<<31-1 {
		c.W.Error(errNotInt)
		return
	}
	if c.Srv.cluster != nil && n != 0 {
		c.W.Error(errClusterDB)
		return
	}
	if n < 0 || n >= int64(c.Srv.store.Databases()) {
		c.W.Error(errDBIndex)
		return
	}
	c.Conn.SetDB(int(n))
	c.W.OK()
}

func cmdHello(c *Ctx) {
	args := c.Args
	ver := int64(0)
	next := 1
	if len(args) >= 2 {
		n, ok := parseInt(args[1])
		if !ok {
			c.W.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if n < 2 || n > 3 {
			c.W.Error(errNoProto)
			return
		}
		ver = n
		next = 2
	}
	var name, user, pass []byte
	setName := false
	for j := next; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case eqFold(args[j], "auth") && more >= 2:
			user, pass = args[j+1], args[j+2]
			j += 2
		case eqFold(args[j], "setname") && more >= 1:
			name, setName = args[j+1], true
			j++
		default:
			c.W.Error("ERR Syntax error in HELLO option '" + oneLine(string(args[j])) + "'")
			return
		}
	}
	if !helloAuth(c, user, pass) { // aclcmd.go
		return
	}
	if setName {
		if !validClientName(name) {
			c.W.Error(errClientName)
			return
		}
		c.Conn.SetName(string(name))
	}
	if ver != 0 {
		c.Conn.SetProto(int(ver))
	}
	c.W.Map(7)
	c.W.BulkString("server")
	c.W.BulkString("redis")
	c.W.BulkString("version")
	c.W.BulkString(RedisVersion)
	c.W.BulkString("proto")
	c.W.Int(int64(c.W.Proto()))
	c.W.BulkString("id")
	c.W.Int(int64(c.Conn.ID()))
	c.W.BulkString("mode")
	c.W.BulkString(c.Srv.mode())
	c.W.BulkString("role")
	c.W.BulkString("master")
	c.W.BulkString("modules")
	c.W.Array(0)
}

const (
	errWrongPass  = "WRONGPASS invalid username-password pair or user is disabled."
	errClientName = "ERR Client names cannot contain spaces, newlines or special characters."
)

// validClientName reports whether name is acceptable to CLIENT SETNAME:
// printable ASCII without spaces (an empty name clears it).
func validClientName(name []byte) bool {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

var connectionCommands = []*Spec{
	{Name: "ping", Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}, Arity: -1, Flags: Fast, ACL: CatConnection,
		Group: "connection", Since: "1.0.0", Summary: "Ping the server", Complexity: "O(1)", Handler: cmdPing},
	{Name: "echo", Arity: 2, Flags: Fast | Loading | Stale, ACL: CatConnection,
		Group: "connection", Since: "1.0.0", Summary: "Echo the given string", Complexity: "O(1)", Handler: cmdEcho},
	{Name: "quit", Arity: -1, Flags: AllowBusy | NoScript | Loading | Stale | Fast | NoAuth, ACL: CatConnection,
		Group: "connection", Since: "1.0.0", Summary: "Close the connection", Complexity: "O(1)", Handler: cmdQuit},
	{Name: "select", Arity: 2, Flags: Loading | Stale | Fast, ACL: CatConnection,
		Group: "connection", Since: "1.0.0", Summary: "Change the selected database for the current connection", Complexity: "O(1)", Handler: cmdSelect},
	{Name: "hello", Arity: -1, Flags: NoScript | Loading | Stale | Fast | NoAuth | AllowBusy, ACL: CatConnection,
		Group: "connection", Since: "6.0.0", Summary: "Handshake with Redis", Complexity: "O(1)", Handler: cmdHello},
}
