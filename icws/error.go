package icws

import (
	"errors"

	"example.com/icrec"
)

// Error type URNs. Property errors derive from the base error and add
// propertyName.
const (
	TypeError                = "urn:inin.com:common:error"
	TypeMissingPropertyError = "urn:inin.com:common:missingPropertyError"
	TypeInvalidPropertyError = "urn:inin.com:common:invalidPropertyError"
)

// Error is the body of every ICWS error response.
type Error struct {
	ErrorID      string `json:"errorId"`
	Message      string `json:"message"`
	ErrorCode    int    `json:"errorCode,omitempty"`
	Type         string `json:"__type"`
	PropertyName string `json:"propertyName,omitempty"`
	// AlternateHostList is sent with 503 notAcceptingConnections, where
	// clients require it (icws_golib panics without it): there it is an
	// array, possibly empty, and absent everywhere else.
	AlternateHostList []string `json:"alternateHostList,omitzero"`
}

// defaultIDs gives the errorId of an *icrec.Error that did not set one.
var defaultIDs = map[icrec.Kind]string{
	icrec.Internal:            icrec.IDInternal,
	icrec.Invalid:             icrec.IDInvalidProperty,
	icrec.Unauthenticated:     icrec.IDAuthenticationFailure,
	icrec.Forbidden:           icrec.IDAccessDenied,
	icrec.NotFound:            icrec.IDNotFound,
	icrec.MethodNotAllowed:    icrec.IDMethodNotAllowed,
	icrec.Conflict:            icrec.IDInvalidProperty,
	icrec.Gone:                icrec.IDGone,
	icrec.TooLarge:            icrec.IDTooLarge,
	icrec.Unavailable:         icrec.IDNotAcceptingConnections,
	icrec.RangeNotSatisfiable: icrec.IDInvalidProperty,
	icrec.Upstream:            icrec.IDInternal,
}

// FromError returns the wire form of err. Anything that is not an
// *icrec.Error, and every Internal error, becomes a generic internal error
// whose message reveals nothing.
func FromError(err error) Error {
	e, ok := errors.AsType[*icrec.Error](err)
	if !ok || e.Kind == icrec.Internal {
		return Error{ErrorID: icrec.IDInternal, Message: icrec.ErrorMessage(err), Type: TypeError}
	}
	out := Error{
		ErrorID:      e.ID,
		Message:      icrec.ErrorMessage(e),
		ErrorCode:    e.Code,
		Type:         TypeError,
		PropertyName: e.Property,
	}
	if out.ErrorID == "" {
		out.ErrorID = defaultIDs[e.Kind]
	}
	switch out.ErrorID {
	case icrec.IDMissingParameter:
		out.Type = TypeMissingPropertyError
	case icrec.IDInvalidProperty:
		if e.Property != "" {
			out.Type = TypeInvalidPropertyError
		}
	}
	return out
}
