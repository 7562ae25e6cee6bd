package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"time"
)

// Migrations are applied in lexical order of their file names, so names
// start with a zero-padded number. A released migration is never edited:
// databases that applied it would not see the change.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrate applies the migrations that db has not applied yet, each in its
// own transaction on the writer, so that a failed migration leaves the
// database as the previous one left it.
func migrate(ctx context.Context, db *sql.DB, now func() time.Time) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for i, n := range names {
		names[i] = n[len("migrations/"):]
	}
	slices.Sort(names)

	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (
		name       TEXT PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	applied, err := appliedMigrations(ctx, db)
	if err != nil {
		return err
	}
	for _, n := range applied {
		if _, ok := slices.BinarySearch(names, n); !ok {
			return fmt.Errorf("migrate: the database was written by a newer icrec: it has migration %q, which this icrec does not know; run a newer icrec", n)
		}
	}

	for _, n := range names {
		if err := applyMigration(ctx, db, n, now()); err != nil {
			return fmt.Errorf("migrate: %s: %w", n, err)
		}
	}
	return nil
}

func appliedMigrations(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM migrations ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return names, nil
}

// applyMigration applies the migration called name unless it is recorded
// as applied. The check runs inside the (IMMEDIATE) transaction, so that of
// two processes opening a new database at once only one applies it.
func applyMigration(ctx context.Context, db *sql.DB, name string, now time.Time) error {
	script, err := migrationFS.ReadFile("migrations/" + name)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM migrations WHERE name = ?", name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(script)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO migrations (name, applied_at) VALUES (?, ?)", name, millis(now)); err != nil {
		return err
	}
	return tx.Commit()
}
