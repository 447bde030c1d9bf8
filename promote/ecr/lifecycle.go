package ecr

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
)

// Image is one image of a repository as DescribeImages reports it.
type Image struct {
	Digest   string
	Tags     []string
	PushedAt time.Time
}

// Expiry says which lifecycle rule would expire an image.
type Expiry struct {
	Priority    int
	Description string
}

type lifecyclePolicy struct {
	Rules []lifecycleRule `json:"rules"`
}

type lifecycleRule struct {
	Priority    int    `json:"rulePriority"`
	Description string `json:"description"`
	Selection   struct {
		TagStatus      string   `json:"tagStatus"` // tagged | untagged | any
		TagPrefixList  []string `json:"tagPrefixList"`
		TagPatternList []string `json:"tagPatternList"`
		CountType      string   `json:"countType"` // imageCountMoreThan | sinceImagePushed
		CountUnit      string   `json:"countUnit"` // days
		CountNumber    int      `json:"countNumber"`
	} `json:"selection"`
	Action struct {
		Type string `json:"type"` // expire
	} `json:"action"`
}

// Expiring evaluates an ECR lifecycle policy over images as ECR documents
// it: rules in priority order; each image is considered by the first rule
// whose selection matches it and no later one; imageCountMoreThan keeps the
// newest countNumber images a rule selects and expires the rest;
// sinceImagePushed expires those pushed more than countNumber days before
// now. It returns the images that would expire, by digest.
func Expiring(policy string, images []Image, now time.Time) (map[string]Expiry, error) {
	var p lifecyclePolicy
	if err := json.Unmarshal([]byte(policy), &p); err != nil {
		return nil, fmt.Errorf("lifecycle policy: %w", err)
	}
	sort.Slice(p.Rules, func(i, j int) bool { return p.Rules[i].Priority < p.Rules[j].Priority })
	out := map[string]Expiry{}
	taken := map[string]bool{}
	for _, r := range p.Rules {
		if r.Action.Type != "" && r.Action.Type != "expire" {
			continue
		}
		var selected []Image
		for _, img := range images {
			if !taken[img.Digest] && r.selects(img) {
				selected = append(selected, img)
			}
		}
		sort.Slice(selected, func(i, j int) bool { return selected[i].PushedAt.After(selected[j].PushedAt) })
		for i, img := range selected {
			taken[img.Digest] = true
			expire := false
			switch r.Selection.CountType {
			case "imageCountMoreThan":
				expire = i >= r.Selection.CountNumber
			case "sinceImagePushed":
				expire = now.Sub(img.PushedAt) > time.Duration(r.Selection.CountNumber)*24*time.Hour
			default:
				return nil, fmt.Errorf("lifecycle rule %d: countType %q is neither imageCountMoreThan nor sinceImagePushed", r.Priority, r.Selection.CountType)
			}
			if expire {
				out[img.Digest] = Expiry{Priority: r.Priority, Description: r.Description}
			}
		}
	}
	return out, nil
}

// selects reports whether the rule's selection matches img.
func (r lifecycleRule) selects(img Image) bool {
	switch r.Selection.TagStatus {
	case "untagged":
		return len(img.Tags) == 0
	case "any":
		return true
	case "tagged":
		for _, t := range img.Tags {
			for _, p := range r.Selection.TagPrefixList {
				if strings.HasPrefix(t, p) {
					return true
				}
			}
			for _, p := range r.Selection.TagPatternList {
				if ok, _ := path.Match(p, t); ok {
					return true
				}
			}
		}
	}
	return false
}
