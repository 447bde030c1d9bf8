package ledger

// The bucket's settings, which decide how well the ledger resists tampering:
// versioning (Verify reports every overwritten and deleted record version)
// and Object Lock default retention (Check reports whether records are WORM).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

var _ Checker = (*s3Ledger)(nil)

// Check reports whether the bucket keeps records WORM: its versioning status
// (GetBucketVersioning) and Object Lock configuration with default retention
// (GetObjectLockConfiguration), with advice on what is missing. It reads the
// bucket's settings only and changes nothing.
func (l *s3Ledger) Check(ctx context.Context) (CheckReport, error) {
	rep := CheckReport{Location: l.String(), Advice: []string{}}
	var err error
	if rep.Versioning, err = l.versioning(ctx); err != nil {
		return CheckReport{}, fmt.Errorf("checking ledger %s: %w", l, err)
	}
	out, err := l.client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &l.bucket})
	var ae smithy.APIError
	switch {
	case err == nil:
		if c := out.ObjectLockConfiguration; c != nil {
			rep.ObjectLock = c.ObjectLockEnabled == types.ObjectLockEnabledEnabled
			if c.Rule != nil && c.Rule.DefaultRetention != nil {
				rep.RetentionMode = string(c.Rule.DefaultRetention.Mode)
				rep.RetentionDays = aws.ToInt32(c.Rule.DefaultRetention.Days)
				rep.RetentionYears = aws.ToInt32(c.Rule.DefaultRetention.Years)
			}
		}
	case errors.As(err, &ae) && ae.ErrorCode() == "ObjectLockConfigurationNotFoundError", notImplemented(err):
	default:
		return CheckReport{}, fmt.Errorf("checking ledger %s: reading Object Lock configuration of bucket %s: %w",
			l, l.bucket, classify(err))
	}
	rep.Advice = l.checkAdvice(rep)
	return rep, nil
}

// checkAdvice says what to change, with the AWS CLI command that does it.
func (l *s3Ledger) checkAdvice(rep CheckReport) []string {
	advice := []string{}
	if rep.Versioning != "Enabled" {
		advice = append(advice, fmt.Sprintf("enable versioning, so that an overwritten or deleted record stays as an older version "+
			"and `promote ledger verify` reports it: aws s3api put-bucket-versioning --bucket %s "+
			"--versioning-configuration Status=Enabled", l.bucket))
	}
	switch {
	case !rep.ObjectLock:
		advice = append(advice, fmt.Sprintf("enable Object Lock on bucket %s (aws s3api put-object-lock-configuration, "+
			"or create the bucket with --object-lock-enabled-for-bucket) with a default retention, so that no one can "+
			"delete or overwrite a record version before its retention ends", l.bucket))
	case rep.RetentionMode == "" || rep.RetentionDays == 0 && rep.RetentionYears == 0:
		advice = append(advice, fmt.Sprintf("set a default retention: aws s3api put-object-lock-configuration --bucket %s "+
			`--object-lock-configuration '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"COMPLIANCE","Years":7}}}'`, l.bucket))
	case rep.RetentionMode == string(types.ObjectLockRetentionModeGovernance):
		advice = append(advice, "default retention is GOVERNANCE: anyone with s3:BypassGovernanceRetention can still "+
			"delete record versions; use COMPLIANCE for an audit trail no one can rewrite")
	}
	return advice
}

// versioning returns the bucket's versioning status: "Enabled", "Suspended",
// or "" for a bucket that was never versioned (or a server without
// versioning, which answers NotImplemented).
func (l *s3Ledger) versioning(ctx context.Context) (string, error) {
	out, err := l.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &l.bucket})
	if notImplemented(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading versioning of bucket %s: %w", l.bucket, classify(err))
	}
	return string(out.Status), nil
}

// notImplemented reports whether err is a server saying it lacks a feature.
func notImplemented(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "NotImplemented" || ae.ErrorCode() == "VersioningNotConfigured") {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotImplemented
}

// versionProblems reports, on a bucket that is or was versioned, every
// delete marker under records/ (a record was deleted; its data remains as an
// older version) and every record key with more than one version (the record
// was overwritten: its first version is the original). Nothing on a bucket
// that never had versioning.
func (l *s3Ledger) versionProblems(ctx context.Context) ([]Problem, error) {
	status, err := l.versioning(ctx)
	if err != nil || status == "" {
		return nil, err
	}
	prefix := l.recordsPrefix("", "")
	versions := map[string][]string{} // key -> version ids, as listed (newest first)
	var probs []Problem
	p := s3.NewListObjectVersionsPaginator(l.client, &s3.ListObjectVersionsInput{Bucket: &l.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing versions under %s: %w", l.url(prefix), classify(err))
		}
		for _, m := range page.DeleteMarkers {
			key := aws.ToString(m.Key)
			probs = append(probs, l.keyProblem(key, fmt.Sprintf(
				"delete marker %s on %s: the record was deleted (its earlier versions remain in the bucket)",
				aws.ToString(m.VersionId), key)))
		}
		for _, v := range page.Versions {
			key := aws.ToString(v.Key)
			versions[key] = append(versions[key], aws.ToString(v.VersionId))
		}
	}
	keys := make([]string, 0, len(versions))
	for k := range versions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if ids := versions[key]; len(ids) > 1 {
			probs = append(probs, l.keyProblem(key, fmt.Sprintf(
				"%d versions of %s (%s): the record was overwritten; the oldest version is the original",
				len(ids), key, strings.Join(ids, ", "))))
		}
	}
	return probs, nil
}

// keyProblem is a problem with the object at key, placed in its chain.
func (l *s3Ledger) keyProblem(key, msg string) Problem {
	app, env, seq, _ := l.recordKeyParts(key)
	return Problem{App: app, Env: env, Seq: seq, Msg: msg}
}
