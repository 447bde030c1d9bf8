//go:build integration

package integration

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// pageSeen is what a real browser saw of a report page.
type pageSeen struct {
	Cells    map[string]string // app/env -> status
	Requests []string          // every URL the page asked for
	Errors   []string          // console errors, exceptions and error log entries
}

// openReportPage opens the report page at path in headless Chromium
// (Debian's, driven by chromedp; background networking off), reads the
// status of every cell, and fails the test on a console error or a request
// to anything but the file itself. With screenshot set, it saves a
// full-page PNG there.
func openReportPage(t *testing.T, path, screenshot string) pageSeen {
	t.Helper()
	chromium := lookTool(t, "chromium", "apt-get install chromium: .ci/run installs it")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // the browser and its tab, before listening
		t.Fatalf("starting %s: %v", chromium, err)
	}

	var mu sync.Mutex
	var seen pageSeen
	err := chromedp.Listen(bctx, func(ev any) { // runs in the tab's reader: record, nothing more
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			seen.Requests = append(seen.Requests, e.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				seen.Errors = append(seen.Errors, "console.error")
			}
		case *runtime.EventExceptionThrown:
			seen.Errors = append(seen.Errors, e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				seen.Errors = append(seen.Errors, e.Entry.Text)
			}
		}
	})
	if err != nil {
		t.Fatalf("listening to %s: %v", chromium, err)
	}
	ctx, cancel := context.WithTimeout(bctx, time.Minute)
	defer cancel()
	url := "file://" + path
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(
		Array.from(document.querySelectorAll('section.app td.cell')).map(
			c => [c.closest('section').dataset.app + '/' + c.dataset.env, c.dataset.status]))`))
	if err != nil {
		t.Fatalf("reading the cells of %s: %v", url, err)
	}
	if screenshot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot of %s: %v", url, err)
		}
		if err := os.WriteFile(screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	seen.Cells = cells
	if !slices.Contains(seen.Requests, url) {
		t.Errorf("the browser reported no request for the page itself (%v): the request capture is broken", seen.Requests)
	}
	for _, u := range seen.Requests {
		if u != url {
			t.Errorf("the page asked for %s: a report must load nothing", u)
		}
	}
	if len(seen.Errors) > 0 {
		t.Errorf("the page logged errors: %s", strings.Join(seen.Errors, "; "))
	}
	return seen
}
