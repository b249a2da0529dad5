package commands

// allCommands is the whole command table, group by group. Each group file
// declares its specs next to its handlers; this is the one place that
// lists the groups.
func allCommands() []*Spec {
	var all []*Spec
	for _, group := range [][]*Spec{
		stringCommands,
		counterCommands,
		casCommands,
		keyspaceCommands,
		expireCommands,
		connectionCommands,
		aclCommands,
		clientCommands,
		multiCommands,
		serverCommands,
		infoCommands,
		latencyCommands,
		commandCommands,
		zsetCommands,
		zsetOpsCommands,
		objectCommands,
		pubsubCommands,
		clusterCommands,
		scriptCommands(),
		peerCommands(),
	} {
		all = append(all, group...)
	}
	return all
}
