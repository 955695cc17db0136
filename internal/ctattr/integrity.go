package ctattr

// Attributes of the integrity findings of the awscloudtrail receiver (one
// log record per finding; see the receiver's README, "Integrity").
const (
	// AttrIntegrityStatus is the finding: modified, missing, unsigned,
	// bad_signature or chain_broken.
	AttrIntegrityStatus = "aws.cloudtrail.integrity.status"
	// AttrIntegrityDigestKey is the S3 key of the digest file concerned.
	AttrIntegrityDigestKey = "aws.cloudtrail.integrity.digest_key"
	// AttrIntegrityStart and AttrIntegrityEnd are the digest's time range (RFC 3339).
	AttrIntegrityStart = "aws.cloudtrail.integrity.start_time"
	AttrIntegrityEnd   = "aws.cloudtrail.integrity.end_time"
	// AttrIntegrityReason explains the finding.
	AttrIntegrityReason = "aws.cloudtrail.integrity.reason"
)
