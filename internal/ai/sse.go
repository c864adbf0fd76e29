package ai

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxEventLine bounds one SSE line from the upstream: a longer line is an
// error, not an allocation the upstream controls.
const maxEventLine = 1 << 20

var errLineTooLong = errors.New("ai: upstream event line too long")

// sseReader reads an upstream event stream line by line. OpenAI-style
// streams put each event on one "data:" line; comment lines (": ...") are
// keep-alives.
type sseReader struct {
	r *bufio.Reader
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{r: bufio.NewReaderSize(r, 16<<10)} }

// event kinds returned by next.
const (
	evData = iota
	evComment
	evDone
)

// next returns the next data payload or comment, skipping blank lines and
// fields other than data. It returns io.EOF at the end of the stream.
func (s *sseReader) next() (kind int, payload []byte, err error) {
	for {
		line, err := s.line()
		if err != nil {
			return 0, nil, err
		}
		switch {
		case len(line) == 0:
			continue
		case line[0] == ':':
			return evComment, line, nil
		case bytes.HasPrefix(line, []byte("data:")):
			p := bytes.TrimPrefix(line[5:], []byte(" "))
			if bytes.Equal(p, []byte("[DONE]")) {
				return evDone, nil, nil
			}
			return evData, p, nil
		}
		// "event:", "id:", "retry:" lines carry nothing the relay needs.
	}
}

func (s *sseReader) line() ([]byte, error) {
	var buf []byte
	for {
		frag, isPrefix, err := s.r.ReadLine()
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				return buf, nil
			}
			return nil, err
		}
		if !isPrefix && buf == nil {
			return frag, nil
		}
		buf = append(buf, frag...)
		if len(buf) > maxEventLine {
			return nil, errLineTooLong
		}
		if !isPrefix {
			return buf, nil
		}
	}
}
