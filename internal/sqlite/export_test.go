package sqlite

import "context"

// Pragma returns the value of PRAGMA name on a connection of the writer
// pool, or of the reader pool if reader is set, so that tests can check the
// settings each connection actually runs with.
func Pragma(ctx context.Context, d *DB, reader bool, name string) (string, error) {
	db := d.w
	if reader {
		db = d.r
	}
	var v string
	err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}
