// Package soak is the seeded, randomized fault-injection test of the whole
// pipeline in process: the awscloudtrail receiver (polling or SQS) → a
// fan-out like the collector's → the datadoglogs and datadogevents
// exporters → the Datadog intake emulator, with S3 and intake faults,
// graceful stops and simulated crashes, and checks by eventID.
//
// `make test` runs a few scenarios (short); `make soak` runs scenarios for
// SOAK_DURATION. SOAK_SEED sets the first scenario's seed (the next ones
// take seed+1, seed+2…); a failing scenario prints the line that replays it.
package soak
