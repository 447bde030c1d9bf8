package ecr

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpiring(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }
	images := []Image{
		{Digest: "d1", Tags: []string{"1.0.0"}, PushedAt: day(90)},
		{Digest: "d2", Tags: []string{"1.1.0"}, PushedAt: day(60)},
		{Digest: "d3", Tags: []string{"1.2.0", "current"}, PushedAt: day(10)},
		{Digest: "u1", PushedAt: day(40)},
		{Digest: "u2", PushedAt: day(2)},
		{Digest: "s1", Tags: []string{"sha256-abc.sig"}, PushedAt: day(80)},
	}
	cases := []struct {
		name   string
		policy string
		want   []string
	}{
		{"untagged older than 30 days", `{"rules":[{"rulePriority":1,"description":"untagged","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"expire"}}]}`,
			[]string{"u1"}},
		{"keep the newest two version tags", `{"rules":[{"rulePriority":1,"description":"versions","selection":{"tagStatus":"tagged","tagPrefixList":["1."],"countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}`,
			[]string{"d1"}},
		{"a higher-priority rule claims an image first", `{"rules":[
			{"rulePriority":1,"description":"keep current","selection":{"tagStatus":"tagged","tagPatternList":["curr*"],"countType":"imageCountMoreThan","countNumber":100},"action":{"type":"expire"}},
			{"rulePriority":2,"description":"any older than 30 days","selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"expire"}}]}`,
			[]string{"d1", "d2", "u1", "s1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Expiring(c.policy, images, now)
			require.NoError(t, err)
			var digests []string
			for _, img := range images {
				if _, ok := got[img.Digest]; ok {
					digests = append(digests, img.Digest)
				}
			}
			assert.Equal(t, c.want, digests)
		})
	}
	_, err := Expiring("{", images, now)
	assert.Error(t, err)
	_, err = Expiring(`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sometimes"}}]}`, images, now)
	assert.ErrorContains(t, err, "countType")
}
