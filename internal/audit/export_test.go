package audit

// Queued returns the number of events waiting for l's writer, so that
// tests can tell when the events they sent are in the queue.
func Queued(l *Log) int { return len(l.queue) }
