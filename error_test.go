package icrec_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"example.com/icrec"
)

// genericMessage is what ErrorMessage shows instead of anything internal.
const genericMessage = "An internal error occurred."

func TestErrorError(t *testing.T) {
	cause := errors.New("disk on fire")
	for _, tc := range []struct {
		name string
		err  *icrec.Error
		want string
	}{
		{"MessageOnly", &icrec.Error{Kind: icrec.NotFound, Message: "No such recording."}, "No such recording."},
		{"CauseOnly", &icrec.Error{Kind: icrec.Internal, Err: cause}, "disk on fire"},
		{"MessageAndCause", &icrec.Error{Kind: icrec.Unavailable, Message: "cannot save", Err: cause}, "cannot save: disk on fire"},
		{"Empty", &icrec.Error{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := tc.err.Error(), tc.want; got != want {
				t.Errorf("Error()=%q, want %q", got, want)
			}
		})
	}
}

func TestErrorUnwrap(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		cause := errors.New("no rows")
		e := &icrec.Error{Kind: icrec.NotFound, Message: "No such recording.", Err: cause}
		wrapped := fmt.Errorf("sqlite: get recording %s: %w", "42", e)

		if got, want := e.Unwrap(), cause; got != want {
			t.Errorf("Unwrap()=%v, want %v", got, want)
		}
		if !errors.Is(wrapped, cause) {
			t.Errorf("errors.Is(%q, cause)=false, want true", wrapped)
		}
		if errors.Is(wrapped, errors.New("no rows")) {
			t.Errorf("errors.Is matched an unrelated error with the same text")
		}
		got, ok := errors.AsType[*icrec.Error](wrapped)
		if !ok || got != e {
			t.Errorf("errors.AsType=%p, %v, want %p, true", got, ok, e)
		}
	})
	t.Run("NoCause", func(t *testing.T) {
		e := &icrec.Error{Kind: icrec.NotFound, Message: "No such recording."}
		if got := e.Unwrap(); got != nil {
			t.Errorf("Unwrap()=%v, want nil", got)
		}
	})
}

func TestErrorKind(t *testing.T) {
	notFound := &icrec.Error{Kind: icrec.NotFound, Message: "No such recording."}
	for _, tc := range []struct {
		name string
		err  error
		want icrec.Kind
	}{
		{"Nil", nil, icrec.Internal},
		{"Plain", errors.New("boom"), icrec.Internal},
		{"Error", notFound, icrec.NotFound},
		{"Wrapped", fmt.Errorf("get: %w", notFound), icrec.NotFound},
		{"WrappedTwice", fmt.Errorf("handler: %w", fmt.Errorf("get: %w", notFound)), icrec.NotFound},
		{"Joined", errors.Join(errors.New("boom"), notFound), icrec.NotFound},
		{"InternalError", &icrec.Error{Kind: icrec.Internal, Message: "x"}, icrec.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := icrec.ErrorKind(tc.err), tc.want; got != want {
				t.Errorf("ErrorKind(%v)=%v, want %v", tc.err, got, want)
			}
		})
	}
}

func TestIsKind(t *testing.T) {
	conflict := fmt.Errorf("create: %w", &icrec.Error{Kind: icrec.Conflict, Message: "exists"})
	for _, tc := range []struct {
		name string
		err  error
		kind icrec.Kind
		want bool
	}{
		// nil is no error at all, not an Internal one.
		{"NilInternal", nil, icrec.Internal, false},
		{"NilNotFound", nil, icrec.NotFound, false},
		{"PlainInternal", errors.New("boom"), icrec.Internal, true},
		{"PlainNotFound", errors.New("boom"), icrec.NotFound, false},
		{"WrappedMatch", conflict, icrec.Conflict, true},
		{"WrappedOtherKind", conflict, icrec.NotFound, false},
		{"WrappedNotInternal", conflict, icrec.Internal, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := icrec.IsKind(tc.err, tc.kind), tc.want; got != want {
				t.Errorf("IsKind(%v, %v)=%v, want %v", tc.err, tc.kind, got, want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	t.Run("OKKindDefault", func(t *testing.T) {
		// A non-Internal error without a message says what its kind means,
		// never what its cause says.
		e := &icrec.Error{Kind: icrec.NotFound, Err: errors.New("sql: table recordings_v2 missing")}
		if got, want := icrec.ErrorMessage(e), "The resource does not exist."; got != want {
			t.Errorf("ErrorMessage=%q, want %q", got, want)
		}
		for k := icrec.Invalid; k <= icrec.HeaderTooLarge; k++ {
			got := icrec.ErrorMessage(&icrec.Error{Kind: k})
			if got == "" || got == icrec.ErrorMessage(nil) {
				t.Errorf("kind %v: ErrorMessage=%q, want its own default", k, got)
			}
		}
	})
	t.Run("OK", func(t *testing.T) {
		e := &icrec.Error{Kind: icrec.NotFound, Message: "No such recording.", Err: errors.New("sql: no rows in result set")}
		for _, err := range []error{e, fmt.Errorf("get: %w", e)} {
			if got, want := icrec.ErrorMessage(err), "No such recording."; got != want {
				t.Errorf("ErrorMessage(%q)=%q, want %q", err, got, want)
			}
		}
	})
	for _, tc := range []struct {
		name   string
		err    error
		secret string // text that must not appear
	}{
		{"ErrInternalHidden", &icrec.Error{Kind: icrec.Internal, Message: "password for db is pw123"}, "pw123"},
		{"ErrWrappedInternalHidden", fmt.Errorf("x: %w", &icrec.Error{Kind: icrec.Internal, Message: "host db7.internal down"}), "db7.internal"},
		{"ErrPlainHidden", errors.New("open /var/lib/icrec/meta.db: permission denied"), "/var/lib"},
		{"ErrWrappedPlainHidden", fmt.Errorf("load: %w", errors.New("token tok-9 rejected")), "tok-9"},
		{"ErrNil", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := icrec.ErrorMessage(tc.err)
			if want := genericMessage; got != want {
				t.Errorf("ErrorMessage=%q, want %q", got, want)
			}
			if tc.secret != "" && strings.Contains(got, tc.secret) {
				t.Errorf("ErrorMessage=%q reveals %q", got, tc.secret)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for _, tc := range []struct {
		kind icrec.Kind
		want string
	}{
		{icrec.Internal, "internal"},
		{icrec.Invalid, "invalid"},
		{icrec.Unauthenticated, "unauthenticated"},
		{icrec.Forbidden, "forbidden"},
		{icrec.NotFound, "not found"},
		{icrec.MethodNotAllowed, "method not allowed"},
		{icrec.Conflict, "conflict"},
		{icrec.Gone, "gone"},
		{icrec.TooLarge, "too large"},
		{icrec.Unavailable, "unavailable"},
		{icrec.RangeNotSatisfiable, "range not satisfiable"},
		{icrec.Upstream, "upstream"},
		{icrec.HeaderTooLarge, "header too large"},
		// The first value past the defined kinds: if a kind is added without
		// a name, or to the list above, this fails.
		{icrec.HeaderTooLarge + 1, "kind(13)"},
		{icrec.Kind(255), "kind(255)"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got, want := tc.kind.String(), tc.want; got != want {
				t.Errorf("Kind(%d).String()=%q, want %q", uint8(tc.kind), got, want)
			}
			if got, want := fmt.Sprint(tc.kind), tc.want; got != want {
				t.Errorf("fmt.Sprint(Kind(%d))=%q, want %q", uint8(tc.kind), got, want)
			}
		})
	}
}

func TestPropertyErrors(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		err                   *icrec.Error
		id, property, message string
	}{
		{
			"MissingProperty", icrec.MissingProperty("userID", "Property %s is required.", "userID"),
			icrec.IDMissingParameter, "userID", "Property userID is required.",
		},
		{
			"InvalidProperty", icrec.InvalidProperty("attachmentId", "%s must be an integer, not %q.", "attachmentId", "x"),
			icrec.IDInvalidProperty, "attachmentId", `attachmentId must be an integer, not "x".`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := tc.err.Kind, icrec.Invalid; got != want {
				t.Errorf("Kind=%v, want %v", got, want)
			}
			if got, want := tc.err.ID, tc.id; got != want {
				t.Errorf("ID=%q, want %q", got, want)
			}
			if got, want := tc.err.Property, tc.property; got != want {
				t.Errorf("Property=%q, want %q", got, want)
			}
			if got, want := tc.err.Message, tc.message; got != want {
				t.Errorf("Message=%q, want %q", got, want)
			}
			if tc.err.Err != nil {
				t.Errorf("Err=%v, want nil", tc.err.Err)
			}
			if got, want := icrec.ErrorKind(fmt.Errorf("parse: %w", tc.err)), icrec.Invalid; got != want {
				t.Errorf("ErrorKind(wrapped)=%v, want %v", got, want)
			}
		})
	}
}

func TestErrorf(t *testing.T) {
	e := icrec.Errorf(icrec.Gone, icrec.IDGone, "recording %d was purged", 7)
	if got, want := e.Kind, icrec.Gone; got != want {
		t.Errorf("Kind=%v, want %v", got, want)
	}
	if got, want := e.ID, icrec.IDGone; got != want {
		t.Errorf("ID=%q, want %q", got, want)
	}
	if got, want := e.Message, "recording 7 was purged"; got != want {
		t.Errorf("Message=%q, want %q", got, want)
	}
	if got, want := icrec.ErrorMessage(e), "recording 7 was purged"; got != want {
		t.Errorf("ErrorMessage=%q, want %q", got, want)
	}
}
