package ecr

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// Tag mutability settings of a repository (ECR's ImageTagMutability). With
// *_WITH_EXCLUSION, tags matching an exclusion filter take the opposite.
const (
	Mutable                = string(types.ImageTagMutabilityMutable)
	Immutable              = string(types.ImageTagMutabilityImmutable)
	ImmutableWithExclusion = string(types.ImageTagMutabilityImmutableWithExclusion)
	MutableWithExclusion   = string(types.ImageTagMutabilityMutableWithExclusion)
)

// ErrRepositoryExists is wrapped by CreateRepository's error when the
// repository is already there (someone created it since it was looked at).
var ErrRepositoryExists = errors.New("repository already exists")

// RepoInfo is what ECR says of one repository's settings.
type RepoInfo struct {
	Name          string `json:"name"`
	URI           string `json:"uri"`
	TagMutability string `json:"tagMutability"` // Mutable, Immutable, ImmutableWithExclusion or MutableWithExclusion
	// ExclusionFilters are the WILDCARD filter values ("sha256-*"); a filter
	// of another type is shown as TYPE:value.
	ExclusionFilters []string `json:"exclusionFilters,omitempty"`
	ScanOnPush       bool     `json:"scanOnPush"`
	Encryption       string   `json:"encryption"` // AES256, or KMS (or KMS_DSSE) and the key ARN
}

// ImmutableTags reports whether existing tags may not be overwritten, apart
// from those matching an exclusion filter.
func (r *RepoInfo) ImmutableTags() bool {
	return r.TagMutability == Immutable || r.TagMutability == ImmutableWithExclusion
}

// Overwritable reports whether an existing tag may be written again: true
// in a mutable setting, and for tags an exclusion filter lets move.
func (r *RepoInfo) Overwritable(tag string) bool {
	matched := false
	for _, f := range r.ExclusionFilters {
		// ECR's WILDCARD filters know only '*'; tags hold no '/', so path.Match is exact.
		if ok, _ := path.Match(f, tag); ok {
			matched = true
			break
		}
	}
	switch r.TagMutability {
	case Immutable:
		return false
	case ImmutableWithExclusion:
		return matched
	case MutableWithExclusion:
		return !matched
	}
	return true
}

// CreateOptions are the settings a new repository gets.
type CreateOptions struct {
	Mutability       string   // default Mutable
	ExclusionFilters []string // WILDCARD filter values; only with *_WITH_EXCLUSION
	ScanOnPush       bool
}

// DescribeRepository returns the settings of repository name in registryID
// ("" for the caller's account), or nil and no error when it does not exist.
func (c *Client) DescribeRepository(ctx context.Context, registryID, name string) (*RepoInfo, error) {
	in := &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}, RegistryId: optional(registryID)}
	out, err := c.api.DescribeRepositories(ctx, in)
	var nf *types.RepositoryNotFoundException
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, apiError("DescribeRepositories", "of repository "+name, err)
	}
	if len(out.Repositories) != 1 {
		return nil, fmt.Errorf("ecr DescribeRepositories of repository %s: %d repositories in the answer, expected 1", name, len(out.Repositories))
	}
	return repoInfo(out.Repositories[0]), nil
}

// CreateRepository creates repository name with o's settings and ECR's
// default encryption (AES256). An existing repository is an error wrapping
// ErrRepositoryExists.
func (c *Client) CreateRepository(ctx context.Context, registryID, name string, o CreateOptions) (*RepoInfo, error) {
	if o.Mutability == "" {
		o.Mutability = Mutable
	}
	if err := checkMutability(o.Mutability, o.ExclusionFilters); err != nil {
		return nil, fmt.Errorf("creating repository %s: %w", name, err)
	}
	out, err := c.api.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:                     aws.String(name),
		RegistryId:                         optional(registryID),
		ImageTagMutability:                 types.ImageTagMutability(o.Mutability),
		ImageTagMutabilityExclusionFilters: filters(o.ExclusionFilters),
		ImageScanningConfiguration:         &types.ImageScanningConfiguration{ScanOnPush: o.ScanOnPush},
	})
	var exists *types.RepositoryAlreadyExistsException
	if errors.As(err, &exists) {
		return nil, fmt.Errorf("ecr CreateRepository %s: %w: %w", name, ErrRepositoryExists, err)
	}
	if err != nil {
		return nil, apiError("CreateRepository", name, err)
	}
	if out.Repository == nil {
		return nil, fmt.Errorf("ecr CreateRepository %s: no repository in the answer", name)
	}
	return repoInfo(*out.Repository), nil
}

// SetTagMutability sets the tag mutability of repository name, replacing
// its exclusion filters with filters (WILDCARD values).
func (c *Client) SetTagMutability(ctx context.Context, registryID, name, mutability string, filterValues []string) error {
	if err := checkMutability(mutability, filterValues); err != nil {
		return fmt.Errorf("setting tag mutability of repository %s: %w", name, err)
	}
	_, err := c.api.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RepositoryName:                     aws.String(name),
		RegistryId:                         optional(registryID),
		ImageTagMutability:                 types.ImageTagMutability(mutability),
		ImageTagMutabilityExclusionFilters: filters(filterValues),
	})
	if err != nil {
		return apiError("PutImageTagMutability", name+" to "+mutability, err)
	}
	return nil
}

// LifecyclePolicy returns the lifecycle policy text (JSON) of repository
// name, or "" when it has none.
func (c *Client) LifecyclePolicy(ctx context.Context, registryID, name string) (string, error) {
	out, err := c.api.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(name), RegistryId: optional(registryID)})
	var none *types.LifecyclePolicyNotFoundException
	if errors.As(err, &none) {
		return "", nil
	}
	if err != nil {
		return "", apiError("GetLifecyclePolicy", "of repository "+name, err)
	}
	return aws.ToString(out.LifecyclePolicyText), nil
}

// checkMutability catches what ECR would refuse before the call is made.
func checkMutability(mode string, filterValues []string) error {
	switch mode {
	case Mutable, Immutable:
		if len(filterValues) > 0 {
			return fmt.Errorf("exclusion filters %q need %s or %s, not %s", filterValues, ImmutableWithExclusion, MutableWithExclusion, mode)
		}
	case ImmutableWithExclusion, MutableWithExclusion:
		if len(filterValues) == 0 || len(filterValues) > 5 {
			return fmt.Errorf("%s needs 1 to 5 exclusion filters, not %d", mode, len(filterValues))
		}
	default:
		return fmt.Errorf("unknown tag mutability %q; expected %s, %s, %s or %s", mode, Mutable, Immutable, ImmutableWithExclusion, MutableWithExclusion)
	}
	return nil
}

func filters(values []string) []types.ImageTagMutabilityExclusionFilter {
	if len(values) == 0 {
		return nil
	}
	out := make([]types.ImageTagMutabilityExclusionFilter, len(values))
	for i, v := range values {
		out[i] = types.ImageTagMutabilityExclusionFilter{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String(v)}
	}
	return out
}

func repoInfo(r types.Repository) *RepoInfo {
	info := &RepoInfo{Name: aws.ToString(r.RepositoryName), URI: aws.ToString(r.RepositoryUri), TagMutability: string(r.ImageTagMutability)}
	if info.TagMutability == "" {
		info.TagMutability = Mutable
	}
	for _, f := range r.ImageTagMutabilityExclusionFilters {
		v := aws.ToString(f.Filter)
		if f.FilterType != types.ImageTagMutabilityExclusionFilterTypeWildcard {
			v = string(f.FilterType) + ":" + v
		}
		info.ExclusionFilters = append(info.ExclusionFilters, v)
	}
	if r.ImageScanningConfiguration != nil {
		info.ScanOnPush = r.ImageScanningConfiguration.ScanOnPush
	}
	info.Encryption = string(types.EncryptionTypeAes256)
	if e := r.EncryptionConfiguration; e != nil && e.EncryptionType != "" {
		info.Encryption = string(e.EncryptionType)
		if k := aws.ToString(e.KmsKey); k != "" {
			info.Encryption += " " + k
		}
	}
	return info
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// Images lists every image of a repository: digest, tags and push time.
func (c *Client) Images(ctx context.Context, registryID, name string) ([]Image, error) {
	in := &ecr.DescribeImagesInput{RepositoryName: aws.String(name)}
	if registryID != "" {
		in.RegistryId = aws.String(registryID)
	}
	var out []Image
	p := ecr.NewDescribeImagesPaginator(c.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiError("DescribeImages", name, err)
		}
		for _, d := range page.ImageDetails {
			img := Image{Digest: aws.ToString(d.ImageDigest), Tags: d.ImageTags}
			if d.ImagePushedAt != nil {
				img.PushedAt = *d.ImagePushedAt
			}
			out = append(out, img)
		}
	}
	return out, nil
}
