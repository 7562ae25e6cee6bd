package icws

import "example.com/icrec"

// TypeConnectionStateChangeMessage is the __type of the message that tells a
// client its session changed state.
const TypeConnectionStateChangeMessage = "urn:inin.com:connection:connectionStateChangeMessage"

// ConnectionStateChangeMessage reaches a session's message queue, and its
// open event streams, when the server ends the session.
type ConnectionStateChangeMessage struct {
	Type                    string `json:"__type"`
	IsDelta                 bool   `json:"isDelta"`
	PreviousConnectionState int    `json:"previousConnectionState"`
	NewConnectionState      int    `json:"newConnectionState"`
	Reason                  string `json:"reason"`
	ShouldReconnect         bool   `json:"shouldReconnect"`
}

// SessionEndedMessage returns the message announcing that a session went
// down for the given reason.
func SessionEndedMessage(end icrec.SessionEnd) ConnectionStateChangeMessage {
	return ConnectionStateChangeMessage{
		Type:                    TypeConnectionStateChangeMessage,
		PreviousConnectionState: ConnectionStateUp,
		NewConnectionState:      ConnectionStateDown,
		Reason:                  end.Reason(),
		ShouldReconnect:         end.ShouldReconnect(),
	}
}
