package promote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/evidence"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/attest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// maxEvidenceDocument bounds the evidence document: the record keeps it,
// and an S3 ledger reads no object over 4 MiB. A tree whose document would
// be larger (configs full of labels, say) cannot be judged by a policy
// gate, nor attested with its evidence: the run fails closed.
const maxEvidenceDocument = 1 << 20

// maxGateEvidence is the most JSON of one gate's evidence the evidence
// document carries whole; beyond it, a summary (attest.Summarize), marked
// so. The ledger record's gates keep it whole either way.
const maxGateEvidence = 64 << 10

// evidenceFacts is what an evidence document is made of, as the run (or
// promote gates) found it.
type evidenceFacts struct {
	env        *config.Environment
	app        string
	repository string // the target repository
	source     ledger.Source
	srcRepo    string
	tags       []string
	subj       *gates.Subject
	policies   []verdict.Result
	history    []ledger.Record
}

// evidenceWanted is whether env's promotions need an evidence document: a
// gate judges it, or the attestation carries it.
func evidenceWanted(env *config.Environment, attesting bool) bool {
	if attesting && env.Attest != nil {
		return true
	}
	return slices.ContainsFunc(env.Gates, func(g config.Gate) bool {
		_, ok := g.Gate.(gates.EvidenceJudge)
		return ok
	})
}

// evidenceOf starts reading the history of f's digest, beside the gates,
// and returns what builds the evidence document of f once they have
// judged.
func (e *Engine) evidenceOf(ctx context.Context, f evidenceFacts) evidenceFunc {
	type read struct {
		recs []ledger.Record
		err  error
	}
	hist := make(chan read, 1) // buffered: the read ends even if nobody waits
	go func() {
		recs, err := e.reader().digestHistory(ctx, f.app, f.subj.Digest.String())
		hist <- read{recs, err}
	}()
	return func(ctx context.Context, judged []verdict.Result) ([]byte, error) {
		var h read
		select {
		case h = <-hist:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if h.err != nil {
			return nil, h.err
		}
		f.history = h.recs
		return f.document(judged)
	}
}

// digestHistory reads every record of app naming digest, in every
// environment, each checked as the engine's decisions are, oldest first.
func (r *Reader) digestHistory(ctx context.Context, app, digest string) ([]ledger.Record, error) {
	recs, err := r.led.Records(ctx, ledger.Query{App: app, Digest: digest})
	if err != nil {
		return nil, fmt.Errorf("reading the history of %s@%s: %w", app, digest, err)
	}
	for _, rec := range recs {
		if err := r.authentic(ctx, rec); err != nil {
			return nil, err
		}
	}
	slices.Reverse(recs) // newest first as read
	return recs, nil
}

// document builds the evidence document from f and the verdicts of the
// gates judged so far, as the JSON a policy gate judges and the record and
// attestation keep: the same facts give the same bytes.
func (f evidenceFacts) document(judged []verdict.Result) ([]byte, error) {
	s := f.subj
	d := evidence.Document{
		MediaType: evidence.MediaType, Environment: f.env.Name, From: f.env.From, App: f.app,
		Repository: f.repository, Digest: s.Digest.String(), Kind: "image",
		Source: evidence.Source{Repository: f.srcRepo, Given: f.source.Given, Resolved: f.source.Resolved},
		Tags:   append([]string{}, f.tags...), Time: s.Now.UTC(),
	}
	if s.IsIndex() {
		d.Kind = "index"
	}
	for _, img := range s.Images {
		d.Platforms = append(d.Platforms, evidencePlatform(img))
	}
	for _, a := range s.Attachments {
		d.Attachments = append(d.Attachments, evidence.Attachment{Subject: a.Subject.String(), Digest: a.Digest.String(), ArtifactType: a.ArtifactType, Tag: a.Tag})
	}
	sort.Slice(d.Attachments, func(i, j int) bool {
		a, b := d.Attachments[i], d.Attachments[j]
		return a.Subject+a.Digest+a.Tag < b.Subject+b.Digest+b.Tag
	})
	var err error
	if d.Gates, err = evidenceVerdicts(judged); err != nil {
		return nil, err
	}
	if d.Policies, err = evidenceVerdicts(f.policies); err != nil {
		return nil, err
	}
	for _, rec := range f.history {
		d.History = append(d.History, evidence.Entry{ID: rec.ID, Seq: rec.Seq, Kind: string(rec.Kind), Env: rec.Env, Time: rec.Time.UTC(), Hash: rec.Hash})
	}
	nonNil(&d)
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	if len(b) > maxEvidenceDocument {
		return nil, fmt.Errorf("the evidence document of %s@%s would be %d bytes, over the %d a record keeps: "+
			"its image configs (labels, above all) are too large to judge, so the promotion is refused", f.app, d.Digest, len(b), maxEvidenceDocument)
	}
	return b, nil
}

// evidencePlatform is one image's platform and what its config says.
func evidencePlatform(img gates.Image) evidence.Platform {
	p := evidence.Platform{Digest: img.Digest.String()}
	if img.Platform != nil && img.Platform.OS != "" {
		p.Platform = gates.PlatformName(img)
	}
	c := img.Config
	if c == nil {
		return p
	}
	if p.Platform == "" && c.OS != "" {
		p.Platform = strings.TrimSuffix(c.OS+"/"+c.Architecture+"/"+c.Variant, "/")
	}
	p.Config = evidence.Config{User: c.Config.User, Labels: redactedLabels(c.Config.Labels), WorkingDir: c.Config.WorkingDir}
	for _, kv := range c.Config.Env {
		name, _, _ := strings.Cut(kv, "=")
		p.Config.Env = append(p.Config.Env, name)
	}
	for port := range c.Config.ExposedPorts {
		p.Config.ExposedPorts = append(p.Config.ExposedPorts, port)
	}
	sort.Strings(p.Config.ExposedPorts)
	if t := c.Created.UTC(); !t.IsZero() && t.Year() >= 1 && t.Year() <= 9999 { // JSON holds years 0001-9999
		p.Config.Created = &t
	}
	return p
}

// redactedLabels is labels with every value the noSecretsInEnv gate would
// see a secret in replaced by a mark naming its rule: the document reaches
// the ledger and the attestation, where no secret may.
func redactedLabels(labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels))
	for k, v := range labels {
		if rule := gates.LooksSecret(k, v); rule != "" {
			v = "<redacted: " + rule + ">"
		}
		out[k] = v
	}
	return out
}

// evidenceVerdicts copies verdicts with their evidence as plain JSON
// values, each summarised when its JSON is over maxGateEvidence.
func evidenceVerdicts(vs []verdict.Result) ([]evidence.Verdict, error) {
	out := make([]evidence.Verdict, 0, len(vs))
	for _, v := range vs {
		ev, summarized, err := plainEvidence(v.Evidence)
		if err != nil {
			return nil, fmt.Errorf("the evidence of %s: %w", v.Name, err)
		}
		out = append(out, evidence.Verdict{Name: v.Name, Verdict: v.Verdict, Reason: v.Reason, Evidence: ev, Summarized: summarized})
	}
	return out, nil
}

func plainEvidence(ev map[string]any) (map[string]any, bool, error) {
	if len(ev) == 0 {
		return map[string]any{}, false, nil
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, false, err
	}
	summarized := len(b) > maxGateEvidence
	if summarized {
		sum := attest.Summarize(ev)
		if sum == nil {
			sum = map[string]any{}
		}
		if b, err = json.Marshal(sum); err != nil {
			return nil, false, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	out := map[string]any{}
	if err := dec.Decode(&out); err != nil {
		return nil, false, err
	}
	return out, summarized, nil
}

// nonNil makes every list and map of d present, so the document says []
// rather than null and a policy iterates without guarding.
func nonNil(d *evidence.Document) {
	empty := func(s *[]string) {
		if *s == nil {
			*s = []string{}
		}
	}
	empty(&d.Tags)
	for i := range d.Platforms {
		c := &d.Platforms[i].Config
		empty(&c.Env)
		empty(&c.ExposedPorts)
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
	}
	if d.Platforms == nil {
		d.Platforms = []evidence.Platform{}
	}
	if d.Attachments == nil {
		d.Attachments = []evidence.Attachment{}
	}
	if d.History == nil {
		d.History = []evidence.Entry{}
	}
}
