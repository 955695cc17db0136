package recordstream

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// TestWalkLeavesEveryContainerOnErrors: whatever ends a walk early (too
// deep, bad syntax, a number out of range, a short buffer, at any depth,
// in an object or an array, empty or not), every container entered is
// left: the depth is back to 0, and the same parser then walks a value
// nested exactly maxDepth deep (the too_deep limit counts from the top,
// not from a leaked level).
func TestWalkLeavesEveryContainerOnErrors(t *testing.T) {
	nested := func(open, inner, close string, n int) string {
		return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
	}
	limit := nested("[", "1", "]", maxDepth)
	tests := []struct {
		name, in string
		err      bool
	}{
		{"arrays one too deep", nested("[", "1", "]", maxDepth+1), true},
		{"empty array one too deep", nested("[", "", "]", maxDepth+1), true},
		{"objects one too deep", nested(`{"a":`, "1", "}", maxDepth+1), true},
		{"empty object one too deep", nested(`{"a":`, "{}", "}", maxDepth), true},
		{"far too deep", nested(`{"a":[`, "1", "]}", maxDepth), true},
		{"syntax in a nested object", `{"a":[1,{"b":x}]}`, true},
		{"syntax in a nested array", `{"a":[[1 2]]}`, true},
		{"key not a string", `{"a":{1:2}}`, true},
		{"no colon", `{"a":{"b" 1}}`, true},
		{"no comma", `{"a":{"b":1 "c":2}}`, true},
		{"number out of range", `{"a":[[1e400]]}`, true},
		{"short in an object", `{"a":[1,{"b":`, true},
		{"short in an array", `{"a":[[`, true},
		{"short after a comma", `[1,`, true},
		{"empty containers", `{"a":[],"b":{},"c":[{}]}`, false},
		{"at the limit", limit, false},
	}
	for _, tt := range tests {
		for _, build := range []bool{true, false} {
			name := tt.name
			if !build {
				name += "/not built"
			}
			t.Run(name, func(t *testing.T) {
				p := parser{b: []byte(tt.in), in: newInterner(), hints: new(sizeHints), fields: &mapping.Fields{}}
				var v pcommon.Value
				if build {
					v = pcommon.NewValueEmpty()
				}
				_, err := p.value(0, v, mapping.Key{}, hintKey{})
				if tt.err {
					require.Error(t, err)
				} else {
					require.NoError(t, err)
				}
				assert.Zero(t, p.depth, "containers entered and not left")
				p.b = []byte(limit)
				_, err = p.value(0, v, mapping.Key{}, hintKey{})
				assert.NoError(t, err, "a value exactly maxDepth deep after the error")
			})
		}
	}
}

// TestShrink: a size hint follows a larger container at once, and a
// smaller one slowly (small hints not at all).
func TestShrink(t *testing.T) {
	for _, tt := range []struct{ old, n, want int }{
		{0, 5, 5}, {5, 9, 9}, {5, 2, 5}, {7, 0, 7}, {8, 2, 7}, {20, 18, 19}, {20, 25, 25}, {20, 20, 20},
	} {
		if got := shrink(tt.old, tt.n); got != tt.want {
			t.Errorf("shrink(%d, %d) = %d, want %d", tt.old, tt.n, got, tt.want)
		}
	}
}
