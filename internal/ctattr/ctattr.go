// Package ctattr names the attributes and values of the log records that
// the awscloudtrail receiver emits: the data contract that the exporters
// and users' processors rely on.
package ctattr

// Attribute names of the data contract.
const (
	AttrEventVersion        = "aws.cloudtrail.event_version"
	AttrEventID             = "aws.cloudtrail.event_id"
	AttrAPIVersion          = "aws.cloudtrail.api_version"
	AttrRPCMethod           = "rpc.method"
	AttrRPCSystem           = "rpc.system"
	AttrRPCService          = "rpc.service"
	AttrRequestID           = "aws.request_id"
	AttrEventCategory       = "aws.event.category"
	AttrReadOnly            = "aws.event.read_only"
	AttrManagement          = "aws.event.management"
	AttrSourceAddress       = "source.address"
	AttrUserAgent           = "user_agent.original"
	AttrSessionConsole      = "aws.session.console"
	AttrTLSVersion          = "tls.protocol.version"
	AttrTLSCipher           = "tls.cipher"
	AttrServerAddress       = "server.address"
	AttrErrorCode           = "aws.error.code"
	AttrErrorMessage        = "aws.error.message"
	AttrSharedEventID       = "aws.shared_event_id"
	AttrRequestParameters   = "aws.request.parameters"
	AttrResponseElements    = "aws.response.elements"
	AttrAdditionalEventData = "aws.cloudtrail.additional_event_data"
	AttrResources           = "aws.resources"
	AttrInsightDetails      = "aws.insight_details"
	AttrUserID              = "user.id"
	AttrUserName            = "user.name"
	AttrIdentityAccountID   = "aws.user_identity.account_id"
	AttrInvokedBy           = "aws.user_identity.invoked_by"
	AttrAccessKeyID         = "aws.access_key.id"
	AttrIdentityStoreARN    = "aws.identity_store.arn"
	AttrPrincipalID         = "aws.principal.id"
	AttrPrincipalARN        = "aws.principal.arn"
	AttrPrincipalType       = "aws.principal.type"
	AttrSessionMFA          = "aws.user_identity.session_context.attributes.mfa_authenticated"
	AttrSessionCreationDate = "aws.user_identity.session_context.attributes.creation_date"
	AttrIssuerType          = "aws.user_identity.session_context.issuer.type"
	AttrIssuerPrincipalID   = "aws.user_identity.session_context.issuer.principal_id"
	AttrIssuerARN           = "aws.user_identity.session_context.issuer.arn"
	AttrIssuerAccountID     = "aws.user_identity.session_context.issuer.account_id"
	AttrIssuerUserName      = "aws.user_identity.session_context.issuer.user_name"

	AttrPriority = "aws.cloudtrail.priority"
	AttrService  = "aws.cloudtrail.service"
	AttrS3Bucket = "aws.s3.bucket"
	AttrS3Key    = "aws.s3.key"

	ResourceCloudProvider = "cloud.provider"
	ResourceAccountID     = "cloud.account.id"
	ResourceRegion        = "cloud.region"
)

// Priorities a record can have.
const (
	PriorityNormal = "normal"
	PriorityLow    = "low"
)

// IsContract reports whether name is an attribute the receiver sets (as
// opposed to one added later, by a processor). It is a switch, not a map
// lookup: the exporters ask it for every attribute of every record.
func IsContract(name string) bool {
	switch name {
	case AttrEventVersion, AttrEventID, AttrAPIVersion, AttrRPCMethod, AttrRPCSystem, AttrRPCService,
		AttrRequestID, AttrEventCategory, AttrReadOnly, AttrManagement, AttrSourceAddress, AttrUserAgent,
		AttrSessionConsole, AttrTLSVersion, AttrTLSCipher, AttrServerAddress, AttrErrorCode, AttrErrorMessage,
		AttrSharedEventID, AttrRequestParameters, AttrResponseElements, AttrAdditionalEventData, AttrResources,
		AttrInsightDetails, AttrUserID, AttrUserName, AttrIdentityAccountID, AttrInvokedBy, AttrAccessKeyID,
		AttrIdentityStoreARN, AttrPrincipalID, AttrPrincipalARN, AttrPrincipalType, AttrSessionMFA,
		AttrSessionCreationDate, AttrIssuerType, AttrIssuerPrincipalID, AttrIssuerARN, AttrIssuerAccountID,
		AttrIssuerUserName, AttrPriority, AttrService, AttrS3Bucket, AttrS3Key:
		return true
	}
	return false
}

// DefaultNormalServices is the Datadog CloudTrail integration's list of
// services whose events have normal priority.
var DefaultNormalServices = []string{
	"apigateway", "autoscaling", "cloudformation", "cloudfront", "cloudsearch", "cloudtrail",
	"codedeploy", "codepipeline", "config", "datapipeline", "ds", "ec2", "ecs", "elasticache",
	"elasticbeanstalk", "elasticfilesystem", "elasticloadbalancing", "elasticmapreduce", "iam",
	"kinesis", "lambda", "monitoring", "opsworks", "rds", "redshift", "route53", "s3", "ses",
	"signin", "ssm",
}
