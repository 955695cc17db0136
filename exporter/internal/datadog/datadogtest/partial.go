package datadogtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
)

// CountBy counts the log records of ld by the name key gives them; the
// records key refuses (false) are not counted.
func CountBy(ld plog.Logs, key func(plog.LogRecord) (string, bool)) map[string]int {
	out := map[string]int{}
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if k, ok := key(lr); ok {
					out[k]++
				}
			}
		}
	}
	return out
}

// AssertSplit checks the error of a push that a failed request cut short:
// it is retryable and a consumererror.Logs whose records (named by count)
// and those the intake accepted hold each of want exactly once. It returns
// the records to push again.
func AssertSplit(t *testing.T, err error, accepted map[string]int, count func(plog.Logs) map[string]int, want map[string]int) plog.Logs {
	t.Helper()
	require.Error(t, err, "a failed request is never reported as success")
	assert.False(t, consumererror.IsPermanent(err))
	var le consumererror.Logs
	require.ErrorAs(t, err, &le)
	rest := count(le.Data())
	for k := range want {
		assert.Equal(t, 1, accepted[k]+rest[k], "%s: accepted %d times, returned %d times", k, accepted[k], rest[k])
	}
	assert.Equal(t, len(want), len(accepted)+len(rest))
	return le.Data()
}

// AssertExactlyOnce checks that the intake accepted (got) each of want
// once, and nothing else.
func AssertExactlyOnce(t *testing.T, got, want map[string]int) {
	t.Helper()
	for k := range want {
		assert.Equal(t, 1, got[k], "%s accepted %d times", k, got[k])
	}
	assert.Len(t, got, len(want))
}
