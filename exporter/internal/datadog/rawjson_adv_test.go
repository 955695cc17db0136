package datadog

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAdvScanObjectNumberRange: numbers beyond float64 are refused (the
// intake refuses them), the largest, smallest and underflowing ones are not.
func TestAdvScanObjectNumberRange(t *testing.T) {
	for text, want := range map[string]bool{
		`{"n":1e400}`:                            false,
		`{"n":[-1E+400]}`:                        false,
		`{"n":` + strings.Repeat("9", 400) + `}`: false,
		`{"n":` + strings.Repeat("9", 300) + `}`: true,
		`{"n":1.7976931348623157e308}`:           true,
		`{"n":1e-400}`:                           true,
		`{"n":-0.0e0}`:                           true,
		`{"n":123456789012345678901234567890}`:   true,
	} {
		_, ok := ScanObject([]byte(text), nil)
		assert.Equal(t, want, ok, "%.60s", text)
	}
}
