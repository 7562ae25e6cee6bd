package sqlite

import (
	"context"
	"strings"
)

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

// The queries whose plans TestQueryPlans checks.
var (
	FindRecordingSQL       = findRecordingSQL
	FindChildrenSQL        = findChildrenSQL
	ListChildrenSQL        = listChildrenSQL
	RecordingByMediaKeySQL = recordingByMediaKeySQL
	RecordingQuery         = recordingQuery
	ListPoliciesSQL        = listPoliciesSQL
	ListPolicyChildrenSQL  = listPolicyChildrenSQL
)

// QueryPlan returns the steps of the plan of query on a reader connection,
// one a line, as EXPLAIN QUERY PLAN details them.
func QueryPlan(ctx context.Context, d *DB, query string, args ...any) (string, error) {
	rows, err := d.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			return "", err
		}
		b.WriteString(detail + "\n")
	}
	return b.String(), rows.Err()
}
