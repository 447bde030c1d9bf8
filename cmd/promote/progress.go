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

// barProgress draws copies on a terminal with mpb, the progress library
// container tools use (skopeo, podman): for each copy a bar per blob with
// its bytes and rate, and one for the copy in total. Copies of a batch
// share one display; it ends when the last copy under way does. Mounts,
// which the registry makes without streaming, fill when done.
type barProgress struct {
	out    io.Writer
	opts   []mpb.ContainerOption
	mu     sync.Mutex
	p      *mpb.Progress
	active int // copies under way on p
}

// newBarProgress draws on out (a terminal; opts may force drawing elsewhere).
func newBarProgress(out io.Writer, opts ...mpb.ContainerOption) *barProgress {
	return &barProgress{out: out, opts: opts}
}

// isTerminal reports whether f is a terminal with a width; tests replace it.
var isTerminal = func(f *os.File) bool {
	if !term.IsTerminal(int(f.Fd())) {
		return false
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	return err == nil && cols > 0
}

// showProgress reports whether progress goes to w: a terminal, and text
// output (JSON and CSV are for programs).
func (s *state) showProgress(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && !s.json && !s.csv && !s.html && isTerminal(f)
}

// copyBars are the bars of one copy.
type copyBars struct {
	b       *barProgress
	p       *mpb.Progress
	mu      sync.Mutex
	bars    map[string]*mpb.Bar
	size    map[string]int64
	counted map[string]int64 // bytes of each blob counted into total
	total   *mpb.Bar
	once    sync.Once
}

func (b *barProgress) Start(target string, blobs []promote.BlobStep) promote.CopyProgress {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.p == nil {
		b.p = mpb.New(append([]mpb.ContainerOption{mpb.WithOutput(b.out), mpb.WithWidth(32), mpb.WithRefreshRate(120 * time.Millisecond)}, b.opts...)...)
	}
	b.active++
	c := &copyBars{b: b, p: b.p, bars: map[string]*mpb.Bar{}, size: map[string]int64{}, counted: map[string]int64{}}
	var all int64
	for _, bl := range blobs {
		d := bl.Digest.String()
		all += bl.Size
		c.size[d] = bl.Size
		c.bars[d] = b.p.AddBar(bl.Size,
			mpb.PrependDecorators(decor.Name(short(d)+" "+bl.Action, decor.WC{W: 28, C: decor.DindentRight}),
				decor.CountersKibiByte("% .1f / % .1f", decor.WC{W: 22})),
			mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WC{W: 12})),
			mpb.BarRemoveOnComplete())
	}
	c.total = b.p.AddBar(all,
		mpb.PrependDecorators(decor.Name("total -> "+target+" ", decor.WC{C: decor.DindentRight}),
			decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f"), decor.Percentage(decor.WC{W: 6})))
	return c
}

func (c *copyBars) Bytes(d string, done int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(d, done)
}

// set moves blob d to done bytes and the total with it; the caller holds mu.
func (c *copyBars) set(d string, done int64) {
	bar, ok := c.bars[d]
	if !ok {
		return
	}
	bar.SetCurrent(done)
	c.total.IncrInt64(done - c.counted[d]) // negative when an upload restarts
	c.counted[d] = done
}

func (c *copyBars) Done(d string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bar, ok := c.bars[d]; ok && err != nil {
		bar.Abort(false)
		return
	}
	c.set(d, c.size[d])
}

// Finish ends the copy's bars: one still short (a failed or interrupted
// copy) stays on screen where it stopped. The last copy under way ends
// the display.
func (c *copyBars) Finish() {
	c.once.Do(func() {
		c.mu.Lock()
		for _, bar := range c.bars {
			bar.Abort(false) // no-op for a completed bar
		}
		c.total.Abort(false)
		c.mu.Unlock()
		b := c.b
		b.mu.Lock()
		b.active--
		last := b.active == 0 && b.p == c.p
		if last {
			b.p = nil
		}
		b.mu.Unlock()
		if last {
			c.p.Wait()
		}
	})
}
