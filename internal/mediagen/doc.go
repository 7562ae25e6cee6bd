// Package mediagen generates real media files for icrec's demo archive:
// the call audio, screen recordings, emails, chats and attachments that
// `icrec serve --demo` puts into an empty archive so that every API path
// has something genuine to serve, and that tests use as realistic input.
//
// Every generator is deterministic: its content comes from a
// *rand.Rand (math/rand/v2) or explicit parameters, and equal inputs
// give byte-identical output, so that a demo archive and test fixtures
// can be rebuilt at will. Every writer writes to an io.Writer and uses
// only the standard library.
//
// The output is meant to be opened by the tools a user already has, not
// just by this package:
//
//   - WriteWAV writes RIFF WAVE call audio, 8 kHz G.711 µ-law (with the
//     fact chunk compressed formats need) or 8/16 kHz 16-bit PCM, that
//     players, sox and ffmpeg accept. Signals are built from DTMF digits,
//     dial, ring-back and busy tones and speech-like syllables; CallAudio
//     assembles a whole call. ParseWAV is a strict validator.
//   - WriteAVI writes Motion-JPEG AVI 1.0 files laid out as ffmpeg's
//     muxer writes them, for ffmpeg, VLC and Windows players; NewDesktop
//     draws an agent's screen for it. ParseAVI checks the container and
//     decodes every frame, and a test runs ffprobe where it is installed.
//   - WritePDF writes PDF 1.4 text documents (invoices) with an exact
//     cross-reference table, which PDF readers open without repair
//     (a test runs pdftotext where it is installed); Chart and WritePNG
//     make PNG charts.
//   - WriteEmail writes RFC 5322 MIME messages with CRLF line endings,
//     alternative text and HTML bodies and base64 attachments, as mail
//     clients send them and net/mail reads them; NewEmail makes
//     contact-centre ones.
//   - WriteChatHTML, WriteChatJSON and WriteSocialJSON write chat
//     transcripts and social media conversations; NewChat and
//     NewSocialConversation make their content.
//
// Text content comes from small built-in word lists on contact-centre
// themes (billing, password resets, deliveries, plan changes). Names and
// some subjects and file names are deliberately not ASCII, and some
// messages contain <, > and &, so that encoders and indexers downstream
// are exercised by the demo data itself.
package mediagen
