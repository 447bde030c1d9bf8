package ecr

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Retry policy for ECR calls: the SDK's standard retryer (exponential
// backoff with full jitter, retrying throttling and transient errors),
// with more attempts than its default of 3, since ECR's per-account API
// rates are low and CI fleets share them.
const (
	maxAttempts = 8
	maxBackoff  = 20 * time.Second
)

func newRetryer(backoff time.Duration) func() aws.Retryer {
	if backoff <= 0 {
		backoff = maxBackoff
	}
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.MaxBackoff = backoff
			o.Backoff = retry.NewExponentialJitterBackoff(backoff)
		})
	}
}

// apiError explains a failed ECR call; throttling that outlasted the retries
// is named as the account's rate limit for that operation.
func apiError(op, what string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded":
			return fmt.Errorf("ecr %s %s: still throttled after %d attempts with backoff: the account's ECR API rate limit for %s was exceeded (see the ECR service quotas); retry later or spread the pipeline's calls: %w",
				op, what, maxAttempts, op, err)
		}
	}
	return fmt.Errorf("ecr %s %s: %w", op, what, err)
}
