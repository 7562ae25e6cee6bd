package fsblob

// WithoutRenameat2 makes the store move blobs into place with link(2), as
// it does on file systems that refuse RENAME_NOREPLACE, so that tests can
// run that path on any machine.
func WithoutRenameat2() Option { return func(o *options) { o.noRenameat2 = true } }

// WithoutTmpfile makes the store stage Puts in .tmp, as it does where the
// file system has no O_TMPFILE or /proc is not mounted.
func WithoutTmpfile() Option { return func(o *options) { o.noTmpfile = true } }

// Tmpfile reports whether Puts stage their content in unnamed files.
func (s *Store) Tmpfile() bool { return s.tmpfile }

// Batch reports whether Sync can vouch for PutUnsynced.
func (s *Store) Batch() bool { return s.batch }
