package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// csvReader splits RFC 4180 CSV held in memory into records. Fields are
// slices of the input: a quoted field comes without its enclosing quotes but
// with any doubled quotes ("") still doubled (see unquote). It allocates
// nothing per record once fields has grown to the widest record.
//
// Unlike encoding/csv it does not skip empty lines (an empty line is a record
// with one empty field) and it leaves "\r\n" inside quoted fields as is.
type csvReader struct {
	data    []byte   // input not yet read
	line    int      // 1-based line number where data starts
	recLine int      // line number of the record last returned
	fields  [][]byte // fields of the record last returned
	quoted  []bool   // quoted[i]: fields[i] was enclosed in quotes
	comma   byte     // the field separator; 0 means ','
}

var (
	errBareQuote    = errors.New(`bare " in non-quoted field`)
	errUnterminated = errors.New(`quoted field has no closing "`)
)

// next reads the next record into r.fields. It returns false, nil at the end
// of the input. After an error the reader must not be used again.
func (r *csvReader) next() (bool, error) {
	d := r.data
	if len(d) == 0 {
		return false, nil
	}
	r.recLine = r.line
	comma := r.comma
	if comma == 0 {
		comma = ','
	}
	r.fields = r.fields[:0]
	r.quoted = r.quoted[:0]
	i := 0
	for {
		if i < len(d) && d[i] == '"' {
			start := i + 1
			j := start
			for {
				k := bytes.IndexByte(d[j:], '"')
				if k < 0 {
					return false, errUnterminated
				}
				j += k
				if j+1 < len(d) && d[j+1] == '"' {
					j += 2
					continue
				}
				break
			}
			field := d[start:j]
			r.line += bytes.Count(field, []byte("\n"))
			r.fields = append(r.fields, field)
			r.quoted = append(r.quoted, true)
			i = j + 1
			switch {
			case i == len(d):
				r.data = nil
				return true, nil
			case d[i] == comma:
				i++
				continue
			case d[i] == '\n':
				r.line++
				r.data = d[i+1:]
				return true, nil
			case d[i] == '\r' && (i+1 == len(d) || d[i+1] == '\n'):
				r.line++
				r.data = d[min(i+2, len(d)):]
				return true, nil
			}
			return false, fmt.Errorf("unexpected %q after closing quote of field %d", d[i], len(r.fields))
		}
		start := i
		for i < len(d) && d[i] != comma && d[i] != '\n' {
			if d[i] == '"' {
				return false, errBareQuote
			}
			i++
		}
		field := d[start:i]
		if i == len(d) || d[i] == '\n' {
			if n := len(field); n > 0 && field[n-1] == '\r' {
				field = field[:n-1]
			}
			r.fields = append(r.fields, field)
			r.quoted = append(r.quoted, false)
			if i == len(d) {
				r.data = nil
			} else {
				r.line++
				r.data = d[i+1:]
			}
			return true, nil
		}
		r.fields = append(r.fields, field) // ended by comma
		r.quoted = append(r.quoted, false)
		i++
	}
}

// isEmptyLine reports whether the record last read was an empty line.
func (r *csvReader) isEmptyLine() bool {
	return len(r.fields) == 1 && !r.quoted[0] && len(r.fields[0]) == 0
}

// str returns field i as a string, with doubled quotes of a quoted field
// undoubled.
func (r *csvReader) str(i int) string {
	s := string(r.fields[i])
	if r.quoted[i] && strings.Contains(s, `""`) {
		s = strings.ReplaceAll(s, `""`, `"`)
	}
	return s
}

// checkHeader reads the first record and checks that its fields are want.
// It returns a reason error, or nil.
func (r *csvReader) checkHeader(want ...string) error {
	ok, err := r.next()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("missing header row %q", strings.Join(want, ","))
	}
	match := len(r.fields) == len(want)
	for i := 0; match && i < len(want); i++ {
		match = string(r.fields[i]) == want[i]
	}
	if !match {
		return fmt.Errorf("header is %s, want %q", quoteList(r.fields), strings.Join(want, ","))
	}
	return nil
}
