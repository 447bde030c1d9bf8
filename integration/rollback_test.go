//go:build integration

package integration

import (
	"strings"
	"testing"
)

// An image that runs as root is refused by test's nonroot gate: exit 3, the
// verdict in the JSON result, a rejected record in the ledger, and nothing
// tagged in test.
func TestGateRejectionExit3(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	dev, test := p.repo("dev", "web"), p.repo("test", "web")
	d := p.pushImage(dev+":1.0", image{Version: "1.0", User: "root"})

	r, doc := p.promoteJSON("to", "test", "web:1.0")
	if r.Code != 3 {
		t.Fatalf("an image running as root should be rejected by the nonroot gate with exit 3:\n%s", r)
	}
	var res promotion
	decodeResult(t, doc, &res)
	g := gate(res.Gates, "nonroot")
	if g == nil {
		t.Fatalf("result.gates has no nonroot verdict: %+v", res.Gates)
	}
	if g.Verdict != "fail" {
		t.Errorf("nonroot verdict %q (%s), expected fail", g.Verdict, g.Reason)
	}
	if l := gate(res.Gates, "labels"); l == nil || l.Verdict != "pass" {
		t.Errorf("labels gate should pass on a labelled image, got %+v", l)
	}
	if res.Digest != d {
		t.Errorf("rejected digest %s, expected %s", res.Digest, d)
	}

	recs := p.history("web")
	var rejected *record
	for i := range recs {
		if recs[i].Kind == "rejected" && recs[i].Env == "test" {
			rejected = &recs[i]
		}
		if recs[i].Kind == "promotion" {
			t.Errorf("a rejected image was recorded as a promotion: %+v", recs[i])
		}
	}
	if rejected == nil {
		t.Fatalf("history web has no rejected record for test: %+v", recs)
	}
	if rejected.Digest != d {
		t.Errorf("rejected record names %s, expected %s", rejected.Digest, d)
	}
	if rg := gate(rejected.Gates, "nonroot"); rg == nil || rg.Verdict != "fail" {
		t.Errorf("rejected record should keep the failing nonroot verdict as evidence, got %+v", rejected.Gates)
	}
	if tags := p.tags(test); len(tags) != 0 {
		t.Errorf("gates before copy: nothing may be tagged in test after a rejection, crane ls shows %v", tags)
	}
	if p.hasManifest(test, d) {
		t.Errorf("gates before copy: the rejected manifest %s was written to test", d)
	}
	if cur := p.promote("current", "test", "web"); cur.Code == 0 {
		t.Errorf("test should hold nothing for web after a rejection, current printed:\n%s", cur)
	}
	p.verifyLedger()
}

// Two versions through test and prod, then a rollback of prod: prod runs
// 1.0 again, the newest prod record is the rollback, and the ledger verifies.
func TestRollbackAndHistory(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	dev, prod := p.repo("dev", "web"), p.repo("prod", "web")

	digests := map[string]string{}
	for _, v := range []string{"1.0", "2.0"} {
		digests[v] = p.pushIndex(dev+":"+v, image{Version: v})
		p.mustPromote(0, "to", "test", "web:"+v)
		p.mustPromote(0, "to", "prod", "web")
		if got := p.digest(prod + ":" + v); got != digests[v] {
			t.Fatalf("prod:%s names %s, expected %s", v, got, digests[v])
		}
	}
	if cur := p.mustPromote(0, "current", "prod", "web"); cur.Stdout != prod+"@"+digests["2.0"]+"\n" {
		t.Fatalf("before the rollback prod should run 2.0 (%s), current printed %q", digests["2.0"], cur.Stdout)
	}

	rb := p.mustPromote(0, "rollback", "prod", "web", "--reason", "error rate up")
	if !strings.Contains(rb.Stdout, digests["1.0"]) {
		t.Errorf("rollback output should say what prod runs now (%s):\n%s", digests["1.0"], rb)
	}
	cur := p.mustPromote(0, "current", "prod", "web")
	if want := prod + "@" + digests["1.0"] + "\n"; cur.Stdout != want {
		t.Errorf("after the rollback current prod web printed %q, expected exactly %q", cur.Stdout, want)
	}
	if got := p.digest(prod + ":2.0"); got != digests["2.0"] {
		t.Errorf("rollback copies nothing and moves no tag: prod:2.0 names %s, expected %s", got, digests["2.0"])
	}

	recs := p.history("--env", "prod", "--limit", "1")
	if len(recs) != 1 {
		t.Fatalf("history --env prod --limit 1 returned %d records, expected 1: %+v", len(recs), recs)
	}
	newest := recs[0]
	if newest.Kind != "rollback" || newest.Digest != digests["1.0"] || newest.Env != "prod" {
		t.Errorf("newest prod record should be a rollback to %s, got kind %s digest %s env %s",
			digests["1.0"], newest.Kind, newest.Digest, newest.Env)
	}
	if newest.Previous != digests["2.0"] {
		t.Errorf("rollback record previous %q, expected the digest it replaced %s", newest.Previous, digests["2.0"])
	}
	all := bySeq(p.history("web", "--env", "prod"))
	if len(all) != 3 {
		t.Fatalf("prod should hold 3 records (2 promotions, 1 rollback), got %d: %+v", len(all), all)
	}
	for i, want := range []string{"promotion", "promotion", "rollback"} {
		if all[i].Kind != want || all[i].Seq != int64(i+1) {
			t.Errorf("prod record %d: kind %s seq %d, expected %s seq %d", i, all[i].Kind, all[i].Seq, want, i+1)
		}
	}

	// Rollback checks the digest is still in prod's repository: once 2.0 is
	// deleted there, rolling forward to it is refused and nothing changes.
	p.crane("delete", prod+"@"+digests["2.0"])
	if gone := p.promote("rollback", "prod", "web", "--to", digests["2.0"]); gone.Code == 0 {
		t.Errorf("rollback to a digest deleted from prod's repository should fail:\n%s", gone)
	}
	if cur := p.mustPromote(0, "current", "prod", "web"); cur.Stdout != prod+"@"+digests["1.0"]+"\n" {
		t.Errorf("a refused rollback changed what prod runs: current printed %q, expected 1.0 (%s)", cur.Stdout, digests["1.0"])
	}
	if n := len(p.history("web", "--env", "prod")); n != 3 {
		t.Errorf("a refused rollback should record nothing: prod has %d records, expected 3", n)
	}
	p.verifyLedger()
}
