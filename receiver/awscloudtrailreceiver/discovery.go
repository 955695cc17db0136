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
	"go.uber.org/zap/zapcore"
)

// discoverTrails finds the trails to read with DescribeTrails in every
// discovery region (shadow trails included, de-duplicated by ARN), skips
// those that are not logging (GetTrailStatus, in the trail's home region),
// and resolves organization trails' IDs. ok is false when a region could
// not be asked: trails not seen then are kept, not dropped.
func (t *trailFinder) discoverTrails(ctx context.Context) (sources []trailSource, ok bool) {
	regions := t.cfg.Discovery.Regions
	if len(regions) == 0 {
		regions = []string{t.cfg.Region}
	}
	ok = true
	trails := map[string]types.Trail{}
	for _, region := range regions {
		out, err := t.clients.cloudTrail.get(region).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
		if err != nil {
			if ctx.Err() != nil {
				return nil, false
			}
			ok = false
			t.logAWSError("DescribeTrails", "region "+region, "cloudtrail:DescribeTrails", "it is tried again at the next poll", err)
			continue
		}
		for _, trail := range out.TrailList {
			arn := aws.ToString(trail.TrailARN)
			if arn == "" || !t.wantTrail(trail) {
				continue
			}
			trails[arn] = trail
		}
	}
	arns := make([]string, 0, len(trails))
	for arn := range trails {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	for _, arn := range arns {
		trail := trails[arn]
		fields := []zap.Field{zap.String("trail", arn), zap.String("bucket", aws.ToString(trail.S3BucketName))}
		home := aws.ToString(trail.HomeRegion)
		if home == "" {
			home = t.cfg.Region
		}
		status, err := t.clients.cloudTrail.get(home).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, false
			}
			// Not knowing whether it logs, read it: nothing is lost that way.
			t.logAWSError("GetTrailStatus", arn, "cloudtrail:GetTrailStatus", "the trail is read; its status is asked again at the next refresh", err)
		case !aws.ToBool(status.IsLogging) && !t.cfg.Discovery.IncludeInactive:
			t.tel.logger.Info("Skipping a trail that is not logging (set discovery.include_inactive to read it)",
				append(fields, zap.String("latest_delivery_error", aws.ToString(status.LatestDeliveryError)))...)
			continue
		case aws.ToString(status.LatestDeliveryError) != "":
			t.tel.logger.Warn("CloudTrail reports a delivery error for this trail: files may be missing from its bucket",
				append(fields, zap.String("latest_delivery_error", aws.ToString(status.LatestDeliveryError)))...)
		}
		src := trailSource{Bucket: aws.ToString(trail.S3BucketName), Prefix: aws.ToString(trail.S3KeyPrefix)}
		if aws.ToBool(trail.IsOrganizationTrail) {
			src.OrganizationID = t.organizationID(ctx)
		}
		sources = append(sources, src)
	}
	return sources, ok
}

// wantTrail applies discovery.trail_names.
func (t *trailFinder) wantTrail(trail types.Trail) bool {
	names := t.cfg.Discovery.TrailNames
	return len(names) == 0 || slices.Contains(names, aws.ToString(trail.Name)) || slices.Contains(names, aws.ToString(trail.TrailARN))
}

// organizationID returns the organization's ID (DescribeOrganization). When
// the call is denied (a member account reading the organization trail's
// bucket), it returns "": the listing then reads every o-* folder found.
func (t *trailFinder) organizationID(ctx context.Context) string {
	if t.orgID != nil {
		return *t.orgID
	}
	out, err := t.clients.organizations().DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		var notInUse *orgtypes.AWSOrganizationsNotInUseException
		if !errors.As(err, &notInUse) {
			t.logAWSError("DescribeOrganization", "the organization", "organizations:DescribeOrganization", "it is asked again at the next refresh", err)
			t.tel.logger.Info("Reading every organization folder (AWSLogs/o-*) found in organization trail buckets instead")
		}
		return ""
	}
	id := aws.ToString(out.Organization.Id)
	t.orgID = &id
	return id
}

// logAWSError logs a failed discovery call with next, what happens then,
// and reports it to the component status at once (status.go: failAtOnce).
func (t *trailFinder) logAWSError(call, resource, action, next string, err error) {
	t.tel.failNow(err)
	logAWSError(t.tel.logger, zapcore.ErrorLevel, awsCall{call, resource, action, next}, err)
}
