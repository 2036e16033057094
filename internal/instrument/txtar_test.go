package instrument

import (
	"bytes"
	"strings"
)

// A tiny reader and writer of the txtar format (golang.org/x/tools/txtar):
// a comment, then files, each introduced by a line "-- NAME --". Twenty
// lines here instead of a dependency on x/tools for the tests.

type archive struct {
	comment []byte
	files   []archiveFile
}

type archiveFile struct {
	name string
	data []byte
}

// parseArchive parses a txtar archive.
func parseArchive(data []byte) *archive {
	a := &archive{}
	cur := &a.comment
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		if name, ok := archiveMarker(line); ok {
			a.files = append(a.files, archiveFile{name: name})
			cur = &a.files[len(a.files)-1].data
			continue
		}
		*cur = append(*cur, line...)
	}
	return a
}

// archiveMarker returns the file name of a "-- NAME --" line.
func archiveMarker(line []byte) (string, bool) {
	s := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
	if !strings.HasPrefix(s, "-- ") || !strings.HasSuffix(s, " --") || len(s) < 7 {
		return "", false
	}
	return strings.TrimSpace(s[3 : len(s)-3]), true
}

// format writes the archive; every non-empty part ends in a newline.
func (a *archive) format() []byte {
	var b bytes.Buffer
	b.Write(withNewline(a.comment))
	for _, f := range a.files {
		b.WriteString("-- " + f.name + " --\n")
		b.Write(withNewline(f.data))
	}
	return b.Bytes()
}

func withNewline(data []byte) []byte {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return append(bytes.Clone(data), '\n')
	}
	return data
}
