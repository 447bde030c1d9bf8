package ecremu

import (
	"fmt"
	"slices"
)

// Image operations: DescribeImages, BatchGetImage, PutImage.

type imageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

func (id imageID) String() string {
	d, t := id.ImageDigest, id.ImageTag
	if d == "" {
		d = "null"
	}
	if t == "" {
		t = "null"
	}
	return fmt.Sprintf("{imageDigest:'%s', imageTag:'%s'}", d, t)
}

func imageNotFound(id imageID, repo, registry string) *apiError {
	return awsError("ImageNotFoundException", fmt.Sprintf("The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'", id, repo, registry))
}

type imageDetail struct {
	RegistryID             string           `json:"registryId"`
	RepositoryName         string           `json:"repositoryName"`
	ImageDigest            string           `json:"imageDigest"`
	ImageTags              []string         `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64            `json:"imageSizeInBytes"`
	ImagePushedAt          *epochTime       `json:"imagePushedAt,omitempty"`
	ImageScanStatus        *scanStatusOut   `json:"imageScanStatus,omitempty"`
	ScanFindingsSummary    *findingsSummary `json:"imageScanFindingsSummary,omitempty"`
	ImageManifestMediaType string           `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string           `json:"artifactMediaType,omitempty"`
	SubjectManifestDigest  string           `json:"subjectManifestDigest,omitempty"`
	ImageStatus            string           `json:"imageStatus"`
}

func (c *controlCall) detail(reg *registry, repo *repository, img *image) imageDetail {
	d := imageDetail{
		RegistryID: reg.id, RepositoryName: repo.name, ImageDigest: img.digest,
		ImageTags: repo.tagsOf(img.digest), ImageSizeInBytes: img.info.size, ImagePushedAt: epoch(img.pushedAt),
		ImageManifestMediaType: img.mediaType, ArtifactMediaType: img.info.artifactMediaType(),
		SubjectManifestDigest: img.info.subject, ImageStatus: "ACTIVE",
	}
	if st := repo.scans[img.digest]; st != nil {
		d.ImageScanStatus, d.ScanFindingsSummary = st.summary(st.peek())
	}
	return d
}

func (c *controlCall) describeImages(body []byte) (any, *apiError) {
	var in struct {
		RegistryID     string    `json:"registryId"`
		RepositoryName string    `json:"repositoryName"`
		ImageIDs       []imageID `json:"imageIds"`
		NextToken      string    `json:"nextToken"`
		MaxResults     *int      `json:"maxResults"`
		Filter         *struct {
			TagStatus string `json:"tagStatus"`
		} `json:"filter"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	reg, repo, aerr := c.repoFor(in.RegistryID, in.RepositoryName)
	if aerr != nil {
		return nil, aerr
	}
	details := []imageDetail{}
	if len(in.ImageIDs) > 0 {
		if in.MaxResults != nil || in.NextToken != "" {
			return nil, invalidParam("Invalid parameter: maxResults and nextToken cannot be used with imageIds")
		}
		seen := map[string]bool{}
		for _, id := range in.ImageIDs {
			if id.ImageDigest == "" && id.ImageTag == "" {
				return nil, invalidParam("Invalid parameter at 'imageIds' failed to satisfy constraint: 'imageId must have either imageDigest or imageTag'")
			}
			img, _ := repo.resolve(id.ImageDigest, id.ImageTag)
			if img == nil {
				return nil, imageNotFound(id, repo.name, reg.id)
			}
			if !seen[img.digest] {
				seen[img.digest] = true
				details = append(details, c.detail(reg, repo, img))
			}
		}
		return map[string]any{"imageDetails": details}, nil
	}
	status := "ANY"
	if in.Filter != nil && in.Filter.TagStatus != "" {
		status = in.Filter.TagStatus
	}
	if !slices.Contains([]string{"TAGGED", "UNTAGGED", "ANY"}, status) {
		return nil, validationErr(fmt.Sprintf("1 validation error detected: Value '%s' at 'filter.tagStatus' failed to satisfy constraint: Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]", status))
	}
	var imgs []*image
	for _, img := range repo.sortedImages() {
		tagged := len(repo.tagsOf(img.digest)) > 0
		if status == "ANY" || (status == "TAGGED") == tagged {
			imgs = append(imgs, img)
		}
	}
	start, end, next, aerr := paginate(len(imgs), in.MaxResults, in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	for _, img := range imgs[start:end] {
		details = append(details, c.detail(reg, repo, img))
	}
	return map[string]any{"imageDetails": details, "nextToken": next}, nil
}

type imageOut struct {
	RegistryID             string  `json:"registryId"`
	RepositoryName         string  `json:"repositoryName"`
	ImageID                imageID `json:"imageId"`
	ImageManifest          string  `json:"imageManifest"`
	ImageManifestMediaType string  `json:"imageManifestMediaType,omitempty"`
}

type imageFailure struct {
	ImageID       imageID `json:"imageId"`
	FailureCode   string  `json:"failureCode"`
	FailureReason string  `json:"failureReason"`
}

// defaultAccepted is what BatchGetImage accepts when acceptedMediaTypes is
// omitted. ECR may convert other manifests then; the emulator refuses them
// (UnsupportedImageType) so callers must say what they accept.
var defaultAccepted = []string{"application/vnd.docker.distribution.manifest.v1+json", MediaTypeDockerManifest, MediaTypeOCIManifest}

func (c *controlCall) batchGetImage(body []byte) (any, *apiError) {
	var in struct {
		RegistryID         string    `json:"registryId"`
		RepositoryName     string    `json:"repositoryName"`
		ImageIDs           []imageID `json:"imageIds"`
		AcceptedMediaTypes []string  `json:"acceptedMediaTypes"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	reg, repo, aerr := c.repoFor(in.RegistryID, in.RepositoryName)
	if aerr != nil {
		return nil, aerr
	}
	if len(in.ImageIDs) == 0 {
		return nil, validationErr("1 validation error detected: Value at 'imageIds' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	accepted := in.AcceptedMediaTypes
	if len(accepted) == 0 {
		accepted = defaultAccepted
	}
	images, failures := []imageOut{}, []imageFailure{}
	fail := func(id imageID, code, reason string) {
		failures = append(failures, imageFailure{ImageID: id, FailureCode: code, FailureReason: reason})
	}
	for _, id := range in.ImageIDs {
		img, mismatch := repo.resolve(id.ImageDigest, id.ImageTag)
		switch {
		case id.ImageDigest == "" && id.ImageTag == "":
			fail(id, "MissingDigestAndTag", "Missing image digest and tag")
		case id.ImageDigest != "" && !validDigest(id.ImageDigest):
			fail(id, "InvalidImageDigest", "Invalid image digest")
		case mismatch:
			fail(id, "ImageTagDoesNotMatchDigest", "Image tag does not match digest")
		case img == nil:
			fail(id, "ImageNotFound", "Requested image not found")
		case !slices.Contains(accepted, img.mediaType):
			fail(id, "UnsupportedImageType", fmt.Sprintf("Image manifest media type '%s' is not in acceptedMediaTypes", img.mediaType))
		default:
			images = append(images, imageOut{RegistryID: reg.id, RepositoryName: repo.name,
				ImageID:       imageID{ImageDigest: img.digest, ImageTag: id.ImageTag},
				ImageManifest: string(img.manifest), ImageManifestMediaType: img.mediaType})
		}
	}
	return map[string]any{"images": images, "failures": failures}, nil
}

func (c *controlCall) putImage(body []byte) (any, *apiError) {
	var in struct {
		RegistryID             string `json:"registryId"`
		RepositoryName         string `json:"repositoryName"`
		ImageManifest          string `json:"imageManifest"`
		ImageManifestMediaType string `json:"imageManifestMediaType"`
		ImageTag               string `json:"imageTag"`
		ImageDigest            string `json:"imageDigest"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	reg, repo, aerr := c.repoFor(in.RegistryID, in.RepositoryName)
	if aerr != nil {
		return nil, aerr
	}
	digest, perr := c.s.putManifest(repo, putRequest{body: []byte(in.ImageManifest), mediaType: in.ImageManifestMediaType,
		tag: in.ImageTag, wantDigest: in.ImageDigest, control: true})
	if perr != nil {
		return nil, awsError(map[putErrorKind]string{
			errManifestInvalid: "InvalidParameterException", errDigestMismatch: "ImageDigestDoesNotMatchException",
			errBlobsMissing: "LayersNotFoundException", errChildrenMissing: "ReferencedImagesNotFoundException",
			errTagInvalid: "InvalidParameterException", errTagImmutable: "ImageTagAlreadyExistsException",
			errAlreadyExists: "ImageAlreadyExistsException",
		}[perr.kind], perr.msg)
	}
	img := repo.images[digest]
	return map[string]any{"image": imageOut{RegistryID: reg.id, RepositoryName: repo.name,
		ImageID:       imageID{ImageDigest: digest, ImageTag: in.ImageTag},
		ImageManifest: in.ImageManifest, ImageManifestMediaType: img.mediaType}}, nil
}
