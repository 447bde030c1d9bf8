package errs

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestConfigErrorNamesFileLineField(t *testing.T) {
	err := fmt.Errorf("loading: %w", &ConfigError{File: "environments.yaml", Line: 12, Field: "environments[1].from", Msg: `names no environment "qa"`})
	assert.Equal(t, `loading: environments.yaml:12: environments[1].from: names no environment "qa"`, err.Error())
	assert.ErrorIs(t, err, ErrConfig)
	assert.NotErrorIs(t, err, ErrUsage)
	var ce *ConfigError
	assert.True(t, errors.As(err, &ce))
	assert.Equal(t, "f.yaml: bad", (&ConfigError{File: "f.yaml", Msg: "bad"}).Error())
}

func TestHelpersWrapSentinels(t *testing.T) {
	assert.ErrorIs(t, Usagef("x %d", 1), ErrUsage)
	assert.ErrorIs(t, Conflictf("y"), ErrConflict)
	assert.Equal(t, "conflict: tag 1.0", Conflictf("tag %s", "1.0").Error())
}
