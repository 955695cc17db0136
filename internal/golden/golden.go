// Package golden compares test output with golden files; `go test -update`
// rewrites them.
package golden

import (
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// AssertJSON checks that v, encoded as indented JSON, equals the golden
// file at path (as JSON: key order and spacing do not matter).
func AssertJSON(t testing.TB, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o600))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run the test with -update to create it")
	assert.JSONEq(t, string(want), string(got))
}
