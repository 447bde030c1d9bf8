package promote

import (
	"errors"

	"github.com/promote-dev/promote/errs"
)

func isNotFound(err error) bool { return errors.Is(err, errs.ErrNotFound) }
