package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/audit"
	"example.com/icrec/internal/auth"
	"example.com/icrec/internal/datadir"
	"example.com/icrec/internal/fsblob"
	"example.com/icrec/internal/passwd"
	"example.com/icrec/internal/sqlite"
)

// openStore creates the data directory if needed (private: it holds
// password hashes, keys and recordings) and opens the embedded store in it.
func openStore(ctx context.Context, dataDir string) (*sqlite.DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dataDir, datadir.DBFile), time.Now)
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dataDir, err)
	}
	return db, nil
}

// app is an open data directory: the catalogue, the media, the audit trail,
// and the archive rules over them.
type app struct {
	dir     string
	db      *sqlite.DB
	blobs   *fsblob.Store
	audit   *audit.Log
	archive *archive.Service
	log     *slog.Logger
}

func openApp(ctx context.Context, dir string, log *slog.Logger) (*app, error) {
	db, err := openStore(ctx, dir)
	if err != nil {
		return nil, err
	}
	blobs, err := fsblob.New(filepath.Join(dir, datadir.BlobsDir))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open media store in %s: %w", dir, err)
	}
	a := &app{dir: dir, db: db, blobs: blobs, audit: audit.New(db, log, time.Now), log: log}
	a.archive = a.newArchive(archive.Exports{})
	return a, nil
}

// newArchive returns the archive rules over a's stores, issuing export
// links as exports says.
func (a *app) newArchive(exports archive.Exports) *archive.Service {
	return archive.New(a.db, a.db, a.db, a.db, a.blobs, a.audit, exports, a.log, time.Now)
}

// users returns the user and session rules over a's store, auditing every
// change to the trail.
func (a *app) users(cfg auth.Config) (*auth.Service, error) {
	cfg.Audit = a.audit
	return auth.New(a.db, a.db, passwd.New(passwd.DefaultParams), cfg, a.log, time.Now)
}

// Close flushes the audit trail before the store closes under it.
func (a *app) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	aerr := a.audit.Close(ctx)
	a.blobs.Close()
	if err := a.db.Close(); err != nil {
		return err
	}
	if aerr != nil {
		return fmt.Errorf("audit trail: %w", aerr)
	}
	return nil
}

// withApp opens the data directory, runs f, and closes it. An audit event
// that could not be written fails the command, even if f succeeded.
func withApp(ctx context.Context, dir string, log *slog.Logger, f func(*app) error) (err error) {
	a, err := openApp(ctx, dir, log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := a.Close(); err == nil {
			err = cerr
		}
	}()
	return f(a)
}

// lockArchive takes the data directory's archive lock for a command that
// writes the archive (import, migrate, a retention sweep), and first
// cleans up what an interrupted one left, which only the lock holder may.
// The caller releases the lock.
func lockArchive(ctx context.Context, a *app) (*datadir.Lock, error) {
	lock, err := datadir.TryLock(a.dir)
	if err != nil {
		return nil, err
	}
	if _, err := a.archive.Recover(ctx); err != nil {
		lock.Release()
		return nil, fmt.Errorf("clean up after an interrupted import, migration or sweep: %w", err)
	}
	return lock, nil
}

// recoverLeftovers removes what a killed import left behind, if no import
// is running now; with one running, the cleanup waits for a later start.
func recoverLeftovers(ctx context.Context, a *app, log *slog.Logger) error {
	lock, err := datadir.TryLock(a.dir)
	if err != nil {
		log.Info("not checking for leftovers of interrupted imports now", "reason", err.Error())
		return nil
	}
	defer lock.Release()
	_, err = a.archive.Recover(ctx)
	return err
}
