package httpapi

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/archive"
)

// handleExportURI answers GET .../recordings/{recordingId}/export-uri with a
// self-authorising link. The checks run in the order ICWS clients expect:
// session (done before this handler), recording, rights, attachmentId.
func handleExportURI(log *slog.Logger, base string, recordings *archive.Service) http.Handler {
	base = strings.TrimRight(base, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := icrec.SessionFromContext(r.Context())
		att, qerr := queryParam(r, "attachmentId")
		ex, err := recordings.IssueExport(r.Context(), sess, r.PathValue("recordingId"), archive.Parsed[[]string]{Value: att, Err: qerr}, info(r).clientAddr)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		// The last segment names the file for clients that save a URL
		// under its last segment; the server ignores it.
		uri := base + "/export/" + string(ex.Token) + "/" + extValue(ex.FileName)
		encode(w, r, log, http.StatusOK, icws.ExportURIResponse{URI: uri})
	})
}

// handleAttributes answers GET .../recordings/{recordingId}/attributes.
func handleAttributes(log *slog.Logger, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attrs, err := recordings.Attributes(r.Context(), icrec.SessionFromContext(r.Context()), r.PathValue("recordingId"), info(r).clientAddr)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		encode(w, r, log, http.StatusOK, icws.FromAttributes(attrs))
	})
}

// handleMediaDetails answers GET .../recordings/{recordingId}/media-details.
func handleMediaDetails(log *slog.Logger, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, err := recordings.MediaDetails(r.Context(), icrec.SessionFromContext(r.Context()), r.PathValue("recordingId"), info(r).clientAddr)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		encode(w, r, log, http.StatusOK, icws.FromRecording(rec))
	})
}

// handleSetAttributes answers PUT .../attributes with 204. A body too
// large to read is refused at once; one that does not parse is reported
// after the recording and the right are checked (archive.Parsed).
func handleSetAttributes(log *slog.Logger, maxBody int64, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := readBody(w, r, maxBody)
		if err == nil {
			var in archive.Parsed[[]icrec.Attribute]
			in.Value, in.Err = icws.ParseAttributeMap(b)
			err = recordings.SetAttributes(r.Context(), icrec.SessionFromContext(r.Context()), r.PathValue("recordingId"), in, info(r).clientAddr)
		}
		noContent(w, r, log, err)
	})
}

// handleDeleteAttribute answers DELETE .../attributes?attributeName= with
// 204, whether or not the recording had the attribute.
func handleDeleteAttribute(log *slog.Logger, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in archive.Parsed[[]string]
		in.Value, in.Err = queryParam(r, "attributeName")
		err := recordings.DeleteAttribute(r.Context(), icrec.SessionFromContext(r.Context()), r.PathValue("recordingId"), in, info(r).clientAddr)
		noContent(w, r, log, err)
	})
}

// handleTags answers GET .../tags.
func handleTags(log *slog.Logger, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tags, err := recordings.Tags(r.Context(), icrec.SessionFromContext(r.Context()), r.PathValue("recordingId"), info(r).clientAddr)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if tags == nil {
			tags = []string{}
		}
		encode(w, r, log, http.StatusOK, icws.TagList{Tags: tags})
	})
}

// handleAddTags answers PUT .../tags with 204.
func handleAddTags(log *slog.Logger, maxBody int64, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := readBody(w, r, maxBody)
		if err == nil {
			var in archive.Parsed[[]string]
			in.Value, in.Err = icws.ParseTagList(b)
			err = recordings.AddTags(r.Context(), icrec.SessionFromContext(r.Context()), r.PathValue("recordingId"), in, info(r).clientAddr)
		}
		noContent(w, r, log, err)
	})
}

// handleDeleteTag answers DELETE .../tags?tag= with 204, whether or not
// the recording had the tag.
func handleDeleteTag(log *slog.Logger, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in archive.Parsed[[]string]
		in.Value, in.Err = queryParam(r, "tag")
		err := recordings.DeleteTag(r.Context(), icrec.SessionFromContext(r.Context()), r.PathValue("recordingId"), in, info(r).clientAddr)
		noContent(w, r, log, err)
	})
}

// handleRetentionExpiration answers POST .../retention-expiration with 204.
func handleRetentionExpiration(log *slog.Logger, maxBody int64, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := readBody(w, r, maxBody)
		if err == nil {
			var in archive.Parsed[*time.Time]
			when, given, perr := icws.ParseRetentionExpiration(b)
			if in.Err = perr; given {
				in.Value = &when
			}
			err = recordings.SetRetention(r.Context(), icrec.SessionFromContext(r.Context()), r.PathValue("recordingId"), in, info(r).clientAddr)
		}
		noContent(w, r, log, err)
	})
}

// handleNoStation answers the station-audio calls: icrec has no telephone
// stations, and ICWS answers a session without one so.
func handleNoStation(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, log, icrec.Errorf(icrec.Invalid, icrec.IDNoStation,
			"This session has no station: icrec plays recordings through export and playback links, not to telephones."))
	})
}

// noContent answers 204, or the error.
func noContent(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if err != nil {
		writeError(w, r, log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handlePlaybackURI answers GET .../recordings/{recordingId}/playback-uri:
// a link served inline, for a player, with the timeline and media-details.
func handlePlaybackURI(log *slog.Logger, base string, recordings *archive.Service) http.Handler {
	base = strings.TrimRight(base, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex, err := recordings.IssuePlayback(r.Context(), icrec.SessionFromContext(r.Context()), r.PathValue("recordingId"), info(r).clientAddr)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		encode(w, r, log, http.StatusOK, icws.PlaybackURIResponse{
			URI:          base + "/export/" + string(ex.Token) + "/" + extValue(ex.FileName),
			TimelineXML:  icws.TimelineXML(ex.Recording),
			MediaDetails: icws.FromRecording(ex.Recording),
		})
	})
}

// handleSendAsEmail answers PUT .../recordings/{recordingId}/send-as-email
// with 204 once the mail server has taken the message.
func handleSendAsEmail(log *slog.Logger, maxBody int64, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := readBody(w, r, maxBody)
		if err == nil {
			var in archive.Parsed[icrec.Email]
			in.Value, in.Err = icws.ParseEmailParameters(b)
			err = recordings.SendAsEmail(r.Context(), icrec.SessionFromContext(r.Context()), []string{r.PathValue("recordingId")}, in, info(r).clientAddr)
		}
		noContent(w, r, log, err)
	})
}

// handleSendManyAsEmail answers PUT .../recordings/send-as-email: several
// recordings in one message.
func handleSendManyAsEmail(log *slog.Logger, maxBody int64, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := readBody(w, r, maxBody)
		if err == nil {
			var ids []string
			var m icrec.Email
			if ids, m, err = icws.ParseRecordingsEmail(b); err == nil {
				if len(ids) > maxEmailRecordings {
					err = icrec.InvalidProperty("recordings.recordingIds", "%d recordings are named; one email carries at most %d.", len(ids), maxEmailRecordings)
				} else {
					// The recordings come from the body, so a body that
					// does not parse names none to check first.
					err = recordings.SendAsEmail(r.Context(), icrec.SessionFromContext(r.Context()), ids, archive.Parsed[icrec.Email]{Value: m}, info(r).clientAddr)
				}
			}
		}
		noContent(w, r, log, err)
	})
}

// maxEmailRecordings bounds one batch send-as-email.
const maxEmailRecordings = 100
