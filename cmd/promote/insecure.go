package main

import (
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/promote-dev/promote/errs"
)

const insecureSource = "--insecure-registry or PROMOTE_INSECURE_REGISTRY"

// insecureHosts checks the registries named for plain HTTP: each must be a
// HOST[:PORT]. A value with a scheme would match no registry and leave the
// user puzzling over TLS errors; a path or user name is never part of a
// registry host.
func insecureHosts(values []string) ([]string, error) {
	out := make([]string, 0, len(values))
	for _, v := range values {
		h := strings.TrimSpace(v)
		switch {
		case h == "": // PROMOTE_INSECURE_REGISTRY= (set empty) names nothing
			continue
		case strings.Contains(h, "://"):
			return nil, errs.Usagef("%s %q: expected HOST[:PORT] without http:// or another scheme, such as %s",
				insecureSource, v, h[strings.Index(h, "://")+3:])
		case strings.ContainsAny(h, "/@ \t"):
			return nil, errs.Usagef("%s %q: expected HOST[:PORT] alone (no path, user or spaces), such as 127.0.0.1:5000", insecureSource, v)
		}
		out = append(out, h)
	}
	return out, nil
}

// warnInsecure says on stderr that hosts are reached over plain HTTP, so a
// variable set somewhere in a CI configuration never downgrades silently.
// Loopback hosts (localhost, 127.0.0.0/8, ::1) are left out: their traffic
// never crosses a network, and a warning on every local run would teach
// people to ignore it.
func warnInsecure(w io.Writer, hosts []string) {
	var remote []string
	for _, h := range hosts {
		if !isLoopback(h) {
			remote = append(remote, h)
		}
	}
	if len(remote) == 0 {
		return
	}
	fmt.Fprintf(w, "promote: warning: plain HTTP, no TLS, to %s (named by %s): traffic and credentials can be read and changed on the way\n",
		strings.Join(remote, ", "), insecureSource)
}

// isLoopback reports whether a HOST[:PORT] names this machine.
func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
