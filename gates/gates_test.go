package gates

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func img(arch, user string, labels map[string]string) Image {
	return Image{
		Platform: &v1.Platform{OS: "linux", Architecture: arch},
		Config:   &v1.ConfigFile{Config: v1.Config{User: user, Labels: labels}},
	}
}

func TestNonroot(t *testing.T) {
	cases := []struct {
		name  string
		users []string
		pass  bool
	}{
		{"named user", []string{"app"}, true},
		{"uid", []string{"65532:65532"}, true},
		{"unset", []string{""}, false},
		{"root", []string{"root"}, false},
		{"uid zero with group", []string{"0:1000"}, false},
		{"one platform root", []string{"1000", "root"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Subject{}
			for i, u := range c.users {
				s.Images = append(s.Images, img([]string{"amd64", "arm64"}[i], u, nil))
			}
			v, err := nonrootGate{}.Evaluate(context.Background(), s)
			require.NoError(t, err)
			assert.Equal(t, c.pass, v.Passed(), v.Reason)
			if !c.pass {
				assert.Contains(t, v.Reason, "runs as root")
			}
		})
	}
}

func TestLabels(t *testing.T) {
	g, err := NewLabels(LabelsConfig{Require: []string{"a", "b"}})
	require.NoError(t, err)
	s := &Subject{Images: []Image{img("amd64", "", map[string]string{"a": "1", "b": "2"}), img("arm64", "", map[string]string{"a": "1"})}}
	v, err := g.Evaluate(context.Background(), s)
	require.NoError(t, err)
	assert.False(t, v.Passed())
	assert.Contains(t, v.Reason, "missing label b on linux/arm64")
	assert.Equal(t, []string{"b"}, v.Evidence["missing"])

	s.Images[1].Config.Config.Labels["b"] = "x"
	v, err = g.Evaluate(context.Background(), s)
	require.NoError(t, err)
	assert.True(t, v.Passed(), v.Reason)

	_, err = NewLabels(LabelsConfig{Require: []string{" "}})
	assert.Error(t, err)
	d, err := NewLabels(LabelsConfig{})
	require.NoError(t, err)
	assert.Equal(t, DefaultRequiredLabels, d.(labelsGate).require)
}

func TestRegistry(t *testing.T) {
	assert.Contains(t, Names(), "labels")
	assert.Contains(t, Names(), "nonroot")
	_, ok := Lookup("nope")
	assert.False(t, ok)
	assert.Panics(t, func() { Register("labels", nil) })
}
