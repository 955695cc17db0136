package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"sort"
	"unicode/utf8"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

// truncate shrinks the largest fields, turning each into a string holding
// the beginning of its JSON, until all fields fit in budget bytes. It
// returns the names of the fields it cut.
func truncate(fields []field, budget int) []string {
	order := make([]int, len(fields))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return len(fields[order[a]].value) > len(fields[order[b]].value) })
	var cut []string
	for _, i := range order {
		over := entrySize(nil, fields, nil) - budget
		if over <= 0 {
			break
		}
		f := &fields[i]
		keep := len(f.value) - over - 16
		for keep > 0 {
			s := f.value[:keep]
			// Do not cut a character in two.
			for len(s) > 0 {
				if r, size := utf8.DecodeLastRune(s); r != utf8.RuneError || size > 1 {
					break
				}
				s = s[:len(s)-1]
			}
			enc := datadog.AppendString(nil, string(s)+"…")
			if extra := len(enc) - (len(f.value) - over); extra <= 0 {
				f.value = enc
				break
			} else {
				keep -= extra
			}
		}
		if keep <= 0 {
			f.value = []byte(`""`)
		}
		cut = append(cut, f.key)
	}
	return cut
}
