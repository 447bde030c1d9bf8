package promote

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

// loggedHistory returns the world's records in the order its log holds them.
func (kw *keyedWorld) loggedHistory() []ledger.Record {
	t := kw.t
	ctx := context.Background()
	led, err := ledger.OpenReadOnly(ctx, kw.ledger)
	require.NoError(t, err)
	defer led.Close()
	size, err := led.LogSize(ctx)
	require.NoError(t, err)
	var out []ledger.Record
	require.NoError(t, led.Leaves(ctx, 0, size, func(lf ledger.Leaf) error {
		r, err := led.Get(ctx, lf.ID)
		out = append(out, r)
		return err
	}))
	return out
}

// replaceStore replaces the ledger's whole store with hist, appended in
// order, re-hashed and re-linked, its log rebuilt to match and signed by no
// one: everything a writer of the store without the key can do.
func (kw *keyedWorld) replaceStore(hist []ledger.Record) {
	t := kw.t
	ctx := context.Background()
	forged, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "forged.db"))
	require.NoError(t, err)
	defer forged.Close()
	for _, r := range hist {
		r.Seq, r.PrevHash, r.Hash = 0, "", ""
		head, err := forged.Head(ctx, r.App, r.Env)
		require.NoError(t, err)
		require.NoError(t, forged.Append(ctx, &r, head))
	}
	if kw.s3 != nil {
		objs, err := kw.s3.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s3Bucket), Prefix: aws.String("audit/")})
		require.NoError(t, err)
		require.False(t, aws.ToBool(objs.IsTruncated))
		for _, o := range objs.Contents {
			_, err := kw.s3.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s3Bucket), Key: o.Key})
			require.NoError(t, err)
		}
	} else {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			require.NoError(t, os.RemoveAll(kw.ledger+suffix))
		}
	}
	store, err := ledger.Open(ctx, kw.ledger)
	require.NoError(t, err)
	defer store.Close()
	_, err = ledger.Copy(ctx, forged, store)
	require.NoError(t, err)
}

// Each way of rewriting history, on both backends, done by a writer of the
// store without the key who rebuilds the log to match: the store verifies
// on its own (bar the missing signatures), and the checkpoints published
// to the witness repositories before show the rewrite.
func TestWitnessesDetectEveryTamper(t *testing.T) {
	for _, backend := range []string{"sqlite", "s3"} {
		for _, tc := range []struct {
			name   string
			tamper func(h []ledger.Record) []ledger.Record
			want   string
		}{
			{"truncate", func(h []ledger.Record) []ledger.Record { return h[:3] }, "fewer than the 5 kept: records were deleted, or it was cut short"},
			{"rewrite and re-hash", func(h []ledger.Record) []ledger.Record {
				h[2].Reason = "approved by the CISO"
				return h
			}, "the log does not extend it"},
			{"reorder", func(h []ledger.Record) []ledger.Record {
				h[0], h[1] = h[1], h[0] // web/test #1 and api/test #1: each chain keeps its order
				return h
			}, "the log does not extend it"},
			{"insert", func(h []ledger.Record) []ledger.Record {
				in := h[2]
				in.ID, in.Reason = "r-inserted", "hotfix nobody approved"
				return slices.Insert(h, 3, in)
			}, "the log does not extend it"},
			{"delete", func(h []ledger.Record) []ledger.Record { return slices.Delete(h, 2, 3) }, "fewer than the 5 kept: records were deleted"},
		} {
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				var opts []worldOption
				if backend == "s3" {
					opts = append(opts, withS3Ledger())
				}
				kw := newKeyedWorld(t, nil, opts...)
				e := kw.open()
				ctx := ctxTimeout(t)
				for _, v := range []string{"1.0", "2.0", "3.0"} {
					kw.push("web", v, v)
					_, err := kw.promote(e, "test", "web:"+v)
					require.NoError(t, err)
					if v != "3.0" {
						kw.push("api", v, v)
						_, err = kw.promote(e, "test", "api:"+v)
						require.NoError(t, err)
					}
				}
				_, err := e.PublishCheckpoint(ctx)
				require.NoError(t, err)
				hist := kw.loggedHistory()
				require.Len(t, hist, 5)
				require.Equal(t, []string{"web", "api", "web", "api", "web"}, []string{hist[0].App, hist[1].App, hist[2].App, hist[3].App, hist[4].App})

				kw.replaceStore(tc.tamper(hist))
				e = kw.open()
				kept, err := e.Witnessed(ctx, nil)
				require.NoError(t, err)
				require.Len(t, kept, 2, "checkpoint-5 in test's and prod's witness")
				rep := audit(t, e, kept...)
				require.False(t, rep.OK())
				problems := keptProblems(rep)
				for _, repo := range kw.witnesses() {
					assert.Contains(t, problems[repo+":checkpoint-5"], tc.want, "%s: %+v", repo, problems)
				}
			})
		}
	}
}

// The default witness repositories are the environments' repositories with
// {app} = promote-ledger: no app of that name is promoted into them.
func TestWitnessAppNameIsReserved(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	_, err := w.promote(e, "test", WitnessApp+":1.0")
	require.ErrorIs(t, err, errs.ErrUsage)
	assert.ErrorContains(t, err, `app name "promote-ledger" is reserved`)
	assert.Empty(t, w.records(ledger.Query{}), "nothing recorded")
}
