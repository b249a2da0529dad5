package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cairn/commands"
)

func TestConfigure(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cairn.conf")
	conf := "# a comment\n\nport 7001\nappendfsync always\ndir \"/var/lib/cairn\"\nbind 127.0.0.1 ::1\n"
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		args    []string
		want    map[string]string
		wantErr string
	}{
		{"defaults", nil, map[string]string{"port": "6379", "bind": "127.0.0.1", "dir": "./data", "appendfsync": "everysec"}, ""},
		{"flags", []string{"--port", "7000", "--timeout", "30"}, map[string]string{"port": "7000", "timeout": "30"}, ""},
		{"file", []string{file}, map[string]string{"port": "7001", "appendfsync": "always", "dir": "/var/lib/cairn", "bind": "127.0.0.1 ::1"}, ""},
		{"file then flags", []string{file, "--port", "7002"}, map[string]string{"port": "7002", "appendfsync": "always"}, ""},
		{"multi-word flag", []string{"--bind", "127.0.0.1", "::1"}, map[string]string{"bind": "127.0.0.1 ::1"}, ""},
		{"unknown setting", []string{"--nosuch", "1"}, nil, "nosuch"},
		{"bad value", []string{"--maxclients", "x"}, nil, "maxclients"},
		{"stray argument", []string{"--port", "1", "x", "--y"}, nil, "y"},
		{"missing file", []string{filepath.Join(dir, "none.conf")}, nil, "none.conf"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := commands.NewConfig()
			err := configure(cfg, tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got := cfg.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
