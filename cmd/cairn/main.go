// Command cairn runs a Cairn server.
//
// Usage, as redis-server:
//
//	cairn [/path/to/cairn.conf] [--name value ...]
//
// The optional config file has redis.conf syntax (one "name value" per line,
// '#' comments); command-line options override it. Every setting CONFIG GET
// lists is accepted (port, bind, dir, appendfsync, databases, maxclients,
// timeout, loglevel, ...).
//
//	cairn check [--databases N] <dir>
//
// verifies a data directory offline without modifying it.
package main

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"cairn/commands"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check" { // cairn check <dir>: offline verification (check.go)
		os.Exit(runCheck(os.Args[2:], os.Stdout, os.Stderr))
	}
	cfg := commands.NewConfig()
	if err := configure(cfg, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel()}))
	node, err := commands.StartNode(cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("received signal, shutting down", "signal", s.String())
	case <-node.Done():
	}
	if err := node.Close(); err != nil {
		log.Error("shutdown", "err", err)
		os.Exit(1)
	}
}

// configure applies the config file (first argument not starting with
// "--") and then the --name value options.
func configure(cfg *commands.Config, args []string) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		if err := loadFile(cfg, args[0]); err != nil {
			return err
		}
		args = args[1:]
	}
	for len(args) > 0 {
		name, ok := strings.CutPrefix(args[0], "--")
		if !ok {
			return fmt.Errorf("unexpected argument %q (options are --name value)", args[0])
		}
		var vals []string
		for args = args[1:]; len(args) > 0 && !strings.HasPrefix(args[0], "--"); args = args[1:] {
			vals = append(vals, args[0])
		}
		if err := cfg.Set(name, strings.Join(vals, " ")); err != nil {
			return err
		}
	}
	return nil
}

func loadFile(cfg *commands.Config, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		name, value, _ := strings.Cut(text, " ")
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if err := cfg.Set(name, value); err != nil {
			return fmt.Errorf("%s:%d: %v", path, line, err)
		}
	}
	return sc.Err()
}
