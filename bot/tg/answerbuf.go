package tg

import (
	"bytes"
	"io"
	"sync"
)

// answerBuffers holds the buffers Telegram's answers are read into. Every
// call's answer was read into a new slice (io.ReadAll, or a json.Decoder's
// growing buffer), and under load those were a tenth of all the bytes the
// bot allocated; an answer is only needed until it is decoded, so its
// buffer can serve the next one.
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledAnswer bounds the buffers kept: a rare huge answer (a full batch
// of long updates) is left to the collector instead of pinning its memory.
const maxPooledAnswer = 64 << 10

// readAnswer reads r whole into a pooled buffer. The caller must not keep
// the buffer's bytes after calling release.
func readAnswer(r io.Reader) (buf *bytes.Buffer, release func(), err error) {
	buf = answerBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	release = func() {
		if buf.Cap() <= maxPooledAnswer {
			answerBuffers.Put(buf)
		}
	}
	if _, err := buf.ReadFrom(r); err != nil {
		release()
		return nil, func() {}, err
	}
	return buf, release, nil
}
