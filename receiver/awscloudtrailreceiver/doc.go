// Package awscloudtrailreceiver reads AWS CloudTrail log files from S3
// buckets and emits every CloudTrail record as an OpenTelemetry log record.
package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
