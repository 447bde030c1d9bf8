package ecremu_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
)

// pushed starts an emulator with one image in testRepo under tag v1.
func pushed(t *testing.T) (*ecremu.Server, *ecr.Client, string) {
	t.Helper()
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	createRepo(t, client, testRepo, ecremu.Immutable)
	img := randomImage(t)
	require.NoError(t, remote.Write(ref(t, srv, acctA, testRepo+":v1"), img, remoteOpts(ecrKeychain(t, client))...))
	return srv, client, digestOf(t, img)
}

func findingsInput(id ecrtypes.ImageIdentifier) *ecr.DescribeImageScanFindingsInput {
	return &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String(testRepo), ImageId: &id}
}

func TestScanFindingsBasic(t *testing.T) {
	srv, client, digest := pushed(t)
	ctx := context.Background()

	_, err := client.DescribeImageScanFindings(ctx, findingsInput(imageIDTag("v1")))
	var nf *ecrtypes.ScanNotFoundException
	require.ErrorAs(t, err, &nf, "no scan injected")
	_, err = client.DescribeImageScanFindings(ctx, findingsInput(imageIDTag("nope")))
	assert.Equal(t, "ImageNotFoundException", apiCode(err))

	completed := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	require.NoError(t, srv.Default().SetScan(testRepo, digest, ecremu.Scan{
		Sequence:    []string{"IN_PROGRESS", "IN_PROGRESS"},
		CompletedAt: completed,
		Findings: []ecremu.Finding{
			{Name: "CVE-2026-0001", Severity: "HIGH", URI: "https://security-tracker.debian.org/tracker/CVE-2026-0001",
				Attributes: []ecremu.Attribute{{Key: "package_name", Value: "openssl"}, {Key: "package_version", Value: "3.0.1"}}},
			{Name: "CVE-2026-0002", Severity: "LOW"},
			{Name: "CVE-2026-0003", Severity: "HIGH"},
		},
	}))

	desc, err := client.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(testRepo),
		ImageIds: []ecrtypes.ImageIdentifier{imageIDTag("v1")}})
	require.NoError(t, err)
	assert.Equal(t, ecrtypes.ScanStatusInProgress, desc.ImageDetails[0].ImageScanStatus.Status, "DescribeImages peeks")

	for range 2 {
		out, err := client.DescribeImageScanFindings(ctx, findingsInput(imageIDTag("v1")))
		require.NoError(t, err)
		assert.Equal(t, ecrtypes.ScanStatusInProgress, out.ImageScanStatus.Status)
		assert.Nil(t, out.ImageScanFindings)
	}
	waiter := ecr.NewImageScanCompleteWaiter(client, func(o *ecr.ImageScanCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	out, err := waiter.WaitForOutput(ctx, findingsInput(imageIDDigest(digest)), 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, ecrtypes.ScanStatusComplete, out.ImageScanStatus.Status)
	assert.Equal(t, "The scan was completed successfully.", aws.ToString(out.ImageScanStatus.Description))
	f := out.ImageScanFindings
	require.Len(t, f.Findings, 3)
	assert.Equal(t, map[string]int32{"HIGH": 2, "LOW": 1}, f.FindingSeverityCounts)
	assert.Equal(t, ecrtypes.FindingSeverityHigh, f.Findings[0].Severity)
	assert.Equal(t, "openssl", aws.ToString(f.Findings[0].Attributes[0].Value))
	assert.True(t, completed.Equal(aws.ToTime(f.ImageScanCompletedAt)))
	assert.Equal(t, digest, aws.ToString(out.ImageId.ImageDigest))

	desc, err = client.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(testRepo),
		ImageIds: []ecrtypes.ImageIdentifier{imageIDTag("v1")}})
	require.NoError(t, err)
	assert.Equal(t, ecrtypes.ScanStatusComplete, desc.ImageDetails[0].ImageScanStatus.Status)
	assert.Equal(t, map[string]int32{"HIGH": 2, "LOW": 1}, desc.ImageDetails[0].ImageScanFindingsSummary.FindingSeverityCounts)

	pages := ecr.NewDescribeImageScanFindingsPaginator(client, findingsInput(imageIDTag("v1")),
		func(o *ecr.DescribeImageScanFindingsPaginatorOptions) { o.Limit = 2 })
	var names []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		require.NoError(t, err)
		for _, f := range page.ImageScanFindings.Findings {
			names = append(names, aws.ToString(f.Name))
		}
	}
	assert.Equal(t, []string{"CVE-2026-0001", "CVE-2026-0002", "CVE-2026-0003"}, names)
}

func TestScanFailedStopsWaiter(t *testing.T) {
	srv, client, digest := pushed(t)
	require.NoError(t, srv.Default().SetScan(testRepo, digest, ecremu.Scan{Sequence: []string{"IN_PROGRESS"}, Status: "FAILED"}))
	waiter := ecr.NewImageScanCompleteWaiter(client, func(o *ecr.ImageScanCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	err := waiter.Wait(context.Background(), findingsInput(imageIDTag("v1")), 5*time.Second)
	assert.ErrorContains(t, err, "waiter state transitioned to Failure")
}

func TestScanFindingsEnhanced(t *testing.T) {
	srv, client, digest := pushed(t)
	require.NoError(t, srv.Default().SetScan(testRepo, digest, ecremu.Scan{
		Enhanced: true,
		EnhancedFindings: []ecremu.EnhancedFinding{{
			Title: "CVE-2026-1234 - libxml2", Severity: "CRITICAL", Score: 9.8, Status: "ACTIVE", Type: "PACKAGE_VULNERABILITY",
			FixAvailable: "YES", FirstObservedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			PackageVulnerabilityDetails: &ecremu.PackageVulnerabilityDetails{
				VulnerabilityID: "CVE-2026-1234", Source: "NVD",
				VulnerablePackages: []ecremu.VulnerablePackage{{Name: "libxml2", Version: "2.9.1", FixedInVersion: "2.9.14"}},
			},
		}},
	}))
	out, err := client.DescribeImageScanFindings(context.Background(), findingsInput(imageIDDigest(digest)))
	require.NoError(t, err)
	assert.Equal(t, ecrtypes.ScanStatusActive, out.ImageScanStatus.Status)
	assert.Equal(t, "Continuous scan is selected for image.", aws.ToString(out.ImageScanStatus.Description))
	require.Len(t, out.ImageScanFindings.EnhancedFindings, 1)
	assert.Empty(t, out.ImageScanFindings.Findings)
	e := out.ImageScanFindings.EnhancedFindings[0]
	assert.Equal(t, "CRITICAL", aws.ToString(e.Severity))
	assert.InDelta(t, 9.8, e.Score, 0.001)
	assert.Equal(t, "CVE-2026-1234", aws.ToString(e.PackageVulnerabilityDetails.VulnerabilityId))
	assert.Equal(t, "2.9.14", aws.ToString(e.PackageVulnerabilityDetails.VulnerablePackages[0].FixedInVersion))
	assert.Equal(t, "YES", aws.ToString(e.FixAvailable))
	assert.True(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Equal(aws.ToTime(e.FirstObservedAt)))
	assert.Equal(t, map[string]int32{"CRITICAL": 1}, out.ImageScanFindings.FindingSeverityCounts)
}
