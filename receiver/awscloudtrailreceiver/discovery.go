package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"go.uber.org/zap"
)

// discoverTrails finds the trails to read with DescribeTrails in every
// discovery region (shadow trails included, de-duplicated by ARN), skips
// those that are not logging (GetTrailStatus, in the trail's home region),
// and resolves organization trails' IDs. ok is false when a region could
// not be asked: trails not seen then are kept, not dropped.
func (r *cloudtrailReceiver) discoverTrails(ctx context.Context) (sources []trailSource, ok bool) {
	regions := r.cfg.Discovery.Regions
	if len(regions) == 0 {
		regions = []string{r.cfg.Region}
	}
	ok = true
	trails := map[string]types.Trail{}
	for _, region := range regions {
		out, err := r.clients.cloudTrailFor(region).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
		if err != nil {
			if ctx.Err() != nil {
				return nil, false
			}
			ok = false
			r.logAWSError("DescribeTrails", "region "+region, "cloudtrail:DescribeTrails", err)
			continue
		}
		for _, t := range out.TrailList {
			arn := aws.ToString(t.TrailARN)
			if arn == "" || !r.wantTrail(t) {
				continue
			}
			trails[arn] = t
		}
	}
	arns := make([]string, 0, len(trails))
	for arn := range trails {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	for _, arn := range arns {
		t := trails[arn]
		fields := []zap.Field{zap.String("trail", arn), zap.String("bucket", aws.ToString(t.S3BucketName))}
		home := aws.ToString(t.HomeRegion)
		if home == "" {
			home = r.cfg.Region
		}
		status, err := r.clients.cloudTrailFor(home).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, false
			}
			// Not knowing whether it logs, read it: nothing is lost that way.
			r.logAWSError("GetTrailStatus", arn, "cloudtrail:GetTrailStatus", err)
		case !aws.ToBool(status.IsLogging) && !r.cfg.Discovery.IncludeInactive:
			r.logger.Info("Skipping a trail that is not logging (set discovery.include_inactive to read it)",
				append(fields, zap.String("latest_delivery_error", aws.ToString(status.LatestDeliveryError)))...)
			continue
		case aws.ToString(status.LatestDeliveryError) != "":
			r.logger.Warn("CloudTrail reports a delivery error for this trail: files may be missing from its bucket",
				append(fields, zap.String("latest_delivery_error", aws.ToString(status.LatestDeliveryError)))...)
		}
		src := trailSource{Bucket: aws.ToString(t.S3BucketName), Prefix: aws.ToString(t.S3KeyPrefix)}
		if aws.ToBool(t.IsOrganizationTrail) {
			src.OrganizationID = r.organizationID(ctx)
		}
		sources = append(sources, src)
	}
	return sources, ok
}

// wantTrail applies discovery.trail_names.
func (r *cloudtrailReceiver) wantTrail(t types.Trail) bool {
	names := r.cfg.Discovery.TrailNames
	return len(names) == 0 || slices.Contains(names, aws.ToString(t.Name)) || slices.Contains(names, aws.ToString(t.TrailARN))
}

// organizationID returns the organization's ID (DescribeOrganization). When
// the call is denied (a member account reading the organization trail's
// bucket), it returns "": the listing then reads every o-* folder found.
func (r *cloudtrailReceiver) organizationID(ctx context.Context) string {
	if r.orgID != nil {
		return *r.orgID
	}
	out, err := r.clients.organizationsClient().DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		var notInUse *orgtypes.AWSOrganizationsNotInUseException
		if !errors.As(err, &notInUse) {
			r.logAWSError("DescribeOrganization", "the organization", "organizations:DescribeOrganization", err)
			r.logger.Info("Reading every organization folder (AWSLogs/o-*) found in organization trail buckets instead")
		}
		return ""
	}
	id := aws.ToString(out.Organization.Id)
	r.orgID = &id
	return id
}

// logAWSError logs a failed AWS call once, naming the missing IAM action
// when it was denied.
func (r *cloudtrailReceiver) logAWSError(call, resource, action string, err error) {
	r.noteError(err)
	reason, _ := classifyS3Error(err)
	msg := call + " on " + resource + " failed; it is tried again at the next refresh"
	if reason == reasonAccessDenied {
		msg = denied(call, resource, action)
	}
	r.logger.Error(msg, zap.String("reason", reason), zap.Error(err))
}
