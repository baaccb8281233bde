package clickhouse

import "context"

// MigrateTo and OrderFromTables let the external tests (which use
// synctest, itself importing this package) reach the unexported migrateTo
// and orderFromTables.
func MigrateTo(ctx context.Context, c *Client, last int) error { return c.migrateTo(ctx, last) }

var OrderFromTables = orderFromTables
