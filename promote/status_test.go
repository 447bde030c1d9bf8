package promote

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

func TestStatusSaysWhatRunsWhereAndWhatIsNext(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	d1 := w.push("web", "1.0", "1.0")
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	_, err = w.promote(e, "prod", "web")
	require.NoError(t, err)
	d2 := w.push("web", "2.0", "2.0")
	_, err = w.promote(e, "test", "web:2.0")
	require.NoError(t, err)

	st, err := e.reader().Status(ctxTimeout(t), "web")
	require.NoError(t, err)
	require.Len(t, st.Environments, 3)
	dev, test, prod := st.Environments[0], st.Environments[1], st.Environments[2]

	assert.True(t, dev.FedByPushes)
	assert.Empty(t, dev.Digest)
	assert.Equal(t, []NextHop{{Env: "test", Gates: []string{"labels", "nonroot"}, Command: "promote to test web:TAG"}}, dev.Next)

	assert.Equal(t, d2.String(), test.Digest)
	assert.Equal(t, []string{"2.0"}, test.Tags)
	assert.Equal(t, "test", test.By)
	assert.NotNil(t, test.Since)
	assert.Equal(t, []NextHop{{Env: "prod", Gates: []string{"labels"}, Pending: true, Command: "promote to prod web"}}, test.Next)

	assert.Equal(t, d1.String(), prod.Digest)
	assert.Equal(t, w.prod("web"), prod.Repository)
	assert.Empty(t, prod.Next)

	_, err = w.promote(e, "prod", "web")
	require.NoError(t, err)
	st, err = e.reader().Status(ctxTimeout(t), "web")
	require.NoError(t, err)
	assert.True(t, st.Environments[1].Next[0].UpToDate)
	assert.Empty(t, st.Environments[1].Next[0].Command)

	// After prod is rolled back away from what test runs, status does
	// not suggest promoting it again: that would undo the rollback.
	_, err = e.Rollback(ctxTimeout(t), RollbackRequest{Env: "prod", App: "web"})
	require.NoError(t, err)
	st, err = e.reader().Status(ctxTimeout(t), "web")
	require.NoError(t, err)
	assert.Equal(t, []NextHop{{Env: "prod", Gates: []string{"labels"}, RolledBack: true}}, st.Environments[1].Next)

	none, err := e.reader().Status(ctxTimeout(t), "api")
	require.NoError(t, err)
	assert.Empty(t, none.Environments[1].Digest)
	assert.Equal(t, "promote to prod api (once test holds it)", none.Environments[1].Next[0].Command)

	_, err = e.reader().Status(ctxTimeout(t), "web:1.0")
	assert.ErrorIs(t, err, errs.ErrUsage)
}
