// Package ecr is promote's access to Amazon ECR's control plane: the
// registry credentials GetAuthorizationToken hands out and the scan
// findings of an image. Credentials come the AWS way: the SDK's default
// chain (environment, profiles, SSO, web identity, instance roles), an
// optional profile, and an optional role to assume; an ECR-compatible
// endpoint is reached through the standard AWS_ENDPOINT_URL_ECR.
package ecr

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Options say how to reach one account's ECR.
type Options struct {
	Region  string // default: the SDK's (AWS_REGION, the profile)
	Profile string // shared-config profile; default: the default chain
	RoleArn string // role to assume, e.g. a promoter role in the prod account
	// MaxBackoff caps the jittered wait between retries (default 20s).
	MaxBackoff time.Duration
}

// Client calls ECR for one set of Options. It is safe for concurrent use.
type Client struct {
	api    *ecr.Client
	sts    *sts.Client
	region string
}

// New loads the AWS configuration and builds a client. It makes no call.
func New(ctx context.Context, o Options) (*Client, error) {
	opts := []func(*config.LoadOptions) error{config.WithRetryer(newRetryer(o.MaxBackoff))}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no AWS region: set aws.region in environments.yaml or AWS_REGION")
	}
	if o.RoleArn != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), o.RoleArn,
			func(a *stscreds.AssumeRoleOptions) { a.RoleSessionName = "promote" }))
	}
	return &Client{api: ecr.NewFromConfig(cfg), sts: sts.NewFromConfig(cfg), region: cfg.Region}, nil
}

// CallerIdentity returns the ARN the client's credentials act as (the
// assumed role's session, with a roleArn), for the ledger's actor.
func (c *Client) CallerIdentity(ctx context.Context) (string, error) {
	out, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", apiError("GetCallerIdentity", "", err)
	}
	return aws.ToString(out.Arn), nil
}

// Region is the region the client calls.
func (c *Client) Region() string { return c.region }

var ecrHost = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

// ParseHost returns the account and region of an ECR registry host
// (<account>.dkr.ecr.<region>.amazonaws.com), or ok false for another host.
func ParseHost(host string) (account, region string, ok bool) {
	m := ecrHost.FindStringSubmatch(host)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}
