package icrec

import (
	"math/bits"
	"strings"
)

// Rights is the ICWS urn:inin.com:recordings:recordingRights bit set: what a
// user may do with one recording.
type Rights uint32

const (
	ReadAccess                Rights = 1
	WriteAccess               Rights = 2
	CanPlay                   Rights = 4
	CanExportOrArchive        Rights = 8
	CanEmail                  Rights = 16
	CanScore                  Rights = 32
	CanViewParticipant        Rights = 64
	CanDeleteRecording        Rights = 128
	CanViewAuditTrail         Rights = 4096
	CanViewScorecards         Rights = 8192
	CanViewCustomAttributes   Rights = 16384
	CanModifyCustomAttributes Rights = 32768
	CanViewTags               Rights = 65536
	CanModifyTags             Rights = 131072
	CanAddBookmarks           Rights = 262144
	CanViewSignatureComments  Rights = 524288
	CanDeleteScorecards       Rights = 1048576
	CanAssignQuestionnaires   Rights = 2097152

	// AllRights is every right a policy can grant. (ICWS's
	// EncumberedRecording flag describes a recording, not a right.)
	AllRights = ReadAccess | WriteAccess | CanPlay | CanExportOrArchive | CanEmail | CanScore |
		CanViewParticipant | CanDeleteRecording | CanViewAuditTrail | CanViewScorecards |
		CanViewCustomAttributes | CanModifyCustomAttributes | CanViewTags | CanModifyTags |
		CanAddBookmarks | CanViewSignatureComments | CanDeleteScorecards | CanAssignQuestionnaires
)

// rightNames are the names the command line uses, in flag order.
var rightNames = []struct {
	r    Rights
	name string
}{
	{ReadAccess, "read"},
	{WriteAccess, "write"},
	{CanPlay, "play"},
	{CanExportOrArchive, "export"},
	{CanEmail, "email"},
	{CanScore, "score"},
	{CanViewParticipant, "view-participant"},
	{CanDeleteRecording, "delete"},
	{CanViewAuditTrail, "view-audit-trail"},
	{CanViewScorecards, "view-scorecards"},
	{CanViewCustomAttributes, "view-attributes"},
	{CanModifyCustomAttributes, "modify-attributes"},
	{CanViewTags, "view-tags"},
	{CanModifyTags, "modify-tags"},
	{CanAddBookmarks, "add-bookmarks"},
	{CanViewSignatureComments, "view-signature-comments"},
	{CanDeleteScorecards, "delete-scorecards"},
	{CanAssignQuestionnaires, "assign-questionnaires"},
}

// RightNames lists every right's name, in bit order, for help texts.
func RightNames() []string {
	names := make([]string, len(rightNames))
	for i, rn := range rightNames {
		names[i] = rn.name
	}
	return names
}

// ParseRights parses a comma-separated list of right names ("play,export"),
// or "all". Names ignore case.
func ParseRights(s string) (Rights, error) {
	var r Rights
	for part := range strings.SplitSeq(s, ",") {
		name := strings.TrimSpace(part)
		if strings.EqualFold(name, "all") {
			r |= AllRights
			continue
		}
		found := false
		for _, rn := range rightNames {
			if strings.EqualFold(name, rn.name) {
				r |= rn.r
				found = true
				break
			}
		}
		if !found {
			return 0, Errorf(Invalid, IDInvalidProperty, "%q is not a right; use all or any of %s", name, strings.Join(RightNames(), ", "))
		}
	}
	return r, nil
}

// Has reports whether r includes every right in want.
func (r Rights) Has(want Rights) bool { return r&want == want }

// Each returns the single rights in r, in bit order.
func (r Rights) Each() []Rights {
	out := make([]Rights, 0, bits.OnesCount32(uint32(r)))
	for _, rn := range rightNames {
		if r&rn.r != 0 {
			out = append(out, rn.r)
		}
	}
	return out
}

// String names the rights: "read,play,export", "all" or "none".
func (r Rights) String() string {
	switch r & AllRights {
	case 0:
		return "none"
	case AllRights:
		return "all"
	}
	var names []string
	for _, rn := range rightNames {
		if r&rn.r != 0 {
			names = append(names, rn.name)
		}
	}
	return strings.Join(names, ",")
}
