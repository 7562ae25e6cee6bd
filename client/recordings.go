package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"example.com/icrec/icws"
)

// Features returns the features the server implements and their versions.
// Connect asks for them at login; servers too old to include them there
// are asked with GET /icws/connection/features.
func (c *Client) Features(ctx context.Context) ([]icws.FeatureInfo, error) {
	c.mu.RLock()
	f := c.features
	c.mu.RUnlock()
	if f != nil {
		return slices.Clone(f), nil
	}
	var out icws.FeatureInfos
	if err := c.sessionless(ctx, "connection/features", &out, "GET features"); err != nil {
		return nil, err
	}
	if out.FeatureInfoList == nil {
		out.FeatureInfoList = []icws.FeatureInfo{}
	}
	c.mu.Lock()
	c.features = out.FeatureInfoList
	c.mu.Unlock()
	return slices.Clone(out.FeatureInfoList), nil
}

// FeatureVersion returns the version of one feature, 0 if the server does
// not have it. Feature ids compare ignoring case.
func (c *Client) FeatureVersion(ctx context.Context, id string) (int, error) {
	fs, err := c.Features(ctx)
	if err != nil {
		return 0, err
	}
	for _, f := range fs {
		if strings.EqualFold(f.FeatureID, id) {
			return f.Version, nil
		}
	}
	return 0, nil
}

// Version returns the server's product version.
func (c *Client) Version(ctx context.Context) (icws.VersionInfo, error) {
	c.mu.RLock()
	v := c.version
	c.mu.RUnlock()
	if v != nil {
		return *v, nil
	}
	var out icws.VersionInfo
	if err := c.sessionless(ctx, "connection/version", &out, "GET version"); err != nil {
		return icws.VersionInfo{}, err
	}
	c.mu.Lock()
	c.version = &out
	c.mu.Unlock()
	return out, nil
}

// sessionless GETs a resource below /icws/ that needs no session.
func (c *Client) sessionless(ctx context.Context, path string, out any, op string) error {
	for attempt := 0; ; attempt++ {
		c.mu.RLock()
		base := c.base
		c.mu.RUnlock()
		resp, err := c.send(ctx, http.MethodGet, base.JoinPath("icws").String()+"/"+path, nil, nil, false)
		if err != nil {
			err = &Error{Op: op, Err: err}
		} else {
			err = c.decode(resp, 0, out, op)
		}
		e, ok := err.(*Error)
		if err == nil || !ok || !e.Temporary() || attempt+1 >= c.retry.Attempts {
			return err
		}
		if err := c.backoff(ctx, attempt, e, op); err != nil {
			return err
		}
	}
}

// recordingPath is the session-relative path of a recording's resource.
// The id is escaped: it comes from files users wrote.
func recordingPath(id, resource string) string {
	return "recordings/" + url.PathEscape(id) + "/" + resource
}

// MediaDetails returns a recording's metadata (recordings feature 6).
func (c *Client) MediaDetails(ctx context.Context, recordingID string) (icws.MediaDetails, error) {
	var out icws.MediaDetails
	err := c.call(ctx, http.MethodGet, recordingPath(recordingID, "media-details"), nil, &out, "GET media-details of recording "+recordingID)
	return out, err
}

// ExportURI returns a URI from which the recording's primary media
// (attachment 0) or its email attachment 1…n can be downloaded. The URI
// authorises whoever holds it until it expires: keep it out of logs.
func (c *Client) ExportURI(ctx context.Context, recordingID string, attachment int) (string, error) {
	var q url.Values
	op := "GET export-uri of recording " + recordingID
	if attachment > 0 {
		q = url.Values{"attachmentId": {strconv.Itoa(attachment)}}
		op += fmt.Sprintf(" attachment %d", attachment)
	}
	var out icws.ExportURIResponse
	if err := c.call(ctx, http.MethodGet, recordingPath(recordingID, "export-uri"), q, &out, op); err != nil {
		return "", err
	}
	u, err := url.Parse(out.URI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &Error{Op: op, Status: http.StatusOK, ICWS: icws.Error{Message: "the server's uri is not an absolute http or https URL"}}
	}
	return out.URI, nil
}

// Attributes returns a recording's custom attributes in the server's order.
func (c *Client) Attributes(ctx context.Context, recordingID string) ([]icws.AttributeItem, error) {
	var out icws.AttributeMap
	if err := c.call(ctx, http.MethodGet, recordingPath(recordingID, "attributes"), nil, &out, "GET attributes of recording "+recordingID); err != nil {
		return nil, err
	}
	if out.AttributesValues == nil {
		out.AttributesValues = []icws.AttributeItem{}
	}
	return out.AttributesValues, nil
}

// Tags returns a recording's tags.
func (c *Client) Tags(ctx context.Context, recordingID string) ([]string, error) {
	var out icws.TagList
	if err := c.call(ctx, http.MethodGet, recordingPath(recordingID, "tags"), nil, &out, "GET tags of recording "+recordingID); err != nil {
		return nil, err
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	return out.Tags, nil
}
