package ledger

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func objectLockXML(rule string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
		`<ObjectLockEnabled>Enabled</ObjectLockEnabled>` + rule + `</ObjectLockConfiguration>`
}

func TestS3Check(t *testing.T) {
	ctx := context.Background()
	l, f := openTestS3(t)
	var c Checker = l

	rep, err := c.Check(ctx)
	require.NoError(t, err)
	assert.Equal(t, "s3://ledger/audit", rep.Location)
	assert.Equal(t, "", rep.Versioning)
	assert.False(t, rep.ObjectLock)
	assert.False(t, rep.WORM())
	require.Len(t, rep.Advice, 2)
	assert.Contains(t, rep.Advice[0], "put-bucket-versioning --bucket ledger")
	assert.Contains(t, rep.Advice[1], "enable Object Lock")

	f.enableVersioning()
	f.setObjectLock(objectLockXML(""))
	rep, err = Check(ctx, l)
	require.NoError(t, err)
	assert.Equal(t, "Enabled", rep.Versioning)
	assert.True(t, rep.ObjectLock)
	assert.False(t, rep.WORM(), "Object Lock without a default retention protects nothing new")
	require.Len(t, rep.Advice, 1)
	assert.Contains(t, rep.Advice[0], "set a default retention")

	f.setObjectLock(objectLockXML(`<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention></Rule>`))
	rep, err = Check(ctx, l)
	require.NoError(t, err)
	assert.Equal(t, []any{"GOVERNANCE", int32(30), int32(0)}, []any{rep.RetentionMode, rep.RetentionDays, rep.RetentionYears})
	assert.True(t, rep.WORM())
	require.Len(t, rep.Advice, 1)
	assert.Contains(t, rep.Advice[0], "use COMPLIANCE")

	f.setObjectLock(objectLockXML(`<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>7</Years></DefaultRetention></Rule>`))
	rep, err = Check(ctx, l)
	require.NoError(t, err)
	assert.Equal(t, CheckReport{Location: "s3://ledger/audit", Versioning: "Enabled", ObjectLock: true,
		RetentionMode: "COMPLIANCE", RetentionYears: 7, Advice: []string{}}, rep)
	assert.True(t, rep.WORM())
}

func TestCheckSQLiteHasNothingToCheck(t *testing.T) {
	l, _ := openTestLedger(t)
	_, isChecker := l.(Checker)
	assert.False(t, isChecker)
	_, err := Check(context.Background(), l)
	assert.ErrorContains(t, err, "no storage settings to check")
}

// With versioning, even an edit that is put back leaves its trace, and a
// deletion leaves a delete marker.
func TestS3VerifyReportsVersionsAndDeleteMarkers(t *testing.T) {
	l, f, _ := tamperedS3(t, true)
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Report{Chains: 2, Records: 8, Problems: []Problem{}}, rep, "a versioned bucket written only by promote")

	original := f.object(prodKey(3))
	f.put(prodKey(3), bytes.Replace(original, []byte(`"user":"ci"`), []byte(`"user":"mallory"`), 1))
	f.put(prodKey(3), original) // and back: the chain checks out again
	rep = requireFirstProblem(t, l, 3, "3 versions of audit/records/web/prod/00000000000000000003.json")
	assert.Contains(t, rep.Problems[0].Msg, "the record was overwritten")
	assert.Len(t, rep.Problems, 1)

	l, f, _ = tamperedS3(t, true)
	f.remove(prodKey(2))
	rep = requireFirstProblem(t, l, 2, "the record was deleted (its earlier versions remain")
	assert.Contains(t, rep.Problems[1].Msg, "record 2 is missing")
}
