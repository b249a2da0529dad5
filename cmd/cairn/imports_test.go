package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// allowedImports is the package map of the architecture: imports point down
// only (cmd -> commands -> cluster -> store -> zset; resp is a leaf).
var allowedImports = map[string][]string{
	"cairn/zset":      {},
	"cairn/resp":      {},
	"cairn/store":     {"cairn/zset"},
	"cairn/cluster":   {"cairn/store", "cairn/resp", "cairn/zset"},
	"cairn/commands":  {"cairn/resp", "cairn/store", "cairn/zset", "cairn/cluster"},
	"cairn/cmd/cairn": {"cairn/commands", "cairn/resp", "cairn/store", "cairn/zset", "cairn/cluster"},
	// Examples are clients: they talk to Cairn over the network only.
	"cairn/examples/leaderboard": {},
	"cairn/scripts/scaniter":     {},
	"cairn/scripts/clusterbench": {},
	"cairn/scripts/plotmetrics":  {},
	"cairn/scripts/zipfhit":      {},
	"cairn/scripts/pubfanout":    {},
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "cairn/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		allowed, known := allowedImports[p.ImportPath]
		if !known {
			t.Errorf("package %s is not in the package map; add it to allowedImports and ARCHITECTURE", p.ImportPath)
			continue
		}
		seen++
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, "cairn/") {
				continue
			}
			ok := false
			for _, a := range allowed {
				ok = ok || a == imp
			}
			if !ok {
				t.Errorf("%s imports %s, which the package map forbids", p.ImportPath, imp)
			}
		}
	}
	if seen < 4 {
		t.Fatalf("checked only %d packages", seen)
	}
}
