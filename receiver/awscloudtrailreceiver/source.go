package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

// source finds the objects to read and owns their progress: the poller
// (poll.go) lists the trails' folders, sqsSource (sqs.go) follows the
// notifications of an SQS queue. Each owns its state and goroutines and
// reads through the receiver's readerPool. The receiver starts it once and
// stops it in two steps, so that the work in progress can drain.
type source interface {
	// start starts the source's goroutines.
	start()
	// stop asks the source to take no new work. Polling: the reads in
	// flight stop after the batch in hand is accepted. SQS: the messages in
	// progress finish, so that no other collector reads their objects again.
	stop()
	// abort ends the work still in progress, once the drain is over.
	abort()
	// done is closed when every goroutine of the source has ended and its
	// state was written.
	done() <-chan struct{}
}
