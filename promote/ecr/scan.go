package ecr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// Scan statuses promote waits out; every other one is final.
var pending = map[types.ScanStatus]bool{types.ScanStatusInProgress: true, types.ScanStatusPending: true}

// ScanWait says how to poll a scan that is not finished.
type ScanWait struct {
	Interval time.Duration // between polls; default 5s
}

// ScanFindings returns the DescribeImageScanFindings result of digest in
// repo as ECR's JSON (every page merged), once the scan is finished: it
// polls while the status is IN_PROGRESS or PENDING, and for enhanced
// scanning (Amazon Inspector) until two reads in a row agree, since its
// findings keep arriving after the status turns ACTIVE. It stops at ctx's
// deadline with an error. An image ECR has no scan of answers with status
// NOT_FOUND. Judging the status is the caller's.
func (c *Client) ScanFindings(ctx context.Context, registryID, repo, digest string, w ScanWait) ([]byte, error) {
	if w.Interval <= 0 {
		w.Interval = 5 * time.Second
	}
	var prev string
	var last types.ScanStatus
	for {
		out, err := c.describeAll(ctx, registryID, repo, digest)
		var nf *types.ScanNotFoundException
		if errors.As(err, &nf) {
			return json.Marshal(notFound(registryID, repo, digest, aws.ToString(nf.Message)))
		}
		if err != nil && last != "" && ctx.Err() != nil {
			return nil, fmt.Errorf("ECR scan of %s@%s still %s when the wait ran out: %w", repo, digest, last, ctx.Err())
		}
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("encoding scan findings: %w", err)
		}
		status := types.ScanStatus("")
		if out.ImageScanStatus != nil {
			status = out.ImageScanStatus.Status
		}
		last = status
		enhanced := status == types.ScanStatusActive || (out.ImageScanFindings != nil && len(out.ImageScanFindings.EnhancedFindings) > 0)
		summary := summarise(out)
		switch {
		case pending[status]:
		case !enhanced:
			return raw, nil
		case summary == prev:
			return raw, nil
		}
		prev = summary
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ECR scan of %s@%s still %s when the wait ran out: %w", repo, digest, status, ctx.Err())
		case <-time.After(w.Interval):
		}
	}
}

// describeAll reads every page of the findings into one output.
func (c *Client) describeAll(ctx context.Context, registryID, repo, digest string) (*ecr.DescribeImageScanFindingsOutput, error) {
	in := &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String(repo), ImageId: &types.ImageIdentifier{ImageDigest: aws.String(digest)}}
	if registryID != "" {
		in.RegistryId = aws.String(registryID)
	}
	var all *ecr.DescribeImageScanFindingsOutput
	for {
		out, err := c.api.DescribeImageScanFindings(ctx, in)
		if err != nil {
			return nil, apiError("DescribeImageScanFindings", repo+"@"+digest, err)
		}
		if all == nil {
			all = out
		} else if out.ImageScanFindings != nil {
			if all.ImageScanFindings == nil {
				all.ImageScanFindings = &types.ImageScanFindings{}
			}
			all.ImageScanFindings.Findings = append(all.ImageScanFindings.Findings, out.ImageScanFindings.Findings...)
			all.ImageScanFindings.EnhancedFindings = append(all.ImageScanFindings.EnhancedFindings, out.ImageScanFindings.EnhancedFindings...)
		}
		if aws.ToString(out.NextToken) == "" {
			all.NextToken = nil
			return all, nil
		}
		in.NextToken = out.NextToken
	}
}

func summarise(out *ecr.DescribeImageScanFindingsOutput) string {
	if out.ImageScanFindings == nil {
		return ""
	}
	f := out.ImageScanFindings
	b, _ := json.Marshal(struct {
		N int
		E int
		C map[string]int32
	}{len(f.Findings), len(f.EnhancedFindings), f.FindingSeverityCounts})
	return string(b)
}

func notFound(registryID, repo, digest, msg string) map[string]any {
	return map[string]any{
		"registryId": registryID, "repositoryName": repo,
		"imageId":         map[string]string{"imageDigest": digest},
		"imageScanStatus": map[string]string{"status": "NOT_FOUND", "description": "no scan of this image: " + msg},
	}
}
