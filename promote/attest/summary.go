package attest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/promote-dev/promote/gates/verdict"
)

// Limits that keep an attestation small whatever a gate reports.
const (
	maxEvidenceKeys = 16  // entries kept per gate, in key order
	maxEvidenceText = 160 // bytes kept of a string value
	maxReason       = 512 // bytes kept of a gate's reason
	maxFlatObject   = 8   // entries of an object of scalars kept as an object
)

// Summarize shortens a gate's evidence for the attestation: strings (cut
// to 160 bytes), booleans, numbers and times are kept, and so is an object
// of at most 8 such values (severity counts); a list or a larger or nested
// object becomes its number of entries (so "rejected": [..3..] reads 3);
// anything else is dropped. At most 16 keys are kept, in key order, and "omitted"
// then counts the rest. The ledger record, which the attestation names by
// hash, keeps the full evidence.
func Summarize(ev map[string]any) map[string]any {
	if len(ev) == 0 {
		return nil
	}
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]any{}
	omitted := 0
	for _, k := range keys {
		v, ok := summarizeValue(ev[k])
		if !ok {
			continue
		}
		if len(out) == maxEvidenceKeys {
			omitted++
			continue
		}
		out[k] = v
	}
	if omitted > 0 {
		out["omitted"] = omitted
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func summarizeValue(v any) (any, bool) {
	if x, ok := scalar(v); ok {
		return x, true
	}
	if flat, ok := flatObject(v); ok {
		return flat, true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len(), true
	}
	return nil, false
}

// flatObject keeps a small string-keyed map of scalars as it is.
func flatObject(v any) (map[string]any, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String || rv.Len() == 0 || rv.Len() > maxFlatObject {
		return nil, false
	}
	out := map[string]any{}
	for it := rv.MapRange(); it.Next(); {
		x, ok := scalar(it.Value().Interface())
		if !ok {
			return nil, false
		}
		out[it.Key().String()] = x
	}
	return out, true
}

// scalar keeps a string, boolean, number or time.
func scalar(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, false
	case string:
		return clip(x, maxEvidenceText), true
	case json.Number:
		return x, true
	case time.Time:
		return x.UTC().Format(time.RFC3339), true
	case fmt.Stringer: // a value such as a digest (v1.Hash)
		if reflect.ValueOf(v).Kind() == reflect.Struct {
			return clip(x.String(), maxEvidenceText), true
		}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint(), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.String:
		return clip(rv.String(), maxEvidenceText), true
	}
	return nil, false
}

// clip is verdict.Clip.
func clip(s string, n int) string { return verdict.Clip(s, n) }
