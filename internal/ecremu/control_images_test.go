package ecremu_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
)

var allManifestTypes = []string{
	ecremu.MediaTypeDockerManifest, ecremu.MediaTypeDockerList, ecremu.MediaTypeOCIManifest, ecremu.MediaTypeOCIIndex,
}

func imageIDTag(tag string) ecrtypes.ImageIdentifier {
	return ecrtypes.ImageIdentifier{ImageTag: aws.String(tag)}
}
func imageIDDigest(d string) ecrtypes.ImageIdentifier {
	return ecrtypes.ImageIdentifier{ImageDigest: aws.String(d)}
}

func TestDescribeImages(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	ctx := context.Background()
	createRepo(t, client, testRepo, ecremu.Mutable)
	opts := remoteOpts(ecrKeychain(t, client))
	img := ociImage(t)
	require.NoError(t, remote.Write(ref(t, srv, acctA, testRepo+":v1"), img, opts...))
	require.NoError(t, remote.Write(ref(t, srv, acctA, testRepo+":v1-alias"), img, opts...))
	untagged := randomImage(t)
	require.NoError(t, remote.Write(ref(t, srv, acctA, testRepo+"@"+digestOf(t, untagged)), untagged, opts...))

	out, err := client.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(testRepo),
		ImageIds: []ecrtypes.ImageIdentifier{imageIDTag("v1"), imageIDDigest(digestOf(t, img))}})
	require.NoError(t, err)
	require.Len(t, out.ImageDetails, 1, "one detail per image")
	d := out.ImageDetails[0]
	assert.Equal(t, digestOf(t, img), aws.ToString(d.ImageDigest))
	assert.Equal(t, []string{"v1", "v1-alias"}, d.ImageTags)
	assert.Equal(t, ecremu.MediaTypeOCIManifest, aws.ToString(d.ImageManifestMediaType))
	assert.Equal(t, "application/vnd.oci.image.config.v1+json", aws.ToString(d.ArtifactMediaType))
	assert.Positive(t, aws.ToInt64(d.ImageSizeInBytes))
	assert.WithinDuration(t, time.Now(), aws.ToTime(d.ImagePushedAt), 5*time.Second)
	assert.Nil(t, d.ImageScanStatus, "no scan injected")

	_, err = client.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(testRepo),
		ImageIds: []ecrtypes.ImageIdentifier{imageIDTag("nope")}})
	var nf *ecrtypes.ImageNotFoundException
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "The image with imageId {imageDigest:'null', imageTag:'nope'} does not exist within the repository with name 'dev/app' in the registry with id '111111111111'", nf.ErrorMessage())

	for status, want := range map[ecrtypes.TagStatus]int{ecrtypes.TagStatusTagged: 1, ecrtypes.TagStatusUntagged: 1, ecrtypes.TagStatusAny: 2} {
		out, err = client.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(testRepo),
			Filter: &ecrtypes.DescribeImagesFilter{TagStatus: status}})
		require.NoError(t, err)
		assert.Len(t, out.ImageDetails, want, status)
	}
	pages := ecr.NewDescribeImagesPaginator(client, &ecr.DescribeImagesInput{RepositoryName: aws.String(testRepo), MaxResults: aws.Int32(1)})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		require.NoError(t, err)
		n += len(page.ImageDetails)
	}
	assert.Equal(t, 2, n)
}

func TestBatchGetImage(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	ctx := context.Background()
	createRepo(t, client, testRepo, ecremu.Mutable)
	opts := remoteOpts(ecrKeychain(t, client))
	img := randomImage(t)
	require.NoError(t, remote.Write(ref(t, srv, acctA, testRepo+":v1"), img, opts...))
	idx, err := random.Index(128, 1, 2)
	require.NoError(t, err)
	require.NoError(t, remote.WriteIndex(ref(t, srv, acctA, testRepo+":multi"), idx, opts...))
	other := digestOf(t, randomImage(t))

	out, err := client.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(testRepo),
		AcceptedMediaTypes: allManifestTypes,
		ImageIds: []ecrtypes.ImageIdentifier{imageIDTag("v1"), imageIDTag("multi"), imageIDTag("gone"),
			{ImageTag: aws.String("v1"), ImageDigest: aws.String(other)}}})
	require.NoError(t, err)
	require.Len(t, out.Images, 2)
	assert.Equal(t, string(rawManifest(t, img)), aws.ToString(out.Images[0].ImageManifest), "byte for byte")
	assert.Equal(t, digestOf(t, img), aws.ToString(out.Images[0].ImageId.ImageDigest))
	assert.Equal(t, "v1", aws.ToString(out.Images[0].ImageId.ImageTag))
	assert.Equal(t, ecremu.MediaTypeDockerManifest, aws.ToString(out.Images[0].ImageManifestMediaType))
	assert.Equal(t, string(rawManifest(t, idx)), aws.ToString(out.Images[1].ImageManifest))
	require.Len(t, out.Failures, 2)
	assert.Equal(t, ecrtypes.ImageFailureCodeImageNotFound, out.Failures[0].FailureCode)
	assert.Equal(t, ecrtypes.ImageFailureCodeImageTagDoesNotMatchDigest, out.Failures[1].FailureCode)

	out, err = client.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(testRepo),
		ImageIds: []ecrtypes.ImageIdentifier{imageIDTag("multi")}})
	require.NoError(t, err)
	require.Len(t, out.Failures, 1, "an index needs acceptedMediaTypes")
	assert.Equal(t, ecrtypes.ImageFailureCode("UnsupportedImageType"), out.Failures[0].FailureCode)

	_, err = client.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("no/repo"),
		ImageIds: []ecrtypes.ImageIdentifier{imageIDTag("v1")}})
	assert.Equal(t, "RepositoryNotFoundException", apiCode(err))
}

func TestPutImage(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	ctx := context.Background()
	createRepo(t, client, "dev/app", ecremu.Mutable)
	createRepo(t, client, "test/app", ecremu.Immutable)
	kc := ecrKeychain(t, client)
	opts := remoteOpts(kc)
	img := randomImage(t)
	manifest := string(rawManifest(t, img))
	for _, r := range []string{"dev/app", "test/app"} {
		require.NoError(t, remote.Write(ref(t, srv, acctA, r+":v1"), img, opts...))
	}
	put := func(repo, tag, digest string) error {
		in := &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest),
			ImageManifestMediaType: aws.String(ecremu.MediaTypeDockerManifest)}
		if tag != "" {
			in.ImageTag = aws.String(tag)
		}
		if digest != "" {
			in.ImageDigest = aws.String(digest)
		}
		_, err := client.PutImage(ctx, in)
		return err
	}

	out, err := client.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("dev/app"),
		ImageManifest: aws.String(manifest), ImageTag: aws.String("v2")})
	require.NoError(t, err)
	assert.Equal(t, digestOf(t, img), aws.ToString(out.Image.ImageId.ImageDigest))
	assert.Equal(t, ecremu.MediaTypeDockerManifest, aws.ToString(out.Image.ImageManifestMediaType), "from the manifest's mediaType")
	resp := do(t, kc, http.MethodHead, srv.URL+"/v2/dev/app/manifests/v2", nil, nil)
	assert.Equal(t, digestOf(t, img), resp.Header.Get("Docker-Content-Digest"), "same state as the data plane")

	var exists *ecrtypes.ImageAlreadyExistsException
	require.ErrorAs(t, put("dev/app", "v1", ""), &exists, "MUTABLE: same tag, same digest")
	var immutable *ecrtypes.ImageTagAlreadyExistsException
	require.ErrorAs(t, put("test/app", "v1", ""), &immutable, "IMMUTABLE: same tag, even same digest")
	assert.Contains(t, immutable.ErrorMessage(), "cannot be overwritten because the repository is immutable")
	assert.NoError(t, put("test/app", "v1.0.0", ""), "a new tag")
	var mismatch *ecrtypes.ImageDigestDoesNotMatchException
	require.ErrorAs(t, put("dev/app", "v3", digestOf(t, randomImage(t))), &mismatch)

	fresh := ecr.PutImageInput{RepositoryName: aws.String("dev/app"), ImageTag: aws.String("fresh"),
		ImageManifest: aws.String(string(rawManifest(t, randomImage(t))))}
	_, err = client.PutImage(ctx, &fresh)
	var layers *ecrtypes.LayersNotFoundException
	require.ErrorAs(t, err, &layers, "blobs must be in the repository")

	idx, err := random.Index(128, 1, 1)
	require.NoError(t, err)
	_, err = client.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("dev/app"), ImageTag: aws.String("idx"),
		ImageManifest: aws.String(string(rawManifest(t, idx))), ImageManifestMediaType: aws.String(ecremu.MediaTypeOCIIndex)})
	var refs *ecrtypes.ReferencedImagesNotFoundException
	require.ErrorAs(t, err, &refs, "an index's children must be in the repository")
}
