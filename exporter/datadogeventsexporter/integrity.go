package datadogeventsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// integrityEvent makes an integrity finding of the awscloudtrail receiver
// (a record with aws.cloudtrail.integrity.status) an error event with
// normal priority, titled by the record's first line ("CloudTrail
// integrity: log file modified in 111111111111 us-east-1"), tagged
// integrity_status:<status>, aggregated by its title. It reports false for
// other records.
func integrityEvent(lr plog.LogRecord, ev *event) bool {
	st, ok := lr.Attributes().Get(ctattr.AttrIntegrityStatus)
	if !ok || st.Str() == "" || st.Str() == "valid" {
		return false
	}
	msg := lr.Body().AsString()
	first, _, _ := strings.Cut(msg, "\n")
	ev.Title = cut(first, maxTitle)
	ev.Text = cut(msg, maxText)
	ev.Priority = ctattr.PriorityNormal
	ev.AlertType = "error"
	ev.Tags = append(ev.Tags, "integrity_status:"+st.Str())
	ev.AggregationKey = cut(first, maxAggKey)
	return true
}
