// Package datadogeventsexporter turns log records into Datadog events (v1
// Events API) with priority normal or low. CloudTrail records of the
// awscloudtrail receiver become events such as
// "ec2 TerminateInstances by alice (123456789012)".
package datadogeventsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"

//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
