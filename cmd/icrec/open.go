package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/datadir"
	"example.com/icrec/internal/fsblob"
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

// app is an open data directory: the catalogue, the media, and the archive
// rules over them.
type app struct {
	dir     string
	db      *sqlite.DB
	blobs   *fsblob.Store
	archive *archive.Service
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
	return &app{dir: dir, db: db, blobs: blobs, archive: archive.New(db, db, blobs, log, time.Now)}, nil
}

func (a *app) Close() error {
	a.blobs.Close()
	return a.db.Close()
}

// withApp opens the data directory, runs f, and closes it.
func withApp(ctx context.Context, dir string, log *slog.Logger, f func(*app) error) error {
	a, err := openApp(ctx, dir, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return f(a)
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
