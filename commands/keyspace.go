package commands

// Keyspace commands: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX, COPY,
// RANDOMKEY, TOUCH, DBSIZE, FLUSHDB, FLUSHALL. KEYS and SCAN live in
// scan.go. Every handler runs inside one store Update, so each command is
// atomic; expired keys are invisible because the store expires them lazily.

// cmdDel is DEL and UNLINK: the store frees memory the same way for both
// (Pebble's delete is already O(1) per key).
func cmdDel(c *Ctx) {
	var n int64
	for _, k := range c.Args[1:] {
		if c.Tx.Delete(k) {
			c.notify(notifyGeneric, "del", k)
			n++
		}
	}
	c.W.Int(n)
}

// cmdExists is EXISTS and TOUCH: the number of arguments naming an existing
// key, duplicates counted again. Cairn keeps no access time, so TOUCH only
// counts.
func cmdExists(c *Ctx) {
	var n int64
	for _, k := range c.Args[1:] {
		if c.Tx.Exists(k) {
			n++
		}
	}
	c.W.Int(n)
}

func cmdType(c *Ctx) {
	e := c.Tx.Get(c.Args[1])
	if e == nil {
		c.W.Simple("none")
		return
	}
	c.W.Simple(e.Type.String())
}

func cmdRename(c *Ctx)   { renameGeneric(c, false) }
func cmdRenameNX(c *Ctx) { renameGeneric(c, true) }

// renameGeneric follows db.c renameGenericCommand: a missing source is an
// error even when both names are equal; renaming a key to itself keeps it
// (and its TTL) untouched; the TTL moves with the value.
func renameGeneric(c *Ctx, nx bool) {
	src, dst := c.Args[1], c.Args[2]
	if !c.Tx.Exists(src) {
		c.W.Error(errNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.W.Int(0)
		} else {
			c.W.OK()
		}
		return
	}
	if nx && c.Tx.Exists(dst) {
		c.W.Int(0)
		return
	}
	c.Tx.Rename(src, dst)
	c.notify(notifyGeneric, "rename_from", src)
	c.notify(notifyGeneric, "rename_to", dst)
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

// cmdCopy is COPY source destination [DB n] [REPLACE], after db.c
// copyCommand: options are checked left to right (a bad DB answers before
// a later syntax error), then the same-object check, then the keys.
func cmdCopy(c *Ctx) {
	src, dst := c.Args[1], c.Args[2]
	srcDB := c.Tx.DB()
	dstDB := srcDB
	replace := false
	for j := 3; j < len(c.Args); j++ {
		more := len(c.Args) - j - 1
		switch {
		case eqFold(c.Args[j], "replace"):
			replace = true
		case eqFold(c.Args[j], "db") && more >= 1:
			n, ok := parseInt(c.Args[j+1])
			if !ok {
				c.W.Error(errNotInt)
				return
			}
			if n < -1<<31 || n > 1<<31-1 {
				c.W.Error(errIntRange)
				return
			}
			if n < 0 || n >= int64(c.Srv.store.Databases()) {
				c.W.Error(errDBIndex)
				return
			}
			dstDB = int(n)
			j++
		default:
			c.W.Error(errSyntax)
			return
		}
	}
	if srcDB == dstDB && string(src) == string(dst) {
		c.W.Error(errSameObject)
		return
	}
	if !c.Tx.Exists(src) {
		c.W.Int(0)
		return
	}
	to := c.Tx
	if dstDB != srcDB {
		to = c.Tx.In(dstDB)
	}
	if !replace && to.Exists(dst) {
		c.W.Int(0)
		return
	}
	c.Tx.Copy(src, to, dst)
	c.Srv.notifyEvent(dstDB, notifyGeneric, "copy_to", string(dst))
	c.W.Int(1)
}

// cmdRandomKey answers a random live key, or null for an empty database.
func cmdRandomKey(c *Ctx) {
	e := c.Tx.Random()
	if e == nil {
		c.W.Null()
		return
	}
	c.W.BulkString(e.Key())
}

// cmdDBSize counts the keys of the database, including expired keys not
// yet removed, as Redis does.
func cmdDBSize(c *Ctx) { c.W.Int(int64(c.Tx.Len())) }

// flushArgsOK checks FLUSHDB/FLUSHALL's only option, ASYNC or SYNC (db.c
// getFlushCommandFlags). Both modes flush synchronously: deleting a
// database is range deletions in Pebble, already O(1) in the key count.
func flushArgsOK(c *Ctx) bool {
	switch {
	case len(c.Args) == 1:
		return true
	case len(c.Args) == 2 && (eqFold(c.Args[1], "sync") || eqFold(c.Args[1], "async")):
		return true
	}
	c.W.Error(errSyntax)
	return false
}

func cmdFlushDB(c *Ctx) {
	if !flushArgsOK(c) {
		return
	}
	c.Tx.Flush()
	c.W.OK()
}

func cmdFlushAll(c *Ctx) {
	if !flushArgsOK(c) {
		return
	}
	c.Tx.FlushAll()
	c.W.OK()
}

var keyspaceCommands = []*Spec{
	{Name: "del", KeySpecs: []KeySpec{ksRange("RM delete", 1, -1, 1, 0)}, Tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, Arity: -2, Flags: Write, FirstKey: 1, LastKey: -1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "1.0.0", Summary: "Delete a key",
		Complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
		Handler:    cmdDel},
	{Name: "unlink", KeySpecs: []KeySpec{ksRange("RM delete", 1, -1, 1, 0)}, Tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: -1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "4.0.0", Summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
		Complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
		Handler:    cmdDel},
	{Name: "exists", KeySpecs: []KeySpec{ksRange("RO", 1, -1, 1, 0)}, Tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "1.0.0", Summary: "Determine if a key exists",
		Complexity: "O(N) where N is the number of keys to check.", Handler: cmdExists},
	{Name: "type", KeySpecs: []KeySpec{ksRange("RO", 1, 0, 1, 0)}, Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "1.0.0", Summary: "Determine the type stored at key", Complexity: "O(1)", Handler: cmdType},
	{Name: "rename", KeySpecs: []KeySpec{
		ksRange("RW access delete", 1, 0, 1, 0),
		ksRange("OW update", 2, 0, 1, 0),
	}, Arity: 3, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "1.0.0", Summary: "Rename a key", Complexity: "O(1)", Handler: cmdRename},
	{Name: "renamenx", KeySpecs: []KeySpec{
		ksRange("RW access delete", 1, 0, 1, 0),
		ksRange("OW insert", 2, 0, 1, 0),
	}, Arity: 3, Flags: Write | Fast, FirstKey: 1, LastKey: 2, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "1.0.0", Summary: "Rename a key, only if the new key does not exist", Complexity: "O(1)", Handler: cmdRenameNX},
	{Name: "copy", KeySpecs: []KeySpec{
		ksRange("RO access", 1, 0, 1, 0),
		ksRange("OW update", 2, 0, 1, 0),
	}, Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 2, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "6.2.0", Summary: "Copy a key",
		Complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.", Handler: cmdCopy},
	{Name: "keys", Tips: []string{"request_policy:all_shards", "nondeterministic_output_order"}, Arity: 2, Flags: ReadOnly, ACL: CatKeyspace | CatDangerous,
		Group: "generic", Since: "1.0.0", Summary: "Find all keys matching the given pattern",
		Complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
		Handler:    cmdKeys},
	{Name: "scan", Tips: []string{"nondeterministic_output", "request_policy:special"}, Arity: -2, Flags: ReadOnly, ACL: CatKeyspace,
		Group: "generic", Since: "2.8.0", Summary: "Incrementally iterate the keys space",
		Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
		Handler:    cmdScan},
	{Name: "randomkey", Tips: []string{"request_policy:all_shards", "nondeterministic_output"}, Arity: 1, Flags: ReadOnly, ACL: CatKeyspace,
		Group: "generic", Since: "1.0.0", Summary: "Return a random key from the keyspace", Complexity: "O(1)", Handler: cmdRandomKey},
	{Name: "touch", KeySpecs: []KeySpec{ksRange("RO", 1, -1, 1, 0)}, Tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "3.2.1", Summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.",
		Complexity: "O(N) where N is the number of keys that will be touched.", Handler: cmdExists},
	{Name: "dbsize", Tips: []string{"request_policy:all_shards", "response_policy:agg_sum"}, Arity: 1, Flags: ReadOnly | Fast, ACL: CatKeyspace,
		Group: "server", Since: "1.0.0", Summary: "Return the number of keys in the selected database", Complexity: "O(1)", Handler: cmdDBSize},
	{Name: "flushdb", Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}, Arity: -1, Flags: Write, ACL: CatKeyspace | CatDangerous,
		Group: "server", Since: "1.0.0", Summary: "Remove all keys from the current database",
		Complexity: "O(N) where N is the number of keys in the selected database", Handler: cmdFlushDB},
	{Name: "flushall", Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}, Arity: -1, Flags: Write, ACL: CatKeyspace | CatDangerous,
		Group: "server", Since: "1.0.0", Summary: "Remove all keys from all databases",
		Complexity: "O(N) where N is the total number of keys in all databases", Handler: cmdFlushAll},
}
