package ledger

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/gates/verdict"
)

// goldenHash is the hash of goldenRecord as promote has always computed it
// (pinned at 55d0da1, before the gate result became verdict.Result). Every
// record ever written is checked against its hash: a change to the body
// of a record, its gates' shape included, breaks every ledger. Never
// update it; change the code instead.
const goldenHash = "sha256:8e5b94ea51d9e158172cac3b614c45e87241b74dcb337715cc962b38a65c34bc"

func goldenRecord() Record {
	return Record{
		MediaType: MediaType, ID: "01JEXAMPLE0000000000000000", Seq: 7,
		Time: time.Date(2026, 12, 4, 12, 0, 0, 123456789, time.UTC), Kind: KindPromotion,
		App: "shop", Env: "prod", From: "test", Repository: "registry.example/prod/shop",
		Digest:  "sha256:b7f018b6fe24b7f018b6fe24b7f018b6fe24b7f018b6fe24b7f018b6fe24b7f0",
		Source:  Source{Given: "shop:1.2.0", Resolved: "registry.example/test/shop@sha256:b7f018b6fe24b7f018b6fe24b7f018b6fe24b7f018b6fe24b7f018b6fe24b7f0"},
		Targets: []string{"registry.example/prod/shop:1.2.0"}, Tags: []string{"1.2.0"},
		Previous: "sha256:0000000000000000000000000000000000000000000000000000000000000001",
		Gates: []verdict.Result{
			{Name: "scan", Verdict: verdict.Pass, Reason: "no finding above high",
				Evidence: map[string]any{"counts": map[string]any{"high": 0, "critical": 0}, "images": []any{map[string]any{"digest": "sha256:aa", "platform": "linux/amd64"}}}},
			{Name: "signed", Verdict: verdict.Fail, Reason: "no signature by keys/release.pub"},
			{Name: "base", Verdict: verdict.Error, Reason: "fetching base: timeout"},
		},
		Actor:    Actor{Identity: "ci@example", IdentityVia: ViaCIEnv, User: "runner", UserVia: ViaOSUser, Host: "ci-7", AWS: "arn:aws:sts::111111111111:assumed-role/promoter/ci", AWSVia: ViaAWSSTS},
		CI:       &CI{Provider: "github", Pipeline: "release", Job: "promote", Commit: "0123456789abcdef", URL: "https://ci.example/run/1"},
		Reason:   "release 1.2.0",
		PrevHash: "sha256:0000000000000000000000000000000000000000000000000000000000000002",
	}
}

func TestRecordHashIsStable(t *testing.T) {
	b, err := goldenRecord().Body()
	require.NoError(t, err)
	assert.Equal(t, goldenHash, HashBody(b), "the body of a record changed: every stored record would fail verification")
}
