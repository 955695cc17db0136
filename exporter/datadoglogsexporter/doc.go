// Package datadoglogsexporter sends log records to the Datadog logs intake
// (POST /api/v2/logs). CloudTrail records of the awscloudtrail receiver are
// sent as Datadog's own Forwarder sends them, so Datadog's CloudTrail log
// pipeline, facets and Cloud SIEM rules apply unchanged.
package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
