//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/promote-dev/promote/promote/ledger"
)

// promoters is how many promote processes race for one chain below.
const promoters = 16

// sixteenPromoters pushes 16 distinct images to dev and starts 16 real
// `promote to test web:vN` processes at once. Every one must succeed, and
// the ledger must hold one unbroken chain of 16 records, each of a pushed
// digest exactly once, that `promote ledger verify` accepts; `promote
// current` prints the last record's digest. It returns the records, oldest
// first.
func sixteenPromoters(t *testing.T, p *pipeline) []record {
	t.Helper()
	dev, test := p.repo("dev", "web"), p.repo("test", "web")
	pushed := map[string]string{} // digest -> tag
	var cmds [][]string
	for i := range promoters {
		tag := fmt.Sprintf("v%d", i)
		pushed[p.pushImage(dev+":"+tag, image{Version: tag})] = tag
		cmds = append(cmds, []string{"to", "test", "web:" + tag})
	}
	if len(pushed) != promoters {
		t.Fatalf("expected %d distinct images in dev, got %d (test setup)", promoters, len(pushed))
	}
	for _, r := range p.runAll(cmds) {
		if r.Code != 0 {
			t.Errorf("concurrent promotion should succeed:\n%s", r)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	recs := bySeq(p.history("web", "--env", "test"))
	if len(recs) != promoters {
		t.Fatalf("history web --env test returned %d records, expected %d: %+v", len(recs), promoters, recs)
	}
	seen := map[string]bool{}
	for i, r := range recs {
		if r.Kind != "promotion" || r.Seq != int64(i+1) || r.Hash == "" {
			t.Errorf("record %d: kind %s seq %d hash %q, expected a promotion with seq %d and a hash", i, r.Kind, r.Seq, r.Hash, i+1)
		}
		wantPrev := ""
		if i > 0 {
			wantPrev = recs[i-1].Hash
		}
		if r.PrevHash != wantPrev {
			t.Errorf("record seq %d prev_hash %q, expected the hash of seq %d %q: the chain forked", r.Seq, r.PrevHash, r.Seq-1, wantPrev)
		}
		tag, ok := pushed[r.Digest]
		if !ok || seen[r.Digest] {
			t.Errorf("record seq %d names digest %s: not one of the pushed images, or recorded twice", r.Seq, r.Digest)
		}
		seen[r.Digest] = true
		if got := p.digest(test + ":" + tag); got != r.Digest {
			t.Errorf("test:%s names %s, expected %s", tag, got, r.Digest)
		}
	}
	p.verifyLedger()
	cur := p.mustPromote(0, "current", "test", "web")
	if want := test + "@" + recs[promoters-1].Digest + "\n"; cur.Stdout != want {
		t.Errorf("current test web printed %q, expected the seq-%d record's digest: %q", cur.Stdout, promoters, want)
	}
	return recs
}

// Sixteen runners share one S3 ledger on a real S3 server (versitygw):
// records are created with If-None-Match, the writers serialised by the
// lease object.
func TestSixteenProcessesS3Ledger(t *testing.T) {
	p, s := s3Pipeline(t)
	recs := sixteenPromoters(t, p)

	const bucket, chain = "promote-ledger", "ci/ledger/records/web/test/"
	keys := s.keys(t, bucket, chain)
	if len(keys) != promoters {
		t.Fatalf("expected %d record objects under %s, got %d: %v", promoters, chain, len(keys), keys)
	}
	for i, key := range keys {
		if want := fmt.Sprintf("%s%020d.json", chain, i+1); key != want {
			t.Errorf("record object %d is %s, expected %s", i, key, want)
		}
	}
	var last record
	if err := json.Unmarshal(s.s3Object(t, bucket, keys[promoters-1]), &last); err != nil {
		t.Fatalf("the last record object is not a JSON record: %v", err)
	}
	if last.Hash != recs[promoters-1].Hash || last.ID != recs[promoters-1].ID {
		t.Errorf("the last record object (id %s, hash %s) is not the last record of the history (id %s, hash %s)",
			last.ID, last.Hash, recs[promoters-1].ID, recs[promoters-1].Hash)
	}
	var hint struct {
		Seq  int64  `json:"seq"`
		Hash string `json:"hash"`
	}
	if err := json.Unmarshal(s.s3Object(t, bucket, "ci/ledger/heads/web/test.json"), &hint); err != nil || hint.Seq != promoters || hint.Hash != last.Hash {
		t.Errorf("head hint is %+v (%v), expected seq %d hash %s", hint, err, promoters, last.Hash)
	}
	assertNoLeaseHeld(t, s, bucket, "ci/ledger/locks/web/test")
}

// The same sixteen runners against the embedded SQLite ledger.
func TestSixteenProcessesSQLiteLedger(t *testing.T) {
	t.Parallel()
	sixteenPromoters(t, newPipeline(t))
}

// On a bucket with versioning and Object Lock (versitygw with a versioning
// directory), Check reports WORM settings, and `promote ledger verify`
// reports an overwritten record and a deleted one, which the bucket keeps as
// versions and a delete marker.
func TestS3LedgerOnVersionedLockedBucket(t *testing.T) {
	ctx := context.Background()
	s := startS3(t, true)
	s.createBucket(t, "audit", true)
	s.useS3(t)
	led, err := ledger.Open(ctx, "s3://audit/promote")
	if err != nil {
		t.Fatalf("opening the S3 ledger: %v", err)
	}
	defer led.Close()
	rep, err := ledger.Check(ctx, led)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if rep.Versioning != "Enabled" || !rep.ObjectLock || rep.RetentionMode != "GOVERNANCE" || rep.RetentionDays != 1 || !rep.WORM() {
		t.Errorf("check reported %+v, expected versioning, Object Lock and a GOVERNANCE retention of 1 day", rep)
	}
	for i := range 3 {
		rec := &ledger.Record{Kind: ledger.KindPromotion, App: "web", Env: "prod", Repository: "r/prod/web",
			Digest: fmt.Sprintf("sha256:%064x", i+1), Actor: ledger.Actor{User: "ci"}}
		head, err := led.Head(ctx, "web", "prod")
		if err != nil {
			t.Fatalf("head: %v", err)
		}
		if err := led.Append(ctx, rec, head); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	p := &pipeline{t: t, tools: requireTools(t), dir: t.TempDir()}
	p.home, p.config = p.dir, p.dir+"/environments.yaml"
	p.ledger, p.A = "s3://audit/promote", &registry{Host: "127.0.0.1:1"}
	p.config = p.writeConfig(p.config, nil, nil)
	p.verifyLedger()

	// Overwrite record 2 and delete record 3, as someone with write access can.
	c := s.client()
	two := "promote/records/web/prod/00000000000000000002.json"
	body := strings.Replace(string(s.s3Object(t, "audit", two)), `"user":"ci"`, `"user":"mallory"`, 1)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("audit"), Key: aws.String(two), Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("overwriting record 2: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("audit"),
		Key: aws.String("promote/records/web/prod/00000000000000000003.json")}); err != nil {
		t.Fatalf("deleting record 3: %v", err)
	}
	r := p.promote("ledger", "verify")
	if r.Code == 0 {
		t.Fatalf("ledger verify passed a tampered ledger:\n%s", r)
	}
	for _, want := range []string{"the record was edited", "2 versions of", "the record was overwritten",
		"delete marker", "records were deleted from its end"} {
		if !strings.Contains(r.Stdout+r.Stderr, want) {
			t.Errorf("ledger verify output lacks %q:\n%s", want, r)
		}
	}
}
