package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"bytes"
	"strconv"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

// metadata returns the Datadog reserved fields of an entry.
func (e *encoder) metadata(rec datadog.Record, res pcommon.Resource, lr plog.LogRecord) []field {
	source := e.ddsource
	if !rec.CloudTrail {
		source = "otel"
		if v, ok := lr.Attributes().Get("ddsource"); ok {
			source = v.AsString()
		}
	}
	host, service := rec.Hostname, rec.Service
	if host == "" {
		host = e.hostname
	}
	if rec.CloudTrail {
		// As the Forwarder: service cloudtrail, and a host only for the
		// calls of an instance role; the collector's host is not the host
		// of an AWS call.
		if !e.ct.UseCollectorHostname {
			host = ""
		}
		if e.ct.HostFromInstanceRole {
			if id := datadog.InstanceFromARN(rec.PrincipalARN); id != "" {
				host = id
			}
		}
		if !e.ct.ServiceFromAWSService || service == "" {
			service = e.ct.Service
		}
	}
	e.meta = e.meta[:0]
	e.metaStr("ddsource", source)
	if rec.CloudTrail {
		e.metaStr("ddsourcecategory", "aws")
	}
	if service != "" {
		e.metaStr("service", service)
	}
	if host != "" {
		e.metaStr("hostname", host)
	}
	e.tags = e.tags[:0]
	if !rec.CloudTrail {
		for _, t := range datadog.ResourceTags(res) {
			e.tags = append(append(e.tags, t...), ',')
		}
	}
	e.tags = bytes.TrimSuffix(rec.AppendTags(e.tags, e.extraTags), []byte(","))
	if len(e.tags) > 0 {
		e.metaStr("ddtags", unsafe.String(unsafe.SliceData(e.tags), len(e.tags)))
	}
	switch {
	case !rec.CloudTrail:
		if st := datadog.LogStatus(lr); st != "" {
			e.metaStr("status", st)
		}
	case e.ct.SetStatus:
		e.metaStr("status", datadog.Status(lr))
	}
	if !rec.Time.IsZero() {
		start := len(e.buf)
		e.buf = strconv.AppendInt(e.buf, rec.Time.UnixMilli(), 10)
		e.meta = append(e.meta, field{key: "timestamp", value: e.buf[start:len(e.buf):len(e.buf)]})
	}
	return e.meta
}

// metaStr adds a reserved field with a string value.
func (e *encoder) metaStr(key, v string) {
	start := len(e.buf)
	e.buf = datadog.AppendString(e.buf, v)
	e.meta = append(e.meta, field{key: key, value: e.buf[start:len(e.buf):len(e.buf)]})
}
