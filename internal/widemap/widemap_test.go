package widemap

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// TestBuilderAsPutEmpty: a Builder started on a map's first members ends
// with what putting every member with PutEmpty gives: the keys in their
// first place, each with its last value, nested values moved whole.
func TestBuilderAsPutEmpty(t *testing.T) {
	type member struct {
		key string
		val any
	}
	var wide []member
	for i := range 3 * Threshold {
		wide = append(wide, member{fmt.Sprint("k", i%(2*Threshold)), i})
	}
	for _, tc := range []struct {
		name    string
		before  int // members put before the Builder takes over
		members []member
	}{
		{"distinct", 2, []member{{"a", 1}, {"b", "x"}, {"c", true}, {"d", 1.5}}},
		{"repeated before and after", 2, []member{{"a", 1}, {"b", 2}, {"a", 3}, {"c", 4}, {"b", 5}}},
		{"nested", 1, []member{{"m", map[string]any{"x": []any{int64(1), "y"}}}, {"s", []any{map[string]any{"z": nil}}}, {"m", "last"}}},
		{"wide with repeats", Threshold, wide},
		{"empty", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := pcommon.NewMap()
			for _, m := range tc.members {
				assert.NoError(t, want.PutEmpty(m.key).FromRaw(m.val))
			}
			got := pcommon.NewMap()
			for _, m := range tc.members[:tc.before] {
				assert.NoError(t, got.PutEmpty(m.key).FromRaw(m.val))
			}
			b := New(got)
			for _, m := range tc.members[tc.before:] {
				assert.NoError(t, b.Put(m.key).FromRaw(m.val))
			}
			b.MoveTo(got)
			var wantKeys, gotKeys []string
			for k := range want.All() {
				wantKeys = append(wantKeys, k)
			}
			for k := range got.All() {
				gotKeys = append(gotKeys, k)
			}
			assert.Equal(t, wantKeys, gotKeys)
			assert.Equal(t, want.AsRaw(), got.AsRaw())
		})
	}
}
