package recordstream

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"unicode/utf16"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// Adversarial review of the map-mode speedups (issue #11): the string
// arena, member-name prediction, remembered mapping lookups and size
// hints, attacked with records whose shapes change abruptly, bodies kept
// while the same Reader goes on (other records, other objects, objects
// that fail in the middle), and readers running at the same time.

// adv11Names are names that collide with the predictions: prefixes and
// extensions of predicted names, names equal up to the predicted length
// and differing after it, the same length differing in the last byte,
// empty, non-ASCII, and names longer than the arena's limit (1 KB).
var adv11Names = []string{
	"eventName", "eventNam", "eventNamf", "eventNameX", "eventName\u00e9", "eventSource", "eventSourcf",
	"eventTime", "eventID", "userIdentity", "type", "typ", "types", "arn", "arN", "sessionContext",
	"sessionIssuer", "attributes", "mfaAuthenticated", "creationDate", "userName", "accountId",
	"tlsDetails", "tlsVersion", "requestParameters", "responseElements", "resources", "ARN",
	"insightDetails", "errorCode", "readOnly", "", "\u00e9", "\u65e5\u672c",
	strings.Repeat("k", 1023), strings.Repeat("k", 1024), strings.Repeat("k", 1025) + "eventName",
	"eventName" + strings.Repeat("z", 3000),
}

// adv11Key writes a member name: plain, or (1 in 6) fully \u-escaped so
// that it decodes to a name the reader may have predicted.
func adv11Key(rng *rand.Rand, b *strings.Builder, name string) {
	if rng.IntN(6) == 0 && name != "" {
		b.WriteByte('"')
		for _, c := range utf16.Encode([]rune(name)) {
			fmt.Fprintf(b, `\u%04x`, c)
		}
		b.WriteByte('"')
		return
	}
	b.WriteString(strconv.Quote(name))
}

// adv11Object returns a random object at depth d: some wide (past
// widemap.Threshold members, names repeated so that keys are duplicated),
// most small, some a long chain of nested objects.
func adv11Object(rng *rand.Rand, d int) string {
	var b strings.Builder
	b.WriteByte('{')
	n := rng.IntN(6)
	switch {
	case d == 0:
		n += 5
	case rng.IntN(12) == 0:
		n = 130 + rng.IntN(80) // wide, with duplicate names
	}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if n > 100 && rng.IntN(3) > 0 {
			adv11Key(rng, &b, "m"+strconv.Itoa(rng.IntN(n)))
		} else {
			adv11Key(rng, &b, adv11Names[rng.IntN(len(adv11Names))])
		}
		b.WriteByte(':')
		if n > 100 {
			b.WriteString(adv11Value(rng, 99)) // scalars only
		} else {
			b.WriteString(adv11Value(rng, d+1))
		}
	}
	b.WriteByte('}')
	return b.String()
}

func adv11Value(rng *rand.Rand, d int) string {
	k := rng.IntN(14)
	switch {
	case d > 10:
		k %= 7
	case d > 3:
		k %= 8
	}
	switch k {
	case 0:
		return strconv.Itoa(rng.IntN(1 << 20))
	case 1:
		return []string{"-0", "1e308", "123456789012345678901234567890", "0.1", "-9223372036854775808"}[rng.IntN(5)]
	case 2:
		return []string{"true", "false", "null"}[rng.IntN(3)]
	case 3, 4:
		// Around the arena's limit of 1 KB and its block of 16 KB.
		n := []int{0, 1, 1023, 1024, 1025, 4000, 16 << 10, 17 << 10}[rng.IntN(8)]
		return strconv.Quote(strings.Repeat(string(rune('a'+rng.IntN(26))), n) + strconv.Itoa(rng.IntN(1000)))
	case 5:
		return strconv.Quote([]string{"ec2.amazonaws.com", "TLSv1.3", "x\"y\\z", "\u00e9\u65e5\u672c\U0001F600", "AssumedRole"}[rng.IntN(5)])
	case 6:
		// Escapes in a value: decoded through scratch, then the arena.
		return `"a\u0000b\n\t\"\\\/\ud83d\ude00` + strconv.Itoa(rng.IntN(100)) + `"`
	case 7:
		// A chain of nested objects and arrays, 30 to 60 deep.
		depth := 30 + rng.IntN(30)
		return strings.Repeat(`{"eventName":[`, depth) + `"deep"` + strings.Repeat(`]}`, depth)
	case 8, 9, 10:
		return adv11Object(rng, d)
	default:
		var els []string
		for range rng.IntN(5) {
			els = append(els, adv11Value(rng, d+1))
		}
		return "[" + strings.Join(els, ",") + "]"
	}
}

// adv11Kept is a record read earlier, kept with what it must still be.
type adv11Kept struct {
	where string
	lr    plog.LogRecord
	rec   string
}

// TestAdv11KeptBodiesSurviveLaterReads reads 150 files of shape-shifting
// records with one Reader (split reads, one-byte reads, files that fail
// in the middle of a record, a record too deep in between), keeps every
// record it returned, and only at the end checks every kept body against
// the straightforward build from encoding/json and its attributes against
// those the mapping takes from that build: a string of the arena, an
// interned name or a remembered lookup overwritten or reused by a later
// record would show here.
func TestAdv11KeptBodiesSurviveLaterReads(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	mapper := mapping.New(ctattr.DefaultNormalServices, true)
	r := NewReader(nil, 0)
	var kept []adv11Kept
	for file := range 150 {
		var recs []string
		for range 1 + rng.IntN(6) {
			recs = append(recs, adv11Object(rng, 0))
		}
		tooDeep := -1
		if rng.IntN(5) == 0 {
			tooDeep = rng.IntN(len(recs))
		}
		parts := make([]string, 0, len(recs))
		for i, rec := range recs {
			if i == tooDeep {
				// Built partly (names interned, predictions and arena
				// moved on), then refused.
				parts = append(parts, `{"eventName":"x","userIdentity":`+strings.Repeat(`{"eventName":`, maxDepth+5)+`1`+strings.Repeat("}", maxDepth+6))
			}
			parts = append(parts, rec)
		}
		input := `{"Records":[` + strings.Join(parts, ",") + `]}`
		failAt := -1
		if rng.IntN(4) == 0 {
			// The file breaks inside its last record (bad byte or truncation).
			failAt = len(recs) - 1
			cut := strings.LastIndex(input, recs[failAt]) + len(recs[failAt])/2
			if rng.IntN(2) == 0 {
				input = input[:cut]
			} else {
				input = input[:cut] + "\x01" + input[cut:]
			}
		}
		var src io.Reader = strings.NewReader(input)
		switch rng.IntN(3) {
		case 0:
			src = iotest.HalfReader(src)
		case 1:
			src = iotest.OneByteReader(src)
		}
		r.Reset(src)
		for i := 0; ; i++ {
			lr := plog.NewLogRecord()
			var f mapping.Fields
			f.WantPayload = true
			_, err := r.Read(lr.Body().SetEmptyMap(), &f)
			if i == tooDeep {
				var re *RecordError
				require.ErrorAs(t, err, &re, "file %d: the record too deep is skipped", file)
				i--
				tooDeep = -1
				continue
			}
			if i == failAt {
				require.Error(t, err, "file %d record %d must fail", file, i)
				require.NotErrorIs(t, err, io.EOF)
				break
			}
			if i == len(recs) {
				require.ErrorIs(t, err, io.EOF, "file %d", file)
				break
			}
			require.NoError(t, err, "file %d record %d", file, i)
			mapper.Apply(lr, &f, "a", "r")
			kept = append(kept, adv11Kept{where: fmt.Sprintf("file %d record %d", file, i), lr: lr, rec: recs[i]})
		}
	}
	runtime.GC()
	for _, k := range kept {
		want := refBuild(t, k.rec)
		require.Equal(t, dump(want), dump(k.lr.Body()), "%s changed after later reads", k.where)
		ref := plog.NewLogRecord()
		want.CopyTo(ref.Body())
		mapper.Map(ref, "a", "r")
		require.Equal(t, dump(attrs(ref)), dump(attrs(k.lr)), "%s: attributes", k.where)
	}
}

// TestAdv11ConcurrentReadersAndConsumers: four readers (one per worker, as
// the receiver runs them) each hand every body to a consumer goroutine
// that walks it while the reader goes on filling the same arena block and
// the same buffers. Run with -race: the consumers only read bytes the
// arena has handed out; the reader only writes bytes after them.
func TestAdv11ConcurrentReadersAndConsumers(t *testing.T) {
	const workers, files = 4, 30
	var wg sync.WaitGroup
	errs := make(chan error, workers*2)
	for w := range workers {
		rng := rand.New(rand.NewPCG(uint64(w), 77))
		var inputs [][]string
		for range files {
			var recs []string
			for range 1 + rng.IntN(5) {
				recs = append(recs, adv11Object(rng, 0))
			}
			inputs = append(inputs, recs)
		}
		out := make(chan adv11Kept, 8)
		wg.Go(func() {
			defer close(out)
			r := NewReader(nil, 0)
			for file, recs := range inputs {
				r.Reset(iotest.HalfReader(strings.NewReader(`{"Records":[` + strings.Join(recs, ",") + `]}`)))
				for i, rec := range recs {
					lr := plog.NewLogRecord()
					if _, err := r.Read(lr.Body().SetEmptyMap(), nil); err != nil {
						errs <- fmt.Errorf("worker %d file %d record %d: %w", w, file, i, err)
						return
					}
					out <- adv11Kept{where: fmt.Sprintf("worker %d file %d record %d", w, file, i), lr: lr, rec: rec}
				}
			}
		})
		wg.Go(func() {
			for k := range out {
				want := refBuild(t, k.rec)
				if got := dump(k.lr.Body()); got != dump(want) {
					errs <- fmt.Errorf("%s: body differs from encoding/json's", k.where)
					for range out {
					}
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestAdv11ArenaRetention measures what one string kept from a record
// pins: its arena block (16 KB), never more. It keeps one short value
// (an eventID, 36 bytes) of every 400 records of a long stream, drops
// the rest, and checks the heap still held per kept string. Before the
// arena (values up to 128 bytes were interned, longer ones had their own
// allocation) a kept value held only itself; with it, each holds at most
// one block.
func TestAdv11ArenaRetention(t *testing.T) {
	const records, every = 40000, 400
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	for i := range records {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventID":"%08d-0000-4000-8000-000000000000","eventName":"DescribeInstances","requestParameters":{"filter":"%s"}}`, i, strings.Repeat("f", 200+i%300))
	}
	b.WriteString(`]}`)
	input := b.String()

	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	var kept []string
	func() {
		r := NewReader(strings.NewReader(input), 0)
		for i := 0; ; i++ {
			m := pcommon.NewMap()
			if err := r.Next(m); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if i%every == 0 {
				v, _ := m.Get("eventID")
				kept = append(kept, v.Str())
			}
		}
	}()
	after := heap()
	perKept := (int64(after) - int64(before)) / int64(len(kept))
	t.Logf("%d kept strings of 36 bytes hold %d bytes of heap: %d bytes each (arena block %d)", len(kept), int64(after)-int64(before), perKept, arenaChunk)
	require.LessOrEqual(t, perKept, int64(arenaChunk+arenaChunk/4), "a kept string pins more than its arena block")
	for i, s := range kept {
		require.Equal(t, fmt.Sprintf("%08d-0000-4000-8000-000000000000", i*every), s)
	}
	runtime.KeepAlive(input)
}

// adv11Collider returns a name that is not name and takes the same slot
// of the interner (so that interning it replaces name there).
func adv11Collider(t *testing.T, name, prefix string) string {
	want := hashBytes([]byte(name)) & (internSlots - 1)
	for i := range 1 << 24 {
		c := prefix + strconv.Itoa(i)
		if c != name && hashBytes([]byte(c))&(internSlots-1) == want {
			return c
		}
	}
	t.Fatal("no collider found")
	return ""
}

// TestAdv11InternCollisionsKeepLookups: names of the mapping (eventName,
// eventSource, userIdentity.type, errorCode) alternate, record after
// record and inside one record, with names that take their slot of the
// interner, in the same places of the records (so that the predictions
// and the remembered lookups of the slot are those of the other name).
// Each record's attributes must be those the mapping takes from the
// body: a lookup remembered for the evicted name and applied to its
// collider would capture the collider's value as rpc.method.
func TestAdv11InternCollisionsKeepLookups(t *testing.T) {
	mapper := mapping.New(ctattr.DefaultNormalServices, true)
	pairs := [][2]string{}
	for _, n := range []string{"eventName", "eventSource", "type", "errorCode", "userIdentity", "arn"} {
		pairs = append(pairs, [2]string{n, adv11Collider(t, n, "c")})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	r := NewReader(nil, 0)
	var kept []adv11Kept
	for file := range 40 {
		var recs []string
		for range 20 {
			var b strings.Builder
			b.WriteString(`{"eventVersion":"1.08"`)
			for _, p := range pairs {
				name := p[rng.IntN(2)]
				if p[0] == "userIdentity" || p[0] == "type" || p[0] == "arn" {
					continue
				}
				fmt.Fprintf(&b, `,%q:%q`, name, "v-"+name)
			}
			ui := pairs[4][rng.IntN(2)]
			fmt.Fprintf(&b, `,%q:{%q:"IAMUser",%q:"arn:aws:iam::1:user/x",%q:"second"}`, ui, pairs[2][rng.IntN(2)], pairs[5][rng.IntN(2)], pairs[2][rng.IntN(2)])
			if rng.IntN(2) == 0 {
				fmt.Fprintf(&b, `,%q:"dup",%q:"dup2"`, pairs[0][1], pairs[0][0])
			}
			b.WriteString(`,"eventSource":"s3.amazonaws.com"}`)
			recs = append(recs, b.String())
		}
		r.Reset(strings.NewReader(`{"Records":[` + strings.Join(recs, ",") + `]}`))
		for i, rec := range recs {
			lr := plog.NewLogRecord()
			var f mapping.Fields
			_, err := r.Read(lr.Body().SetEmptyMap(), &f)
			require.NoError(t, err)
			mapper.Apply(lr, &f, "a", "r")
			kept = append(kept, adv11Kept{where: fmt.Sprintf("file %d record %d: %s", file, i, rec), lr: lr, rec: rec})
		}
	}
	for _, k := range kept {
		want := refBuild(t, k.rec)
		require.Equal(t, dump(want), dump(k.lr.Body()), k.where)
		ref := plog.NewLogRecord()
		want.CopyTo(ref.Body())
		mapper.Map(ref, "a", "r")
		require.Equal(t, dump(attrs(ref)), dump(attrs(k.lr)), k.where)
	}
}
