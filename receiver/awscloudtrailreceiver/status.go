package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

// Component status and health.
//
// errorOnEntry: a recoverable error is reported once, when the receiver
// enters the error state, not again at each failing poll. The collector
// stamps every report with the time it is made, and health_check
// (component_health.recovery_duration) turns unhealthy only when a
// recoverable error is older than recovery_duration: reported again every
// poll, an error that never ends would stay "recovering" for ever.
//
// incompleteRefresh: a folder refresh that could not list every trail (or
// discovery failed) does not count as done (poller.refresh reports false),
// so the next poll tries again instead of waiting refresh_interval (15
// minutes by default) while a bucket is missing or access to it is denied.
