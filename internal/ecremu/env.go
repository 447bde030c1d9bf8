package ecremu

import (
	"path/filepath"
	"testing"
)

// SetEnv points the AWS SDK's default chain at the server for the rest of
// the test, the way a user points it at an endpoint: AWS_ENDPOINT_URL_ECR
// and _STS, the default credential as AWS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY,
// the server's region, and no shared config, profile or instance metadata
// from the machine running the test.
func (s *Server) SetEnv(t testing.TB) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_ECR": s.URL, "AWS_ENDPOINT_URL_STS": s.URL, "AWS_REGION": s.opts.Region,
		"AWS_ACCESS_KEY_ID": DefaultAccessKeyID, "AWS_SECRET_ACCESS_KEY": DefaultSecretAccessKey,
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "",
	} {
		t.Setenv(k, v)
	}
}
