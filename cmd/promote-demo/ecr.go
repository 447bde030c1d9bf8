package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/promote-dev/promote/internal/ecremu"
	"github.com/promote-dev/promote/promote/ecr"
)

// The demo's two emulated AWS accounts: dev and test live in the first,
// prod in the second, reached by assuming demoRole.
const (
	demoDevAccount  = "111111111111"
	demoProdAccount = "222222222222"
	demoRole        = "arn:aws:iam::222222222222:role/promoter"
)

// serveECR runs the ECR emulator with the demo's accounts and writes the
// environment a shell needs to use it (endpoints, credentials, registry
// hosts) to the address file.
func serveECR(args []string) error {
	fs := flag.NewFlagSet("serve-ecr", flag.ContinueOnError)
	addrFile := fs.String("addr-file", "", "file to write the environment to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addrFile == "" {
		return fmt.Errorf("serve-ecr: --addr-file is required")
	}
	srv, err := ecremu.Listen(ecremu.Options{Region: "eu-central-1", Accounts: []string{demoDevAccount, demoProdAccount}}, "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("serve-ecr: %w", err)
	}
	defer srv.Close()
	if err := srv.AddRole(demoRole, demoDevAccount); err != nil {
		return err
	}
	env := []string{
		"ECR_A=" + srv.RegistryHost(demoDevAccount),
		"ECR_B=" + srv.RegistryHost(demoProdAccount),
		"AWS_ENDPOINT_URL_ECR=" + srv.URL,
		"AWS_ENDPOINT_URL_STS=" + srv.URL,
		"AWS_REGION=eu-central-1",
		"AWS_ACCESS_KEY_ID=" + ecremu.DefaultAccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + ecremu.DefaultSecretAccessKey,
		// Nothing from the machine's own AWS setup may leak into the demo.
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	return announceAndWait(*addrFile, env, 0o600)
}

// ecrKeychain gives push and sign the registry credentials of the demo's
// first emulated account when $ECR_A is set (credentials from the
// environment, the AWS way); otherwise the docker config's.
func ecrKeychain() (authn.Keychain, error) {
	host := os.Getenv("ECR_A")
	if host == "" {
		return authn.DefaultKeychain, nil
	}
	c, err := ecr.New(context.Background(), ecr.Options{})
	if err != nil {
		return nil, err
	}
	return authn.NewMultiKeychain(ecr.NewKeychain(ecr.Registry{Host: host, RegistryID: demoDevAccount, Client: c}), authn.DefaultKeychain), nil
}
