package datadog

import "go.opentelemetry.io/collector/pdata/plog"

// SelectLogs returns a copy of the log records of ld whose index (in
// iteration order) keep accepts, with their resources and scopes.
func SelectLogs(ld plog.Logs, keep func(i int) bool) plog.Logs {
	out := plog.NewLogs()
	i := 0
	for _, rl := range ld.ResourceLogs().All() {
		var outRL plog.ResourceLogs
		for _, sl := range rl.ScopeLogs().All() {
			var outSL plog.ScopeLogs
			for _, lr := range sl.LogRecords().All() {
				if keep(i) {
					if outRL == (plog.ResourceLogs{}) {
						outRL = out.ResourceLogs().AppendEmpty()
						rl.Resource().CopyTo(outRL.Resource())
						outRL.SetSchemaUrl(rl.SchemaUrl())
					}
					if outSL == (plog.ScopeLogs{}) {
						outSL = outRL.ScopeLogs().AppendEmpty()
						sl.Scope().CopyTo(outSL.Scope())
						outSL.SetSchemaUrl(sl.SchemaUrl())
					}
					lr.CopyTo(outSL.LogRecords().AppendEmpty())
				}
				i++
			}
		}
	}
	return out
}
