// Command docqueries writes the SQL fences of docs/queries.md from
// sinks/clickhouse/queries/*.sql (`make docs`): the page's prose stays as
// written, each <!-- query: NAME --> fence gets the file's query as
// analysts run it. sinks/clickhouse's tests fail while the two differ.
package main

import (
	"fmt"
	"os"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

func main() {
	path := "docs/queries.md"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	if err := rewrite(path); err != nil {
		fmt.Fprintln(os.Stderr, "docqueries:", err)
		os.Exit(1)
	}
}

func rewrite(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := clickhouse.WriteDocFences(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if out == string(b) {
		return nil
	}
	return os.WriteFile(path, []byte(out), 0o644)
}
