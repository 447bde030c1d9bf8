package main

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/promote-dev/promote/promote"
)

// barProgress draws each copy on a terminal with mpb, the progress library
// container tools use (skopeo, podman): a bar per blob with its bytes and
// rate, and one for the copy in total. Mounts, which the registry makes
// without streaming, fill when done.
type barProgress struct {
	out  io.Writer
	opts []mpb.ContainerOption
	mu   sync.Mutex
	p    *mpb.Progress
	// per blob: its bar, its size and the bytes counted into total
	bars    map[string]*mpb.Bar
	size    map[string]int64
	counted map[string]int64
	total   *mpb.Bar
}

// newBarProgress draws on out (a terminal; opts may force drawing elsewhere).
func newBarProgress(out io.Writer, opts ...mpb.ContainerOption) *barProgress {
	return &barProgress{out: out, opts: opts}
}

// showProgress reports whether progress goes to w: a terminal with a
// width, and text output (JSON and CSV are for programs).
func (s *state) showProgress(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || s.json || s.csv || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	return err == nil && cols > 0
}

func (b *barProgress) Start(target string, blobs []promote.BlobStep) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.p = mpb.New(append([]mpb.ContainerOption{mpb.WithOutput(b.out), mpb.WithWidth(32), mpb.WithRefreshRate(120 * time.Millisecond)}, b.opts...)...)
	b.bars, b.size, b.counted = map[string]*mpb.Bar{}, map[string]int64{}, map[string]int64{}
	var all int64
	for _, bl := range blobs {
		d := bl.Digest.String()
		all += bl.Size
		b.size[d] = bl.Size
		b.bars[d] = b.p.AddBar(bl.Size,
			mpb.PrependDecorators(decor.Name(short(d)+" "+bl.Action, decor.WC{W: 28, C: decor.DindentRight}),
				decor.CountersKibiByte("% .1f / % .1f", decor.WC{W: 22})),
			mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WC{W: 12})),
			mpb.BarRemoveOnComplete())
	}
	b.total = b.p.AddBar(all,
		mpb.PrependDecorators(decor.Name("total -> "+target+" ", decor.WC{C: decor.DindentRight}),
			decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f"), decor.Percentage(decor.WC{W: 6})))
}

func (b *barProgress) Bytes(d string, done int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.set(d, done)
}

// set moves blob d to done bytes and the total with it; the caller holds mu.
func (b *barProgress) set(d string, done int64) {
	bar, ok := b.bars[d]
	if !ok {
		return
	}
	bar.SetCurrent(done)
	b.total.IncrInt64(done - b.counted[d]) // negative when an upload restarts
	b.counted[d] = done
}

func (b *barProgress) Done(d string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bar, ok := b.bars[d]; ok && err != nil {
		bar.Abort(false)
		return
	}
	b.set(d, b.size[d])
}

// Finish ends the drawing: a bar still short (a failed or interrupted
// copy) stays on screen where it stopped.
func (b *barProgress) Finish() {
	b.mu.Lock()
	p := b.p
	for _, bar := range b.bars {
		bar.Abort(false) // no-op for a completed bar
	}
	if b.total != nil {
		b.total.Abort(false)
	}
	b.p = nil
	b.mu.Unlock()
	if p != nil {
		p.Wait()
	}
}
