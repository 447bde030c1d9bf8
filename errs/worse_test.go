package errs

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWorse(t *testing.T) {
	usage, rejected, conflict, broken := Usagef("x"), fmt.Errorf("%w: y", ErrGateRejected), Conflictf("z"), errors.New("registry down")
	order := []error{nil, usage, rejected, conflict, broken}
	for i, a := range order {
		for j, b := range order {
			assert.Equal(t, i > j, Worse(a, b), "Worse(%v, %v)", a, b)
		}
	}
	assert.False(t, Worse(&ConfigError{File: "f"}, usage), "a config error ranks with a usage error")
	joined := errors.Join(rejected, broken) // a rejection whose record could not be written
	assert.False(t, Worse(joined, rejected), "ranked as cmd decides its exit code: the rejection first")
}
