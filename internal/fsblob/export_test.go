package fsblob

// WithoutRenameat2 makes the store move blobs into place with link(2), as
// it does on file systems that refuse RENAME_NOREPLACE, so that tests can
// run that path on any machine.
func WithoutRenameat2() Option { return func(o *options) { o.noRenameat2 = true } }
