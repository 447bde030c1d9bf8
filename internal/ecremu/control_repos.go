package ecremu

import (
	"fmt"
	"regexp"
)

// Repository operations: CreateRepository, DescribeRepositories,
// PutImageTagMutability, GetLifecyclePolicy.

// RepositoryConfig is what CreateRepository sets (also the Go API's input).
type RepositoryConfig struct {
	Mutability string            // default MUTABLE
	Filters    []ExclusionFilter // with *_WITH_EXCLUSION
	ScanOnPush bool
	Encryption EncryptionConfiguration // default AES256
	Tags       []ResourceTag
}

type scanningConfig struct {
	ScanOnPush bool `json:"scanOnPush"`
}

type repositoryOut struct {
	RepositoryArn              string                  `json:"repositoryArn"`
	RegistryID                 string                  `json:"registryId"`
	RepositoryName             string                  `json:"repositoryName"`
	RepositoryURI              string                  `json:"repositoryUri"`
	CreatedAt                  *epochTime              `json:"createdAt,omitempty"`
	ImageTagMutability         string                  `json:"imageTagMutability"`
	ExclusionFilters           []ExclusionFilter       `json:"imageTagMutabilityExclusionFilters,omitempty"`
	ImageScanningConfiguration scanningConfig          `json:"imageScanningConfiguration"`
	EncryptionConfiguration    EncryptionConfiguration `json:"encryptionConfiguration"`
}

var repoNamePattern = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

func (s *Server) repoOut(reg *registry, repo *repository) repositoryOut {
	return repositoryOut{
		RepositoryArn:              repo.arn(s.opts.Region, reg.id),
		RegistryID:                 reg.id,
		RepositoryName:             repo.name,
		RepositoryURI:              registryHostName(reg.id, s.opts.Region) + "/" + repo.name,
		CreatedAt:                  epoch(repo.createdAt),
		ImageTagMutability:         repo.mutability,
		ExclusionFilters:           repo.filters,
		ImageScanningConfiguration: scanningConfig{ScanOnPush: repo.scanOnPush},
		EncryptionConfiguration:    repo.encryption,
	}
}

// createRepoLocked is CreateRepository's rules, shared with the Go API.
func (s *Server) createRepoLocked(reg *registry, name string, cfg RepositoryConfig) (*repository, *apiError) {
	if len(name) < 2 || len(name) > 256 || !repoNamePattern.MatchString(name) {
		return nil, invalidParam("Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''")
	}
	if cfg.Mutability == "" {
		cfg.Mutability = Mutable
	}
	if aerr := validateMutability(cfg.Mutability, cfg.Filters); aerr != nil {
		return nil, aerr
	}
	enc := cfg.Encryption
	switch enc.EncryptionType {
	case "":
		enc = EncryptionConfiguration{EncryptionType: "AES256"}
	case "AES256":
		if enc.KmsKey != "" {
			return nil, invalidParam("Invalid parameter at 'encryptionConfiguration' failed to satisfy constraint: 'kmsKey can only be specified when encryptionType is KMS or KMS_DSSE'")
		}
	case "KMS", "KMS_DSSE":
		if enc.KmsKey == "" {
			enc.KmsKey = "arn:aws:kms:" + s.opts.Region + ":" + reg.id + ":alias/aws/ecr"
		}
	default:
		return nil, validationErr(fmt.Sprintf("1 validation error detected: Value '%s' at 'encryptionConfiguration.encryptionType' failed to satisfy constraint: Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]", enc.EncryptionType))
	}
	if len(cfg.Tags) > 50 {
		return nil, awsError("TooManyTagsException", "Too many tags: the limit is 50")
	}
	for _, t := range cfg.Tags {
		if t.Key == "" {
			return nil, awsError("InvalidTagParameterException", "Tag keys must not be empty")
		}
	}
	if reg.repos[name] != nil {
		return nil, awsError("RepositoryAlreadyExistsException", fmt.Sprintf("The repository with name '%s' already exists in the registry with id '%s'", name, reg.id))
	}
	repo := newRepository(name, s.now())
	repo.mutability, repo.filters = cfg.Mutability, cfg.Filters
	repo.scanOnPush, repo.encryption, repo.tags = cfg.ScanOnPush, enc, cfg.Tags
	reg.repos[name] = repo
	return repo, nil
}

func (c *controlCall) createRepository(body []byte) (any, *apiError) {
	var in struct {
		RegistryID                 string                   `json:"registryId"`
		RepositoryName             string                   `json:"repositoryName"`
		Tags                       []ResourceTag            `json:"tags"`
		ImageTagMutability         string                   `json:"imageTagMutability"`
		ExclusionFilters           []ExclusionFilter        `json:"imageTagMutabilityExclusionFilters"`
		ImageScanningConfiguration *scanningConfig          `json:"imageScanningConfiguration"`
		EncryptionConfiguration    *EncryptionConfiguration `json:"encryptionConfiguration"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	reg, aerr := c.registryFor(in.RegistryID, in.RepositoryName)
	if aerr != nil {
		return nil, aerr
	}
	cfg := RepositoryConfig{Mutability: in.ImageTagMutability, Filters: in.ExclusionFilters, Tags: in.Tags}
	if in.ImageScanningConfiguration != nil {
		cfg.ScanOnPush = in.ImageScanningConfiguration.ScanOnPush
	}
	if in.EncryptionConfiguration != nil {
		cfg.Encryption = *in.EncryptionConfiguration
	}
	repo, aerr := c.s.createRepoLocked(reg, in.RepositoryName, cfg)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"repository": c.s.repoOut(reg, repo)}, nil
}

func (c *controlCall) describeRepositories(body []byte) (any, *apiError) {
	var in struct {
		RegistryID      string   `json:"registryId"`
		RepositoryNames []string `json:"repositoryNames"`
		NextToken       string   `json:"nextToken"`
		MaxResults      *int     `json:"maxResults"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	reg, aerr := c.registryFor(in.RegistryID, "*")
	if aerr != nil {
		return nil, aerr
	}
	out := []repositoryOut{}
	if len(in.RepositoryNames) > 0 {
		if in.MaxResults != nil || in.NextToken != "" {
			return nil, invalidParam("Invalid parameter: maxResults and nextToken cannot be used with repositoryNames")
		}
		for _, name := range in.RepositoryNames {
			repo := reg.repos[name]
			if repo == nil {
				return nil, repoNotFound(name, reg.id)
			}
			out = append(out, c.s.repoOut(reg, repo))
		}
		return map[string]any{"repositories": out}, nil
	}
	all := reg.sortedRepos()
	start, end, next, aerr := paginate(len(all), in.MaxResults, in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	for _, repo := range all[start:end] {
		out = append(out, c.s.repoOut(reg, repo))
	}
	resp := map[string]any{"repositories": out}
	if next != "" {
		resp["nextToken"] = next
	}
	return resp, nil
}

func (c *controlCall) putImageTagMutability(body []byte) (any, *apiError) {
	var in struct {
		RegistryID         string            `json:"registryId"`
		RepositoryName     string            `json:"repositoryName"`
		ImageTagMutability string            `json:"imageTagMutability"`
		ExclusionFilters   []ExclusionFilter `json:"imageTagMutabilityExclusionFilters"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	reg, repo, aerr := c.repoFor(in.RegistryID, in.RepositoryName)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := validateMutability(in.ImageTagMutability, in.ExclusionFilters); aerr != nil {
		return nil, aerr
	}
	repo.mutability, repo.filters = in.ImageTagMutability, in.ExclusionFilters
	return map[string]any{
		"registryId": reg.id, "repositoryName": repo.name, "imageTagMutability": repo.mutability,
		"imageTagMutabilityExclusionFilters": repo.filters,
	}, nil
}

func (c *controlCall) getLifecyclePolicy(body []byte) (any, *apiError) {
	var in struct {
		RegistryID     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	reg, repo, aerr := c.repoFor(in.RegistryID, in.RepositoryName)
	if aerr != nil {
		return nil, aerr
	}
	if repo.lifecycle == nil {
		return nil, awsError("LifecyclePolicyNotFoundException", fmt.Sprintf("Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", repo.name, reg.id))
	}
	return map[string]any{
		"registryId": reg.id, "repositoryName": repo.name,
		"lifecyclePolicyText": repo.lifecycle.text, "lastEvaluatedAt": epoch(repo.lifecycle.lastEvaluated),
	}, nil
}
