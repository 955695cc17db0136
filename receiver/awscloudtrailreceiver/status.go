package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import "go.opentelemetry.io/collector/component/componentstatus"

// Component status and health.
//
// errorOnEntry: a recoverable error is reported once, when the receiver
// enters the error state, not again at each failing poll. The collector
// stamps every report with the time it is made, and health_check
// (component_health.recovery_duration) turns unhealthy only when a
// recoverable error is older than recovery_duration: reported again every
// poll, an error that never ends would stay "recovering" for ever.
//
// failAtOnce: a failure of discovery (DescribeTrails, GetTrailStatus,
// DescribeOrganization) or of an S3 listing (ListObjectsV2: a bucket
// missing or denied from the start) enters the error state when it
// happens (failNow),
// not at the end of the poll interval: otherwise health stays good for a
// whole poll interval (or longer) while DescribeTrails is denied. OK is
// still reported only at the end of a clean poll interval, so that an
// outage is one error, whose age recovery_duration can measure.
//
// incompleteRefresh: a folder refresh that could not list every trail (or
// discovery failed) does not count as done (poller.refresh reports false),
// so the next poll tries again instead of waiting refresh_interval (15
// minutes by default) while a bucket is missing or access to it is denied.

// failNow records err as a failure of the current poll (noteError) and,
// when the receiver is not in the error state yet, enters it and reports
// err at once (failAtOnce). The poll's reportStatus then keeps the state.
func (t *telemetry) failNow(err error) {
	t.statusMu.Lock()
	if t.pollErr == nil {
		t.pollErr = err
	}
	enter := !t.inErrState
	t.inErrState = true
	t.statusMu.Unlock()
	if enter {
		componentstatus.ReportStatus(t.host, componentstatus.NewRecoverableErrorEvent(err))
	}
}
