package datadogeventsexporter

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAdvHostileJSONTextBodies: whatever text a processor leaves in a
// CloudTrail record's body, its event is posted, and the other records'
// events are too; a text that is not a JSON object gives the event of the
// attributes (as body: none does).
func TestAdvHostileJSONTextBodies(t *testing.T) {
	texts := map[string]string{
		"two objects":      `{"a":1}{"b":2}`,
		"service only":     `{"service":"x"}`,
		"lone surrogate":   `{"requestParameters":{"a":"\ud800"}}`,
		"trailing garbage": `{"eventName":"X"}garbage`,
		"2MB":              `{"requestParameters":{"p":"` + strings.Repeat(`a\u00e9`, 2<<20/7) + `"}}`,
		"1e400":            `{"requestParameters":{"n":1e400}}`,
		"array":            `[1]`,
		"invalid UTF-8":    "{\"requestParameters\":{\"p\":\"a\xffb\"}}",
		"deep":             `{"requestParameters":{"d":` + strings.Repeat("[", 12000) + strings.Repeat("]", 12000) + `}}`,
		"empty":            ``,
	}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			in := startIntake(t, now)
			te := newTestExporter(t, testConfig(in.URL), now)
			ld := logsOf(rec{name: "RunInstances", service: "ec2", priority: "normal"}, rec{name: "TerminateInstances", service: "ec2", priority: "normal"})
			lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			lrs.At(0).Body().SetStr(text)
			require.NoError(t, te.exp.pushLogs(context.Background(), ld))
			evs := in.Events()
			require.Len(t, evs, 2)
			titles := evs[0].Title + "|" + evs[1].Title
			assert.Contains(t, titles, "RunInstances")
			assert.Contains(t, titles, "TerminateInstances")
		})
	}
}
