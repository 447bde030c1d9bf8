// Command promote-demo serves in-process OCI registries on 127.0.0.1 and
// pushes small generated images into them, for `make demo` and for trying
// a pipeline locally. It is not part of promote itself.
//
//	promote-demo serve --count 2 --addr-file FILE   # runs until interrupted
//	promote-demo push REF --version V [--user U] [--platforms N] [--no-labels] [--base REF]
//	promote-demo push-base REF [--age DAYS]
//	promote-demo sign REPO@DIGEST [--key testdata/demo/demo.key]
//	promote-demo report REPO@DIGEST --from TRIVY.json --out FILE
//	promote-demo serve-ecr --addr-file FILE    # the ECR emulator, two accounts
//
// push and sign use the emulated ECR's credentials when $ECR_A is set.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "push":
		err = push(os.Args[2:])
	case "push-base":
		err = pushBase(os.Args[2:])
	case "sign":
		err = sign(os.Args[2:])
	case "report":
		err = report(os.Args[2:])
	case "serve-ecr":
		err = serveECR(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "promote-demo: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: promote-demo serve --count N --addr-file FILE | push REF --version V [--user U] [--platforms N] [--no-labels] [--base REF] | push-base REF [--age DAYS] | sign REPO@DIGEST [--key FILE] | report REPO@DIGEST --from FILE --out FILE | serve-ecr --addr-file FILE")
	os.Exit(2)
}

// serve starts count registries on free loopback ports and writes
// REGISTRY_<n>=host:port lines to the address file once all listen.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	count := fs.Int("count", 2, "number of registries")
	addrFile := fs.String("addr-file", "", "file to write the addresses to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *count < 1 || *count > 8 || *addrFile == "" {
		return fmt.Errorf("serve: --count must be 1..8 and --addr-file is required")
	}
	var lines []string
	var servers []*http.Server
	for i := 0; i < *count; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{
			Handler:           registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true)),
			ReadHeaderTimeout: 10 * time.Second,
		}
		servers = append(servers, srv)
		go srv.Serve(ln)
		lines = append(lines, fmt.Sprintf("REGISTRY_%c=%s", 'A'+i, ln.Addr().String()))
	}
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	return announceAndWait(*addrFile, lines, 0o644)
}

// announceAndWait writes lines (NAME=VALUE) to path, atomically, for the
// demo script to read, then serves until interrupted.
func announceAndWait(path string, lines []string, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), perm); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
