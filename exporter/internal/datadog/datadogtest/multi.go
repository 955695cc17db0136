package datadogtest

import (
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// MultiResource returns log records spread over resources (accounts
// 000000000001, 000000000002, … in region) and scope logs (scope-0,
// scope-1, …), records per scope; fill sets record n (0, 1, … in order)
// of resource r and scope sc.
func MultiResource(resources, scopes, records int, region string, fill func(n, r, sc int, lr plog.LogRecord)) plog.Logs {
	ld := plog.NewLogs()
	n := 0
	for r := 0; r < resources; r++ {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr(ctattr.ResourceAccountID, fmt.Sprintf("%012d", r+1))
		rl.Resource().Attributes().PutStr(ctattr.ResourceRegion, region)
		for sc := 0; sc < scopes; sc++ {
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(fmt.Sprintf("scope-%d", sc))
			for i := 0; i < records; i++ {
				fill(n, r, sc, sl.LogRecords().AppendEmpty())
				n++
			}
		}
	}
	return ld
}
