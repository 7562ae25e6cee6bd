package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"example.com/icrec/internal/sqlite"
)

// dbFile is the embedded store's file inside the data directory.
const dbFile = "icrec.db"

// openStore creates the data directory if needed (private: it holds
// password hashes, keys and recordings) and opens the embedded store in it.
func openStore(ctx context.Context, dataDir string) (*sqlite.DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dataDir, dbFile), time.Now)
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dataDir, err)
	}
	return db, nil
}
