package clickhouse

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The analyst queries live once, in queries/*.sql: the scorecard `baton
// report` prints runs them, docs/queries.md shows them (scripts/docqueries
// writes its SQL fences from these files, and a test fails when the two
// differ), and the sink's tests run them on a hand-worked fixture.
//
// A file is ClickHouse SQL (the subset both Debian's 18.16 and current
// releases run) with these placeholders:
//
//	{part:NAME}       alone on a line: queries/parts/NAME.sql, in place
//	{db}              baton's database
//	{in_window:COL}   COL (a DateTime with a COL_ms twin) is in the window
//	{since_ms}        the window's start, epoch milliseconds (inclusive)
//	{until_ms}        the window's end, epoch milliseconds (exclusive)
//	{since} {until}   the same bounds as whole seconds, inside toDateTime()
//
// Shown in the docs, {in_window:COL} and the _ms bounds are spelled out in
// {since} and {until}, which an analyst replaces with quoted times; run by
// baton, the window is exact to the millisecond (the _ms twins decide; the
// DateTime conditions only let ClickHouse skip partitions) and an open side
// has no bound.

//go:embed queries/*.sql queries/parts/*.sql
var queryFiles embed.FS

// QueryNames lists the queries of queries/*.sql, sorted.
func QueryNames() []string {
	paths, _ := fs.Glob(queryFiles, "queries/*.sql")
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.TrimSuffix(strings.TrimPrefix(p, "queries/"), ".sql")
	}
	sort.Strings(names)
	return names
}

// querySource is the text of queries/name.sql with its parts in place.
func querySource(name string) (string, error) {
	b, err := queryFiles.ReadFile("queries/" + name + ".sql")
	if err != nil {
		return "", fmt.Errorf("no query %q in sinks/clickhouse/queries", name)
	}
	return expandParts(name, string(b))
}

// partLine is a line that is only {part:NAME}: a definition several
// queries share (which orders were placed when, which ticket counts once
// where), written once in queries/parts/NAME.sql.
var partLine = regexp.MustCompile(`(?m)^([ \t]*)\{part:([a-z0-9_]+)\}[ \t]*$`)

// expandParts puts each part in place, indented as its line, without the
// part's leading comment lines (they explain the part to its reader; the
// docs explain the query).
func expandParts(name, q string) (string, error) {
	var failed error
	out := partLine.ReplaceAllStringFunc(q, func(line string) string {
		m := partLine.FindStringSubmatch(line)
		b, err := queryFiles.ReadFile("queries/parts/" + m[2] + ".sql")
		if err != nil {
			failed = fmt.Errorf("query %s: no part %q in sinks/clickhouse/queries/parts", name, m[2])
			return line
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if len(lines) == 0 && strings.HasPrefix(l, "--") {
				continue
			}
			lines = append(lines, m[1]+l)
		}
		return strings.Join(lines, "\n")
	})
	return out, failed
}

var inWindow = regexp.MustCompile(`\{in_window:([a-z_]+)\}`)

// DocQuery is queries/name.sql as docs/queries.md shows it: {db}, {since}
// and {until} left for the analyst to replace.
func DocQuery(name string) (string, error) {
	q, err := querySource(name)
	if err != nil {
		return "", err
	}
	q = inWindow.ReplaceAllString(q, "$1 >= toDateTime({since}) AND $1 < toDateTime({until})")
	return strings.NewReplacer(
		"{since_ms}", "toInt64(toUnixTimestamp(toDateTime({since}))) * 1000",
		"{until_ms}", "toInt64(toUnixTimestamp(toDateTime({until}))) * 1000",
	).Replace(q), nil
}

// Open sides of a window, as bounds: far enough that no stored time lies
// beyond, near enough that the queries' arithmetic (2 × since − until)
// stays inside Int64; and, in seconds, inside 18.16's DateTime.
const (
	openSinceMillis  = -(1 << 61)
	openUntilMillis  = 1 << 61
	openUntilSeconds = 4102444800 // 2100-01-01
)

// query is queries/name.sql bound to this client's database and window w.
func (c *Client) query(name string, w window) (string, error) {
	q, err := querySource(name)
	if err != nil {
		return "", err
	}
	q = inWindow.ReplaceAllStringFunc(q, func(m string) string {
		return w.on(inWindow.FindStringSubmatch(m)[1])
	})
	sinceMs, untilMs := int64(openSinceMillis), int64(openUntilMillis)
	sinceS, untilS := int64(0), int64(openUntilSeconds)
	if !w.since.IsZero() {
		sinceMs, sinceS = w.since.UnixMilli(), w.since.Unix()
	}
	if !w.until.IsZero() {
		untilMs, untilS = w.until.UnixMilli(), w.until.Unix()
	}
	return strings.NewReplacer(
		"{db}", c.db,
		"{since_ms}", strconv.FormatInt(sinceMs, 10),
		"{until_ms}", strconv.FormatInt(untilMs, 10),
		"{since}", strconv.FormatInt(sinceS, 10),
		"{until}", strconv.FormatInt(untilS, 10),
	).Replace(q), nil
}

// scanQuery runs queries/name.sql over w, calling row for each row.
func (c *Client) scanQuery(ctx context.Context, name string, w window, row func(scan func(...any) error) error) error {
	q, err := c.query(name, w)
	if err != nil {
		return err
	}
	return c.scanEach(ctx, "query "+name, q, row)
}

// BoundQuery is queries/name.sql as baton runs it over [since, until)
// (a zero bound is open): what the scorecard sends to ClickHouse.
func (c *Client) BoundQuery(name string, since, until time.Time) (string, error) {
	return c.query(name, window{since, until})
}

// docFence matches a query of docs/queries.md: a <!-- query: NAME -->
// marker line, then a ```sql fence holding the query.
var (
	docFence  = regexp.MustCompile("(?sm)^<!-- query: ([a-z0-9_]+) -->\\s*```sql\n(.*?)```")
	docMarker = regexp.MustCompile("(?m)^<!-- query:")
)

// DocFences returns the queries a docs page shows, by name; an unnamed or
// repeated marker is an error.
func DocFences(doc string) (map[string]string, error) {
	out := map[string]string{}
	for _, m := range docFence.FindAllStringSubmatch(doc, -1) {
		if _, dup := out[m[1]]; dup {
			return nil, fmt.Errorf("two queries named %s", m[1])
		}
		out[m[1]] = m[2]
	}
	if markers := len(docMarker.FindAllStringIndex(doc, -1)); markers != len(out) {
		return nil, fmt.Errorf("%d query markers but %d marked ```sql fences", markers, len(out))
	}
	return out, nil
}

// WriteDocFences returns doc with each marked fence holding its query as
// DocQuery shows it (scripts/docqueries, `make docs`).
func WriteDocFences(doc string) (string, error) {
	if _, err := DocFences(doc); err != nil {
		return "", err
	}
	var failed error
	out := docFence.ReplaceAllStringFunc(doc, func(m string) string {
		name := docFence.FindStringSubmatch(m)[1]
		q, err := DocQuery(name)
		if err != nil {
			failed = err
			return m
		}
		return "<!-- query: " + name + " -->\n```sql\n" + q + "```"
	})
	return out, failed
}
