package icrec

import (
	"strconv"
	"strings"
)

// enumNames names the values 0..n-1 of an ICWS enumeration, which crosses
// the wire as its integer value.
type enumNames []string

func (n enumNames) name(v int) string {
	if v >= 0 && v < len(n) {
		return n[v]
	}
	return strconv.Itoa(v)
}

// parse accepts a value's integer or its name in any letter case, as
// manifests and command lines may give either.
func (n enumNames) parse(what, s string) (int, error) {
	s = strings.TrimSpace(s)
	if i, err := strconv.Atoi(s); err == nil {
		if i >= 0 && i < len(n) {
			return i, nil
		}
		return 0, Errorf(Invalid, IDInvalidProperty, "%s %d is out of range 0..%d", what, i, len(n)-1)
	}
	for i, name := range n {
		if strings.EqualFold(s, name) {
			return i, nil
		}
	}
	return 0, Errorf(Invalid, IDInvalidProperty, "%s %q is not one of %s", what, s, strings.Join(n, ", "))
}

// valid reports whether v is a defined value.
func (n enumNames) valid(v int) bool { return v >= 0 && v < len(n) }

// MediaType is the ICWS urn:inin.com:recordings:mediaType enumeration.
// (The Recorder's database numbers media differently; never mix the two.)
type MediaType int

const (
	MediaUnknown            MediaType = 0
	MediaCall               MediaType = 1
	MediaChat               MediaType = 2
	MediaChatTranscript     MediaType = 3
	MediaEmail              MediaType = 4
	MediaScreen             MediaType = 5
	MediaSocialConversation MediaType = 6
)

var mediaTypeNames = enumNames{"Unknown", "Call", "Chat", "ChatTranscript", "Email", "Screen", "SocialConversation"}

func (m MediaType) String() string { return mediaTypeNames.name(int(m)) }

// Valid reports whether m is a defined media type.
func (m MediaType) Valid() bool { return mediaTypeNames.valid(int(m)) }

// ParseMediaType accepts "4" or "Email".
func ParseMediaType(s string) (MediaType, error) {
	v, err := mediaTypeNames.parse("media type", s)
	return MediaType(v), err
}

// RecordingType is the ICWS urn:inin.com:recordings:recordingType enumeration.
type RecordingType int

const (
	RecordingUnknown       RecordingType = 0
	RecordingPolicyRelated RecordingType = 1
	RecordingSnippet       RecordingType = 2
)

var recordingTypeNames = enumNames{"Unknown", "PolicyRelated", "SnippetRecording"}

func (t RecordingType) String() string { return recordingTypeNames.name(int(t)) }

// Valid reports whether t is a defined recording type.
func (t RecordingType) Valid() bool { return recordingTypeNames.valid(int(t)) }

// ParseRecordingType accepts "2" or "SnippetRecording".
func ParseRecordingType(s string) (RecordingType, error) {
	v, err := recordingTypeNames.parse("recording type", s)
	return RecordingType(v), err
}

// CallType is the ICWS urn:inin.com:recordings:callType enumeration.
type CallType int

const (
	CallUnknown    CallType = 0
	CallExternal   CallType = 1
	CallIntercom   CallType = 2
	CallConference CallType = 3
)

var callTypeNames = enumNames{"Unknown", "External", "Intercom", "Conference"}

func (t CallType) String() string { return callTypeNames.name(int(t)) }

// Valid reports whether t is a defined call type.
func (t CallType) Valid() bool { return callTypeNames.valid(int(t)) }

// ParseCallType accepts "1" or "External".
func ParseCallType(s string) (CallType, error) {
	v, err := callTypeNames.parse("call type", s)
	return CallType(v), err
}

// Direction is the ICWS urn:inin.com:recordings:direction enumeration.
type Direction int

const (
	DirectionUnknown  Direction = 0
	DirectionInbound  Direction = 1
	DirectionOutbound Direction = 2
	DirectionIntercom Direction = 3
)

var directionNames = enumNames{"Unknown", "Inbound", "Outbound", "Intercom"}

func (d Direction) String() string { return directionNames.name(int(d)) }

// Valid reports whether d is a defined direction.
func (d Direction) Valid() bool { return directionNames.valid(int(d)) }

// ParseDirection accepts "1" or "Inbound".
func ParseDirection(s string) (Direction, error) {
	v, err := directionNames.parse("direction", s)
	return Direction(v), err
}
