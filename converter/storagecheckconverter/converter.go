// Package storagecheckconverter is a confmap converter that checks, when
// the configuration is resolved (also by `otelcol-cloudtrail validate`),
// that every storage extension a component of a pipeline names in a
// `storage` key is defined under `extensions` and enabled under
// `service::extensions`. A component's own Validate cannot see the service
// section: without this check the mistake shows only when the collector
// starts, as "not found", without naming the key.
package storagecheckconverter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/converter/storagecheckconverter"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/confmap"
)

// Errors of the check, wrapped with the key that names the extension.
var (
	ErrNotEnabled = errors.New("is defined under extensions but not enabled: add it to service::extensions")
	ErrNotDefined = errors.New("is not defined under extensions")
)

// NewFactory returns the converter's factory, for the ocb manifest's
// `converters` list.
func NewFactory() confmap.ConverterFactory {
	return confmap.NewConverterFactory(func(confmap.ConverterSettings) confmap.Converter { return converter{} })
}

type converter struct{}

// Convert checks conf and leaves it unchanged.
func (converter) Convert(_ context.Context, conf *confmap.Conf) error {
	return Check(conf.ToStringMap())
}

// Check returns an error for each `storage` key of a component used in a
// pipeline that names an extension not defined, or defined but not enabled.
func Check(conf map[string]any) error {
	defined := map[string]bool{}
	for id := range asMap(conf["extensions"]) {
		defined[id] = true
	}
	service := asMap(conf["service"])
	var enabled []string
	for _, id := range asList(service["extensions"]) {
		enabled = append(enabled, fmt.Sprint(id))
	}
	used := usedComponents(asMap(service["pipelines"]))
	var errs []error
	for _, kind := range []string{"receivers", "processors", "exporters", "connectors"} {
		comps := asMap(conf[kind])
		ids := make([]string, 0, len(comps))
		for id := range comps {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if !used[kind == "connectors"][id] {
				continue
			}
			walk(comps[id], []string{kind, id}, func(path []string, ext string) {
				key := strings.Join(path, confmap.KeyDelimiter)
				switch {
				case slices.Contains(enabled, ext):
				case defined[ext]:
					errs = append(errs, fmt.Errorf("%s: extension %q %w", key, ext, ErrNotEnabled))
				default:
					errs = append(errs, fmt.Errorf("%s: extension %q %w (defined: %s)", key, ext, ErrNotDefined, list(defined)))
				}
			})
		}
	}
	return errors.Join(errs...)
}

// usedComponents returns the ids named in the pipelines: [false] receivers,
// processors and exporters, [true] connectors (which pipelines name as
// receivers or exporters).
func usedComponents(pipelines map[string]any) map[bool]map[string]bool {
	used := map[bool]map[string]bool{false: {}, true: {}}
	for _, p := range pipelines {
		pm := asMap(p)
		for _, kind := range []string{"receivers", "processors", "exporters"} {
			for _, id := range asList(pm[kind]) {
				used[false][fmt.Sprint(id)] = true
				used[true][fmt.Sprint(id)] = true
			}
		}
	}
	return used
}

// walk calls found for every `storage` key with a string value in v.
func walk(v any, path []string, found func(path []string, ext string)) {
	m := asMap(v)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := append(slices.Clone(path), k)
		if s, ok := m[k].(string); ok && k == "storage" && s != "" {
			found(p, s)
			continue
		}
		walk(m[k], p, found)
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	switch l := v.(type) {
	case []any:
		return l
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out
	}
	return nil
}

func list(set map[string]bool) string {
	if len(set) == 0 {
		return "none"
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ", ")
}
