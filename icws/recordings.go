package icws

import "example.com/icrec"

// ExportURIResponse is the 200 body of GET
// /icws/{sessionId}/recordings/{recordingId}/export-uri.
type ExportURIResponse struct {
	URI string `json:"uri"`
}

// AttributeMap is the body of GET (and PUT) .../recordings/{id}/attributes.
type AttributeMap struct {
	AttributesValues []AttributeItem `json:"attributesValues"`
}

// AttributeItem is one custom attribute.
type AttributeItem struct {
	AttributeName  string `json:"attributeName"`
	AttributeValue string `json:"attributeValue"`
}

// FromAttributes returns the wire form of a recording's attributes.
func FromAttributes(attrs []icrec.Attribute) AttributeMap {
	m := AttributeMap{AttributesValues: make([]AttributeItem, len(attrs))}
	for i, a := range attrs {
		m.AttributesValues[i] = AttributeItem{AttributeName: a.Name, AttributeValue: a.Value}
	}
	return m
}
