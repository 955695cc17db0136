package soak

import (
	"fmt"
	"sort"
	"strings"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// What a run checks by eventID: lost records, duplicates, and samples
// for the failure message.

// compare returns the expected IDs missing from got and how many extra
// copies of expected IDs got holds.
func compare(want []string, got map[string]int) (lost []string, dups int) {
	for _, id := range want {
		switch n := got[id]; {
		case n == 0:
			lost = append(lost, id)
		case n > 1:
			dups += n - 1
		}
	}
	return lost, dups
}

func covered(want []string, got map[string]int) bool {
	for _, id := range want {
		if got[id] == 0 {
			return false
		}
	}
	return true
}

func unknown(want []string, got map[string]int) int {
	known := make(map[string]bool, len(want))
	for _, id := range want {
		known[id] = true
	}
	n := 0
	for id := range got {
		if !known[id] {
			n++
		}
	}
	return n
}

// dupKeys says in which objects the duplicated records are.
func dupKeys(got map[string]int, tr *tree) string {
	byKey := map[string]int{}
	for id, n := range got {
		if n > 1 {
			byKey[tr.keyOf[id]] += n - 1
		}
	}
	var keys []string
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys[:min(4, len(keys))] {
		out = append(out, fmt.Sprintf("%d in %s", byKey[k], k[strings.LastIndex(k, "/")+1:]))
	}
	return fmt.Sprintf("duplicates in %d objects: %s", len(keys), strings.Join(out, ", "))
}

func sample(ids []string, tr *tree) string {
	var out []string
	for _, id := range ids[:min(3, len(ids))] {
		out = append(out, id+" (in "+tr.keyOf[id]+")")
	}
	return strings.Join(out, ", ")
}

func logIDs(in *devstack.Intake) map[string]int {
	ids := map[string]int{}
	for _, e := range in.Logs() {
		id, _ := e["eventID"].(string)
		ids[id]++
	}
	return ids
}

func eventIDs(in *devstack.Intake) map[string]int {
	ids := map[string]int{}
	for _, ev := range in.Events() {
		_, after, ok := strings.Cut(ev.Text, "| Event ID | ")
		if !ok {
			ids[""]++
			continue
		}
		id, _, _ := strings.Cut(after, " |")
		ids[id]++
	}
	return ids
}
