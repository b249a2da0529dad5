package commands

// Server commands: CONFIG (config.go) and SLOWLOG (slowlog.go); INFO and
// the persistence commands are in info.go.

var serverCommands = []*Spec{
	{Name: "config", Arity: -2, Group: "server", Since: "2.0.0", Summary: "A container for server configuration commands", Complexity: "Depends on subcommand.", Sub: []*Spec{
		{Name: "get", Arity: -3, Flags: Admin | NoScript | Loading | Stale, Group: "server", Since: "2.0.0",
			Summary: "Get the values of configuration parameters", Complexity: "O(N) when N is the number of configuration parameters provided", Handler: cmdConfigGet},
		{Name: "set", Tips: []string{"request_policy:all_nodes", "response_policy:all_succeeded"}, Arity: -4, Flags: Admin | NoScript | Loading | Stale, Group: "server", Since: "2.0.0",
			Summary: "Set configuration parameters to the given values", Complexity: "O(N) when N is the number of configuration parameters provided", Handler: cmdConfigSet},
		{Name: "help", Arity: 2, Flags: Loading | Stale, Group: "server", Since: "5.0.0",
			Summary: "Show helpful text about the different subcommands", Complexity: "O(1)", Handler: cmdConfigHelp},
		{Name: "resetstat", Arity: 2, Flags: Admin | NoScript | Loading | Stale, Group: "server", Since: "2.0.0",
			Summary: "Reset the stats returned by INFO", Complexity: "O(1)", Handler: cmdConfigResetStat},
	}},
	{Name: "slowlog", Arity: -2, Group: "server", Since: "2.2.12", Summary: "A container for slow log commands", Complexity: "Depends on subcommand.", Sub: []*Spec{
		{Name: "get", Tips: []string{"request_policy:all_nodes", "nondeterministic_output"}, Arity: -2, Flags: Admin | Loading | Stale, Group: "server", Since: "2.2.12",
			Summary: "Get the slow log's entries", Complexity: "O(N) where N is the number of entries returned", Handler: cmdSlowlogGet},
		{Name: "help", Arity: 2, Flags: Loading | Stale, Group: "server", Since: "6.2.0",
			Summary: "Show helpful text about the different subcommands", Complexity: "O(1)", Handler: cmdSlowlogHelp},
		{Name: "len", Tips: []string{"request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"}, Arity: 2, Flags: Admin | Loading | Stale, Group: "server", Since: "2.2.12",
			Summary: "Get the slow log's length", Complexity: "O(1)", Handler: cmdSlowlogLen},
		{Name: "reset", Tips: []string{"request_policy:all_nodes", "response_policy:all_succeeded"}, Arity: 2, Flags: Admin | Loading | Stale, Group: "server", Since: "2.2.12",
			Summary: "Clear all entries from the slow log", Complexity: "O(N) where N is the number of entries in the slowlog", Handler: cmdSlowlogReset},
	}},
}
