package icrec

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// AuditKind names what an audit event records.
type AuditKind string

// The audit events icrec writes.
const (
	AuditLogin        AuditKind = "login"
	AuditLoginFailed  AuditKind = "login.failed"
	AuditLogout       AuditKind = "logout"
	AuditExportIssued AuditKind = "export.issued"
	AuditDownload     AuditKind = "export.download"
	AuditDenied       AuditKind = "denied"
	AuditUserChange   AuditKind = "admin.user"
	AuditPolicyChange AuditKind = "admin.policy"
	AuditKeyChange    AuditKind = "admin.key"
	AuditImport       AuditKind = "admin.import"
	// AuditRecordingChange records an edit of a recording's attributes,
	// tags or retention through the API.
	AuditRecordingChange AuditKind = "recording.change"
	// AuditEmail records a recording sent by email, or an attempt that
	// failed.
	AuditEmail AuditKind = "recording.email"
	// AuditRetentionDelete records a recording that retention is about
	// to delete: written before the deletion, so that no recording goes
	// unrecorded.
	AuditRetentionDelete AuditKind = "retention.delete"
	// AuditHoldChange records a legal hold placed or released.
	AuditHoldChange AuditKind = "admin.hold"
)

// AuditEvent is one entry of the audit trail. Events form a hash chain:
// each one's Hash covers its fields and the previous event's Hash, so that
// deleting, altering or reordering events is detectable (VerifyAuditChain).
type AuditEvent struct {
	Seq        int64 // 1, 2, 3...: set by the store
	Time       time.Time
	Kind       AuditKind
	UserID     string // who acted, if known
	SessionID  string
	ClientAddr string
	// RecordingID and Attachment name the recording concerned, if any.
	RecordingID string
	Attachment  int
	// Outcome is "ok" or why it failed; Detail holds the rest, as JSON.
	Outcome  string
	Detail   string
	PrevHash []byte // set by the store
	Hash     []byte // set by the store
}

// ChainHash returns the hash of e after prev. Every store computes Hash
// with it, so that the chain means the same whatever the backend.
func (e *AuditEvent) ChainHash(prev []byte) []byte {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	num := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	field([]byte("icrec audit v1"))
	field(prev)
	num(e.Seq)
	num(e.Time.UnixMilli())
	for _, s := range []string{string(e.Kind), e.UserID, e.SessionID, e.ClientAddr, e.RecordingID} {
		field([]byte(s))
	}
	num(int64(e.Attachment))
	field([]byte(e.Outcome))
	field([]byte(e.Detail))
	return h.Sum(nil)
}

// AuditFilter selects audit events; nil fields do not filter. Since is
// inclusive and Until exclusive, as in RecordingFilter.
type AuditFilter struct {
	Since, Until *time.Time
	UserID       *string // ignoring case
	RecordingID  *string
	Kind         *AuditKind
	AfterSeq     int64 // events with Seq > AfterSeq
	Limit        int   // zero: no limit
}

// AuditStore keeps the audit trail. It only ever appends.
type AuditStore interface {
	// AppendAudit appends events in one transaction, in order, setting
	// each one's Seq, PrevHash and Hash (with ChainHash) after the last
	// event already stored. Times are kept to the millisecond.
	AppendAudit(ctx context.Context, events []*AuditEvent) error
	// FindAudit returns events in Seq order.
	FindAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
}

// Auditor records audit events. Record returns once the event is durable,
// so that nothing a client is told has happened goes unrecorded.
type Auditor interface {
	Record(ctx context.Context, e *AuditEvent) error
}
