package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"io"
	"strings"
	"time"
)

// reportHTML is the report as one self-contained page: inline styles, no
// script, no external asset, and a Content-Security-Policy that lets the
// page load nothing from anywhere, to publish as a CI artifact.
//
//go:embed templates/report.html
var reportHTML string

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"short": short,
	"upper": strings.ToUpper,
	"join":  strings.Join,
	"deref": func(f *float64) float64 { return *f },
	"percent": func(f *float64) float64 {
		return *f * 100
	},
	"json": func(v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err.Error()
		}
		return string(b)
	},
	"seconds": func(s *float64) string {
		if s == nil {
			return "–"
		}
		return pipelineDuration(time.Duration(*s * float64(time.Second)))
	},
	"findingKinds": func() []string { return reportFindings },
}).Parse(reportHTML))

// writeHTML renders the page whole before writing it: a template error
// leaves no half page.
func (r reportResult) writeHTML(w io.Writer) error {
	var b bytes.Buffer
	if err := reportPage.Execute(&b, r.Report); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
