package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vbauerster/mpb/v8"

	"github.com/promote-dev/promote/promote"
)

func TestBarProgressDrawsBlobsAndTotal(t *testing.T) {
	var out bytes.Buffer
	p := newBarProgress(&out, mpb.WithAutoRefresh(), mpb.WithWidth(120)) // a buffer is no terminal: draw anyway, wide
	d1 := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	d2 := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b", 64)}
	b := p.Start("reg.example/prod/web", []promote.BlobStep{
		{Digest: d1, Size: 3 << 20, Action: promote.ActCopy},
		{Digest: d2, Size: 1 << 20, Action: promote.ActCopy},
	})
	b.Bytes(d1.String(), 1<<20)
	b.Bytes(d1.String(), 0) // a restarted upload counts again from 0
	b.Bytes(d1.String(), 3<<20)
	b.Done(d1.String(), nil)
	b.Bytes(d2.String(), 512<<10)
	b.Done(d2.String(), errors.New("interrupted"))
	b.Finish()
	text := out.String()
	assert.Contains(t, text, "total -> reg.example/prod/web")
	assert.Contains(t, text, "3.5 MiB / 4.0 MiB", "the total counts what finished and what streamed, once")
	assert.Contains(t, text, short(d2.String())+" copy", "a blob that failed stays on screen")
	b.Finish() // a second Finish is harmless
}

// Progress is for people at a terminal: not into a file or pipe, and not
// with --output json or csv.
func TestProgressOnlyOnATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	require.NoError(t, err)
	defer f.Close()
	s := &state{}
	assert.False(t, s.showProgress(f), "a file is not a terminal")
	assert.False(t, s.showProgress(&bytes.Buffer{}))
	real := isTerminal
	t.Cleanup(func() { isTerminal = real })
	isTerminal = func(*os.File) bool { return true } // as on a terminal
	assert.True(t, s.showProgress(f))
	s.json = true
	assert.False(t, s.showProgress(f), "not with --output json")
	s.json, s.csv = false, true
	assert.False(t, s.showProgress(f), "nor csv")
}

// Copies of a batch run at once: each draws and ends its own bars, and
// the display ends with the last.
func TestBarProgressTwoCopiesAtOnce(t *testing.T) {
	var out bytes.Buffer
	p := newBarProgress(&out, mpb.WithAutoRefresh(), mpb.WithWidth(120))
	dc := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("c", 64)}
	dd := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("d", 64)}
	c := p.Start("reg.example/prod/cc", []promote.BlobStep{{Digest: dc, Size: 2 << 20, Action: promote.ActCopy}})
	d := p.Start("reg.example/prod/dd", []promote.BlobStep{{Digest: dd, Size: 1 << 20, Action: promote.ActCopy}})
	d.Bytes(dd.String(), 1<<20)
	d.Done(dd.String(), nil)
	d.Finish() // the first to end leaves the other drawing
	c.Bytes(dc.String(), 2<<20)
	c.Done(dc.String(), nil)
	c.Finish()
	text := out.String()
	assert.Contains(t, text, "total -> reg.example/prod/cc 2.0 MiB / 2.0 MiB")
	assert.Contains(t, text, "total -> reg.example/prod/dd 1.0 MiB / 1.0 MiB")
	assert.Nil(t, p.p, "the display ended with the last copy")
}
