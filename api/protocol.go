package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// newRequestID makes a random request id: 16 hex digits.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestIDOf returns the client's X-Request-ID if it is sane (1 to 64
// printable ASCII bytes), else a new id.
func requestIDOf(r *http.Request) string {
	id := r.Header.Get("X-Request-ID")
	if id == "" || len(id) > 64 {
		return newRequestID()
	}
	for i := range len(id) {
		if id[i] < 0x21 || id[i] > 0x7e {
			return newRequestID()
		}
	}
	return id
}

// Unavailable writes a 503 in the API's error shape, with a request id
// (the client's X-Request-ID or a new one) in the body and the X-Request-ID
// header and Retry-After: 5. The start-up handler of `movierec serve` uses
// it for every route while the data loads, before New's router exists.
func Unavailable(w http.ResponseWriter, r *http.Request, msg string) {
	id := requestIDOf(r)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Request-ID", id)
	h.Set("Retry-After", "5")
	w.WriteHeader(http.StatusServiceUnavailable)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(errorBody{Error: msg, RequestID: id})
	}
}

// ProtocolErrors wraps ln so that the error responses net/http writes
// itself, before any handler runs, are in the API's error shape too: 431
// (request headers over http.Server.MaxHeaderBytes), 400 (a malformed
// request line or header, a missing Host) and 501 (an unsupported
// Transfer-Encoding). net/http writes those as one text/plain response
// with "Connection: close" straight to the connection; the wrapped
// connection recognises exactly that shape (a handler's response always
// has a Date header and sorted headers, so it never matches) and writes
// the same status as {"error": ..., "request_id": ...} with an
// X-Request-ID header instead. The request could not be read, so the id is
// always a new one, not the client's.
func ProtocolErrors(ln net.Listener) net.Listener { return protocolListener{ln} }

type protocolListener struct{ net.Listener }

func (l protocolListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &protocolConn{Conn: c}, nil
}

// protocolConn is a connection whose writes of net/http's own error
// responses are rewritten as JSON.
type protocolConn struct{ net.Conn }

// netHTTPErrorHeaders follow the status line of every error response that
// net/http's connection loop writes itself (net/http/server.go, conn.serve).
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c *protocolConn) Write(p []byte) (int, error) {
	if out, ok := rewriteProtocolError(p); ok {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// CloseWrite keeps net/http's half-close after a 431 working.
func (c *protocolConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps the connection's sendfile path for static files.
func (c *protocolConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// rewriteProtocolError returns p as a JSON error response if p is one of
// net/http's own error responses.
func rewriteProtocolError(p []byte) ([]byte, bool) {
	const proto = "HTTP/1.1 "
	if len(p) < len(proto)+3 || string(p[:len(proto)]) != proto {
		return nil, false
	}
	eol := bytes.IndexByte(p, '\r')
	if eol < 0 || !bytes.HasPrefix(p[eol:], []byte(netHTTPErrorHeaders)) {
		return nil, false
	}
	code, err := strconv.Atoi(string(p[len(proto) : len(proto)+3]))
	if err != nil || code < 400 {
		return nil, false
	}
	// The body is the status line again ("431 Request Header Fields Too
	// Large", "400 Bad Request: missing required Host header") or, for 501,
	// "Unsupported transfer encoding".
	msg := strings.TrimSpace(string(p[eol+len(netHTTPErrorHeaders):]))
	msg = strings.TrimSpace(strings.TrimPrefix(msg, strconv.Itoa(code)))
	if msg == "" {
		msg = http.StatusText(code)
	}
	id := newRequestID()
	body, _ := json.Marshal(errorBody{Error: msg, RequestID: id})
	var out bytes.Buffer
	out.WriteString(proto)
	out.WriteString(strconv.Itoa(code) + " " + http.StatusText(code))
	out.WriteString("\r\nContent-Type: application/json; charset=utf-8\r\nX-Request-ID: " + id)
	out.WriteString("\r\nContent-Length: " + strconv.Itoa(len(body)+1) + "\r\nConnection: close\r\n\r\n")
	out.Write(body)
	out.WriteByte('\n')
	return out.Bytes(), true
}
