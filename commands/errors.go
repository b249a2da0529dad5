package commands

// Redis's error replies, copied from Redis 7.0 (server.c createSharedObjects
// and the command sources). Every handler uses these constants; texts with
// a parameter are built by the helpers below.
const (
	errSyntax          = "ERR syntax error"
	errNotInt          = "ERR value is not an integer or out of range"
	errNotFloat        = "ERR value is not a valid float"
	errWrongType       = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errOverflow        = "ERR increment or decrement would overflow"
	errNaNOrInf        = "ERR increment would produce NaN or Infinity"
	errNoSuchKey       = "ERR no such key"
	errDBIndex         = "ERR DB index is out of range"
	errSameObject      = "ERR source and destination objects are the same"
	errOffsetRange     = "ERR offset is out of range"
	errStringTooLong   = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	errInvalidCursor   = "ERR invalid cursor"
	errNestedMulti     = "ERR MULTI calls can not be nested"
	errExecNoMulti     = "ERR EXEC without MULTI"
	errDiscardNoMulti  = "ERR DISCARD without MULTI"
	errWatchInMulti    = "ERR WATCH inside MULTI is not allowed"
	errExecAbort       = "EXECABORT Transaction discarded because of previous errors."
	errNotInMulti      = "ERR Command not allowed inside a transaction"
	errInternal        = "ERR internal error while executing the command; see the server log"
	errCrossSlot       = "CROSSSLOT Keys in request don't hash to the same slot"
	errClusterDB       = "ERR SELECT is not allowed in cluster mode"
	errClusterWatch    = "ERR WATCH is not supported in cluster mode"
	errNoProto         = "NOPROTO unsupported protocol version"
	errMisconf         = "MISCONF Errors writing to the data directory; writes are refused until restart: "
	errTimeoutNegative = "ERR timeout is negative"
)

// errArity is the reply to a wrong argument count.
func errArity(fullName string) string {
	return "ERR wrong number of arguments for '" + fullName + "' command"
}

// errInvalidExpire is the reply to an expiry out of range in cmd.
func errInvalidExpire(cmd string) string {
	return "ERR invalid expire time in '" + cmd + "' command"
}

// Keyspace and expire commands (db.c getIntFromObjectOrReply, expire.c
// parseExtendedExpireArgumentsOrReply).
const (
	errIntRange      = "ERR value is out of range, value must between -2147483648 and 2147483647"
	errExpireNXOpts  = "ERR NX and XX, GT or LT options at the same time are not compatible"
	errExpireGTLT    = "ERR GT and LT options at the same time are not compatible"
	errExpireOptPref = "ERR Unsupported option " // followed by the option, CR/LF as spaces
)

// Strings and compare-and-swap (t_string.c decrbyCommand; Redis 8.4
// validateHexDigest for IFDEQ/IFDNE digests).
const (
	errDecrOverflow = "ERR decrement would overflow"
	errDigestLen    = "ERR must be exactly 16 hexadecimal characters"
)

// COMMAND, CLIENT, INFO and persistence errors (Redis 7.0 server.c,
// networking.c, rdb.c; CLIENT SETINFO from 7.2).
const (
	errInvalidCommand    = "ERR Invalid command specified"
	errNoKeyArgs         = "ERR The command has no key arguments"
	errInvalidArgCount   = "ERR Invalid number of arguments specified for command"
	errInvalidArgs       = "ERR Invalid arguments specified for command"
	errNoSuchClient      = "ERR No such client"
	errClientIDRange     = "ERR client-id should be greater than 0"
	errInvalidClientID   = "ERR Invalid client ID"
	errTrackingRedir     = "ERR The client ID you want redirect to does not exist"
	errTrackingOneRedir  = "ERR A client can only redirect to a single other client"
	errCachingNoTracking = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
	errUnblockReason     = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
	errBgsaveInProgress  = "ERR Background save already in progress"
	errNoShutdown        = "ERR No shutdown in progress."
	errShutdownFailed    = "ERR Errors trying to SHUTDOWN. Check logs."
	errSlowlogCount      = "ERR count should be greater than or equal to -1"
)

// Sorted sets (Redis 7.0 t_zset.c: zaddGenericCommand, zsetAdd,
// zrangeGenericCommand, zslParseRange, zslParseLexRange,
// zrandmemberCommand).
const (
	errZAddXXNX        = "ERR XX and NX options at the same time are not compatible"
	errZAddGTLTNX      = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZAddIncrPair    = "ERR INCR option supports a single increment-element pair"
	errZScoreNaN       = "ERR resulting score is not a number (NaN)"
	errZRangeLimit     = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZRangeLexScores = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errZScoreRange     = "ERR min or max is not a float"
	errZLexRange       = "ERR min or max not valid string range item"
	errZRandCount      = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	errZRandScores     = "ERR value is out of range"
)

// Sorted-set pops, blocking pops and set algebra (Redis 7.0 t_zset.c
// zpopMinMaxCommand, zmpopGenericCommand, zunionInterDiffGenericCommand;
// timeout.c getTimeoutFromObjectOrReply).
const (
	errNotPositive     = "ERR value is out of range, must be positive"
	errNumKeysPositive = "ERR numkeys should be greater than 0"
	errCountPositive   = "ERR count should be greater than 0"
	errTimeoutNotFloat = "ERR timeout is not a float or out of range"
	errWeightNotFloat  = "ERR weight value is not a float"
	errLimitNegative   = "ERR LIMIT can't be negative"
)

// errNoInputKey is ZUNION/ZINTER/ZDIFF's reply to numkeys < 1.
func errNoInputKey(fullName string) string {
	return "ERR at least 1 input key is needed for '" + fullName + "' command"
}
