package icws

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"example.com/icrec"
)

// unmarshalObject decodes a request body that must be one JSON object into
// v, turning every decoding failure into an *icrec.Error that says what is
// wrong and where, as ICWS 400 responses do.
func unmarshalObject(data []byte, v any) error {
	if len(data) == 0 {
		return icrec.MissingProperty("", "The request body is empty; a JSON object is required.")
	}
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return icrec.InvalidProperty("", "The request body is not valid JSON: %v (at byte %d).", se, se.Offset)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return icrec.InvalidProperty("", "The request body must be a JSON object, not a JSON %s.", te.Value)
		}
		return icrec.InvalidProperty(te.Field, "Property %s must be a JSON %s, not a %s.", te.Field, jsonKind(te.Type), te.Value)
	}
	return icrec.InvalidProperty("", "The request body cannot be decoded: %v.", err)
}

// jsonKind names a Go type the way a JSON author thinks of it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	default:
		return "number"
	}
}

// required returns the value of a required string property, or a
// missingRequiredParameter error naming it.
func required(name string, v *string) (string, error) {
	if v == nil {
		return "", icrec.MissingProperty(name, "Property %s is required.", name)
	}
	return *v, nil
}

// fmtTypes lists accepted __type values for an error message.
func fmtTypes(types ...string) string {
	s := ""
	for i, t := range types {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q", t)
	}
	return s
}
