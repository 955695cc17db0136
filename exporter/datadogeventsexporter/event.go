package datadogeventsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// Limits of the v1 Events API.
const (
	maxTitle  = 100
	maxText   = 4000
	maxAggKey = 100
)

// event is the body of POST /api/v1/events.
type event struct {
	Title          string   `json:"title"`
	Text           string   `json:"text"`
	DateHappened   int64    `json:"date_happened,omitempty"`
	Priority       string   `json:"priority"`
	Host           string   `json:"host,omitempty"`
	Tags           []string `json:"tags,omitempty"`
	AlertType      string   `json:"alert_type"`
	AggregationKey string   `json:"aggregation_key,omitempty"`
	SourceTypeName string   `json:"source_type_name,omitempty"`
}

// buildEvent makes the event of a record.
func buildEvent(rec datadog.Record, res pcommon.Resource, lr plog.LogRecord, cfg *Config) event {
	ev := event{
		Priority:       rec.Priority,
		Host:           rec.Hostname,
		Tags:           append([]string{"cloudtrail"}, rec.Tags(cfg.ExtraTags)...),
		SourceTypeName: cfg.SourceTypeName,
		AlertType:      "info",
	}
	if ev.Priority != ctattr.PriorityNormal {
		ev.Priority = ctattr.PriorityLow
	}
	if !rec.Time.IsZero() {
		ev.DateHappened = rec.Time.Unix()
	}
	if integrityEvent(lr, &ev) {
		return ev
	}
	if !rec.CloudTrail {
		ev.Tags = ev.Tags[1:]
		msg := lr.Body().AsString()
		first, _, _ := strings.Cut(msg, "\n")
		ev.Title = cut(first, maxTitle)
		if ev.Title == "" {
			ev.Title = "Log record"
		}
		ev.Text = cut(msg, maxText)
		if ev.Text == "" {
			ev.Text = ev.Title
		}
		switch datadog.Status(lr) {
		case "error", "critical":
			ev.AlertType = "error"
		case "warn":
			ev.AlertType = "warning"
		}
		return ev
	}
	// The instance of an instance-role session, as the logs' host.
	if id := datadog.InstanceFromARN(rec.PrincipalARN); id != "" {
		ev.Host = id
	}
	switch {
	case rec.ErrorCode != "":
		ev.AlertType = "error"
	case rec.ErrorMsg != "":
		ev.AlertType = "warning"
	}
	if rec.InsightType != "" {
		ev.AlertType = "warning"
		ev.Title = cut(fmt.Sprintf("CloudTrail Insight %s: %s %s %s (%s)", rec.InsightState, rec.Service, rec.EventName, rec.InsightType, rec.Account), maxTitle)
		ev.AggregationKey = cut("insight:"+rec.Service+":"+rec.EventName, maxAggKey)
		ev.Text = insightText(rec)
		return ev
	}
	ev.Title = cut(fmt.Sprintf("%s %s by %s (%s)", rec.Service, rec.EventName, rec.Actor(), rec.Account), maxTitle)
	ev.AggregationKey = cut(rec.Service+":"+rec.EventName, maxAggKey)
	// The record's fields, whatever the receiver's body mode.
	ev.Text = eventText(rec, datadog.RecordMap(res, lr))
	return ev
}

// eventText writes the markdown text of a CloudTrail event: who, what,
// where, the error, and as much of the request parameters as fits.
func eventText(rec datadog.Record, record pcommon.Map) string {
	var b strings.Builder
	b.WriteString("%%% \n")
	fmt.Fprintf(&b, "**%s** called **%s** on `%s` in account **%s**, region **%s**.\n\n", md(rec.Actor()), md(rec.EventName), md(rec.EventSource), md(rec.Account), md(rec.Region))
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, md(cut(v, 300)))
		}
	}
	row("Principal", strings.TrimSpace(rec.PrincipalARN+" "+paren(rec.PrincipalType)))
	row("Invoked by", rec.InvokedBy)
	row("Source IP", rec.SourceAddress)
	row("User agent", rec.UserAgent)
	row("Event ID", rec.EventID)
	if rec.Bucket != "" {
		row("Log file", "s3://"+rec.Bucket+"/"+rec.Key)
	}
	switch {
	case rec.ErrorCode != "":
		fmt.Fprintf(&b, "\n**Error** `%s`: %s\n", md(rec.ErrorCode), md(cut(rec.ErrorMsg, 500)))
	case rec.ErrorMsg != "":
		fmt.Fprintf(&b, "\n**Error**: %s\n", md(cut(rec.ErrorMsg, 500)))
	}
	const closing = "\n %%%"
	if params, ok := record.Get("requestParameters"); ok && params.Type() == pcommon.ValueTypeMap && params.Map().Len() > 0 {
		head := "\n**Request parameters**\n```json\n"
		tail := "\n```\n"
		room := maxText - utf8.RuneCountInString(b.String()) - len(head) - len(tail) - len(closing)
		if room > 40 {
			b.WriteString(head)
			b.WriteString(cut(string(datadog.AppendValue(nil, params)), room))
			b.WriteString(tail)
		}
	}
	return cut(b.String(), maxText-len(closing)) + closing
}

// insightText describes a CloudTrail Insight: unusual API call volume or
// error rate of one call.
func insightText(rec datadog.Record) string {
	var b strings.Builder
	b.WriteString("%%% \n")
	fmt.Fprintf(&b, "CloudTrail Insight **%s** (%s) for **%s** on `%s` in account **%s**, region **%s**.\n\n",
		md(rec.InsightType), md(rec.InsightState), md(rec.EventName), md(rec.EventSource), md(rec.Account), md(rec.Region))
	fmt.Fprintf(&b, "| | |\n|---|---|\n| Event ID | %s |\n", md(rec.EventID))
	if rec.Bucket != "" {
		fmt.Fprintf(&b, "| Log file | %s |\n", md(cut("s3://"+rec.Bucket+"/"+rec.Key, 300)))
	}
	return cut(b.String(), maxText-4) + "\n %%%"
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// md keeps table cells and inline text from breaking the markdown.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

// cut shortens s to at most n characters, ending with "…" when cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
