// Package sqlite stores users, sessions, the recording catalogue and the
// security policies in an embedded SQLite database, using the cgo-free
// modernc.org/sqlite driver so that release builds need no C toolchain.
//
// A DB holds two connection pools on one file. All writes go through a pool
// of exactly one connection, whose transactions begin IMMEDIATE: SQLite
// allows one writer at a time anyway, and taking the write lock up front
// means a transaction never fails half-way with SQLITE_BUSY when it upgrades
// a read lock. Reads go through a separate pool of read-only connections,
// which in WAL mode run beside the writer without waiting for it.
//
// The database is a compliance archive, so durability comes first: every
// commit is synced (synchronous=FULL) before it returns.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"example.com/icrec"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	_ icrec.UserStore      = (*DB)(nil)
	_ icrec.SessionStore   = (*DB)(nil)
	_ icrec.RecordingStore = (*DB)(nil)
	_ icrec.PolicyStore    = (*DB)(nil)
	_ icrec.AuditStore     = (*DB)(nil)
)

// readers is the size of the read pool. Reads are short, so a few
// connections let requests read side by side without holding many file
// handles and page caches.
const readers = 4

// busyTimeout is how long a connection waits for a lock that another process
// (an icrec command run beside the server) holds, before it fails.
const busyTimeout = 10 * time.Second

// DB is an open icrec database. It is safe for concurrent use.
type DB struct {
	w   *sql.DB // the single writer connection
	r   *sql.DB // read-only connections
	now func() time.Time

	// Prepared once: every authenticated request finds its session, and
	// many touch it. Preparing is most of the cost of such a small query.
	findSession  *sql.Stmt
	touchSession *sql.Stmt
	// Every export request finds its recording, and with it the
	// recording's children.
	findRecording *sql.Stmt
	findChildren  *sql.Stmt
	// Every rights check reads the change counters (see Versions).
	versions *sql.Stmt
	// Every audit append reads the end of the chain and inserts; the
	// driver would parse both anew in each transaction.
	lastAudit, insertAudit *sql.Stmt

	// readStmts holds the read queries prepared on first use (see
	// readStmt), by query text.
	readStmts sync.Map
	// readTxs admits readers-1 read transactions at a time, so that one
	// reader connection is always left for readStmt: a transaction that
	// prepares a statement on first use needs a second connection while
	// it holds its own, and with every connection held by such a
	// transaction none would ever come free.
	readTxs chan struct{}
}

// Open opens the database at path, creating the file if it does not exist,
// and brings its schema up to date. The directory must exist. now stamps the
// Created and Updated times of users; nil means time.Now.
//
// Open refuses a database that a newer icrec has migrated, rather than run
// against a schema it does not know.
func Open(ctx context.Context, path string, now func() time.Time) (_ *DB, err error) {
	if now == nil {
		now = time.Now
	}
	if err := createFile(path); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	d := &DB{now: now, readTxs: make(chan struct{}, readers-1)}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()

	// The writer comes first and alone: it switches the file to WAL and
	// migrates the schema before any reader can see a half-made database.
	if d.w, err = openPool(ctx, abs, 1, url.Values{"_txlock": {"immediate"}}); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: writer: %w", path, err)
	}
	if err := setWAL(ctx, d.w); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, d.w, now); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if d.r, err = openPool(ctx, abs, readers, url.Values{"_query_only": {"1"}}); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: readers: %w", path, err)
	}

	for _, p := range []struct {
		stmt  **sql.Stmt
		pool  *sql.DB
		query string
	}{
		{&d.findSession, d.r, findSessionSQL},
		{&d.touchSession, d.w, touchSessionSQL},
		{&d.findRecording, d.r, findRecordingSQL},
		{&d.findChildren, d.r, findChildrenSQL},
		{&d.versions, d.r, versionsSQL},
		{&d.lastAudit, d.w, lastAuditSQL},
		{&d.insertAudit, d.w, insertAuditSQL},
	} {
		if *p.stmt, err = p.pool.PrepareContext(ctx, p.query); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: prepare: %w", path, err)
		}
	}
	return d, nil
}

// createFile creates the database file with mode 0600 if it does not exist;
// SQLite would otherwise create it readable by everyone (0644 under the
// usual umask). SQLite gives the -wal and -shm files the mode of the
// database file. An existing file keeps its mode: an administrator may have
// chosen it.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// openPool opens a pool of n connections to the database at the absolute
// path abs, with the settings every connection shares plus extra.
func openPool(ctx context.Context, abs string, n int, extra url.Values) (*sql.DB, error) {
	// No _journal_mode: WAL is a property of the file, which setWAL sets.
	q := url.Values{
		"_busy_timeout": {fmt.Sprint(busyTimeout.Milliseconds())},
		"_foreign_keys": {"1"},
		"_synchronous":  {"FULL"},
	}
	for k, v := range extra {
		q[k] = v
	}
	// A file: URI, so that a path containing '?', '#' or '%' is escaped
	// rather than cut short where the driver looks for its parameters.
	// SQLite ignores the driver's parameters, which all start with '_'.
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(n)
	// database/sql keeps only two idle connections by default; closing and
	// reopening SQLite connections would throw away their page caches and
	// prepared statements.
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// setWAL switches the database file to WAL mode, which it then keeps for
// every connection. SQLite does not wait (busy_timeout) for the lock that
// the switch takes, so when two processes open a new database at once, the
// one that finds it taken retries here, for as long as it would wait for
// any other lock.
func setWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil && mode != "wal" {
			// SQLite keeps the old mode, silently, where WAL is impossible
			// (some network file systems); readers would then block the
			// writer.
			return fmt.Errorf("journal mode is %q, not \"wal\"; is the file on a network file system?", mode)
		}
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("set WAL mode: %w", err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("set WAL mode: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// isBusy reports whether err is SQLITE_BUSY, or one of its extended codes.
func isBusy(err error) bool {
	e, ok := errors.AsType[*sqlite.Error](err)
	return ok && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Close closes the database, after the calls in progress have finished.
// Calls made after Close fail.
func (d *DB) Close() error {
	var errs []error
	for _, s := range []*sql.Stmt{d.findSession, d.touchSession, d.findRecording, d.findChildren, d.versions, d.lastAudit, d.insertAudit} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	for _, s := range d.readStmts.Range {
		errs = append(errs, s.(*sql.Stmt).Close())
	}
	// The writer closes last: the last connection to close checkpoints the
	// WAL into the database file.
	for _, db := range []*sql.DB{d.r, d.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// Ping checks that both pools can reach the database.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := d.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// querier is what the helpers shared by several methods need, so that they
// run inside a transaction or outside one alike.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// read runs f in a read-only transaction, so that it sees one consistent
// state of the database even across several queries.
func (d *DB) read(ctx context.Context, f func(tx *sql.Tx) error) error {
	select {
	case d.readTxs <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-d.readTxs }()
	tx, err := d.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return f(tx)
}

// readStmt returns query prepared on the reader pool, preparing it on
// first use, on a connection other than the caller's transaction's (see
// readTxs). The listings build their queries from a filter, so there are
// a few hundred at most; preparing one costs more than running it (SQLite
// parses and plans the children's five-way UNION ALL anew each time), so
// each is prepared once and kept until Close.
func (d *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := d.readStmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := d.r.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := d.readStmts.LoadOrStore(query, s); loaded {
		s.Close() // another call prepared it meanwhile
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// prepared returns tx as a querier whose queries are prepared once
// (readStmt), for the reads that every request makes with fixed SQL.
func (d *DB) prepared(tx *sql.Tx) querier { return preparedTx{d, tx} }

type preparedTx struct {
	d  *DB
	tx *sql.Tx
}

func (p preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.tx.ExecContext(ctx, query, args...)
}

func (p preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.d.query(ctx, p.tx, query, args...)
}

func (p preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := p.d.readStmt(ctx, query)
	if err != nil {
		// A Row carries its error to Scan; QueryRow on the transaction
		// yields the same error unprepared.
		return p.tx.QueryRowContext(ctx, query, args...)
	}
	return p.tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
}

// query runs the read query, prepared once (readStmt), in tx.
func (d *DB) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	s, err := d.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, s).QueryContext(ctx, args...)
}

// write runs f in a write transaction and commits if f succeeds.
func (d *DB) write(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// translate turns an error from the driver into the error the store
// contracts promise. op names the operation, for unexpected errors. what
// names the row the operation is about, as the caller knows it (`user
// "agent1"`, `session 123`); ref names the row that a foreign key of the new
// row refers to, and is empty where there is none. Errors that are already
// an *icrec.Error pass through unchanged.
func translate(err error, op, what, ref string) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*icrec.Error](err); ok {
		return err
	}
	var code int
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		code = e.Code()
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound(what, err)
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY && ref != "":
		return notFound(ref, err)
	case code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, code == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return &icrec.Error{Kind: icrec.Conflict, Message: what + " already exists", Err: err}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

func notFound(what string, err error) error {
	return &icrec.Error{Kind: icrec.NotFound, ID: icrec.IDNotFound, Message: what + " not found", Err: err}
}

// millis converts t to what the database stores. Stores keep milliseconds;
// the rest is dropped, not rounded, as time.Time.UnixMilli does.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis converts a stored time back.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// userWhat names a user in error messages as the caller spelled its id.
func userWhat(id string) string { return fmt.Sprintf("user %q", id) }

// mustAffect turns the result of a statement that changed no row into
// sql.ErrNoRows.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	return nil
}

// scanStrings reads the one text column of every row of a query, and
// closes the rows.
func scanStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
