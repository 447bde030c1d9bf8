package ecremu_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
)

func TestImmutableRefusesSameDigestRepush(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	createRepo(t, client, "test/app", ecremu.Immutable)
	kc := ecrKeychain(t, client)
	opts := remoteOpts(kc)
	img := randomImage(t)

	require.NoError(t, remote.Write(ref(t, srv, acctA, "test/app:1.0.0"), img, opts...))
	require.NoError(t, remote.Write(ref(t, srv, acctA, "test/app:1.0.0"), img, opts...),
		"go-containerregistry looks before it writes: same digest under the tag, no PUT")
	assert.Equal(t, 1, srv.Count("PutImage"))

	err := remote.Write(ref(t, srv, acctA, "test/app:1.0.0"), randomImage(t), opts...)
	status, code, msg := registryError(t, err)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "TAG_INVALID", code)
	assert.Equal(t, "The image tag '1.0.0' already exists in the 'test/app' repository and cannot be overwritten because the repository is immutable.", msg)

	// The same digest, PUT again under the same tag: ECR refuses it too.
	resp := do(t, kc, http.MethodPut, srv.URL+"/v2/test/app/manifests/1.0.0", rawManifest(t, img),
		map[string]string{"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.JSONEq(t, `{"errors":[{"code":"TAG_INVALID","message":"The image tag '1.0.0' already exists in the 'test/app' repository and cannot be overwritten because the repository is immutable."}]}`, readAll(t, resp))

	require.NoError(t, remote.Write(ref(t, srv, acctA, "test/app@"+digestOf(t, img)), img, opts...), "a push by digest is always accepted")
	require.NoError(t, remote.Write(ref(t, srv, acctA, "test/app:another"), img, opts...), "a new tag is fine")
	tags, err := srv.Default().Tags("test/app")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"1.0.0": digestOf(t, img), "another": digestOf(t, img)}, tags)
}

func TestMutableAcceptsRepush(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	createRepo(t, client, testRepo, ecremu.Mutable)
	opts := remoteOpts(ecrKeychain(t, client))
	img, other := randomImage(t), randomImage(t)
	r := ref(t, srv, acctA, testRepo+":latest")
	require.NoError(t, remote.Write(r, img, opts...))
	require.NoError(t, remote.Write(r, img, opts...), "same digest again")
	require.NoError(t, remote.Write(r, other, opts...), "the tag moves")
	tags, err := srv.Default().Tags(testRepo)
	require.NoError(t, err)
	assert.Equal(t, digestOf(t, other), tags["latest"])
}

func TestExclusionFilters(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	createRepo(t, client, "test/app", ecremu.ImmutableWithExclusion, "sha256-*", "current")
	createRepo(t, client, "dev/app", ecremu.MutableWithExclusion, "v*")
	opts := remoteOpts(ecrKeychain(t, client))
	a, b := randomImage(t), randomImage(t)

	for _, tc := range []struct {
		tag     string
		mutable bool
	}{
		{"test/app:sha256-0123.sig", true},
		{"test/app:current", true},
		{"test/app:1.0.0", false},
		{"dev/app:v1", false},
		{"dev/app:main", true},
	} {
		require.NoError(t, remote.Write(ref(t, srv, acctA, tc.tag), a, opts...), tc.tag)
		err := remote.Write(ref(t, srv, acctA, tc.tag), b, opts...)
		if tc.mutable {
			assert.NoError(t, err, tc.tag)
			continue
		}
		_, code, _ := registryError(t, err)
		assert.Equal(t, "TAG_INVALID", code, tc.tag)
	}

	_, err := client.PutImageTagMutability(context.Background(), &ecr.PutImageTagMutabilityInput{
		RepositoryName: aws.String("dev/app"), ImageTagMutability: ecrtypes.ImageTagMutabilityMutable})
	require.NoError(t, err)
	assert.NoError(t, remote.Write(ref(t, srv, acctA, "dev/app:v1"), b, opts...), "mutable now")
}
