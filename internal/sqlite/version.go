package sqlite

import (
	"context"
	"fmt"

	"example.com/icrec"
)

var _ icrec.VersionStore = (*DB)(nil)

// versionsSQL reads both counters of 005_change_counters.sql in one row. A
// single statement is a read transaction of its own, so the two are of one
// instant.
const versionsSQL = `SELECT
	(SELECT n FROM change_counters WHERE name = 'rights'),
	(SELECT n FROM change_counters WHERE name = 'recordings')`

// Versions implements icrec.VersionStore. Every rights check calls it, so
// it is one statement prepared at Open, run outside an explicit
// transaction: BEGIN and ROLLBACK would be two more round trips through
// database/sql and the driver, for a statement that sees one instant
// anyway.
func (d *DB) Versions(ctx context.Context) (icrec.Versions, error) {
	var v icrec.Versions
	if err := d.versions.QueryRowContext(ctx).Scan(&v.Rights, &v.Recordings); err != nil {
		return icrec.Versions{}, fmt.Errorf("sqlite: read the change counters: %w", err)
	}
	return v, nil
}
