package restjson

import (
	"bytes"
	"encoding/json"
	"net"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/localcases/localcases/api"
)

// Listener wraps ln so that the answers net/http writes by itself, before
// any handler runs (431 for a request line or headers over the limit, 400
// for a request it cannot parse, 501 for an unknown transfer encoding), go
// out in the service's error shape, with X-Amzn-ErrorType, a request ID and
// a JSON body, instead of as plain text that an SDK cannot type. requestID
// makes the IDs; nil means the Handler default.
//
// net/http writes those answers straight to the connection, in one write
// whose headers are exactly serverErrorHeaders; nothing a handler sends can
// look like that, because a handler's headers are sorted (Connection before
// Content-Type) and carry a Date.
func Listener(ln net.Listener, requestID func() string) net.Listener {
	if requestID == nil {
		requestID = uuid.NewString
	}
	return &errorListener{Listener: ln, requestID: requestID}
}

const serverErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

type errorListener struct {
	net.Listener
	requestID func() string
}

func (l *errorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &errorConn{Conn: c, requestID: l.requestID}, nil
}

type errorConn struct {
	net.Conn
	requestID func() string
}

// net/http half-closes a connection through this interface.
var _ interface{ CloseWrite() error } = (*errorConn)(nil)

// CloseWrite passes through to the TCP connection: after a 431, net/http
// half-closes and waits so that a client still sending its huge headers
// reads the answer instead of a reset.
func (c *errorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *errorConn) Write(p []byte) (int, error) {
	if out, ok := c.rewrite(p); ok {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// rewrite turns net/http's own plain-text error into the service's shape.
func (c *errorConn) rewrite(p []byte) ([]byte, bool) {
	if !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) || len(p) < 12 {
		return nil, false
	}
	line, rest, ok := bytes.Cut(p, []byte("\r\n"))
	if !ok || !bytes.HasPrefix(rest, []byte(serverErrorHeaders[2:])) {
		return nil, false
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil || status < 400 {
		return nil, false
	}
	text := string(rest[len(serverErrorHeaders)-2:])
	code := api.CodeSerializationException
	switch status {
	case 431:
		code = api.CodeRequestHeadersTooLarge
	case 501:
		code = api.CodeNotImplementedException
	}
	body, _ := json.Marshal(errorBody{Type: string(code), Message: serverErrorMessage(status, text)})
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + strings.TrimSpace(reasonOf(string(line[9:]))) + "\r\n")
	b.WriteString("Content-Type: application/json\r\n")
	b.WriteString("X-Amzn-ErrorType: " + string(code) + "\r\n")
	b.WriteString("x-amzn-RequestId: " + c.requestID() + "\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	return b.Bytes(), true
}

// reasonOf keeps the standard reason phrase of "431 Request Header Fields
// Too Large" or "400 Bad Request: detail".
func reasonOf(statusText string) string {
	r := statusText[3:]
	if i := strings.IndexByte(r, ':'); i >= 0 {
		r = r[:i]
	}
	return r
}

func serverErrorMessage(status int, text string) string {
	switch status {
	case 431:
		return "The request line and headers exceed the server's limit."
	case 501:
		return "The request uses a transfer encoding the server does not support."
	}
	detail := text
	if i := strings.IndexByte(detail, ':'); i >= 0 {
		detail = strings.TrimSpace(detail[i+1:])
	} else {
		detail = "malformed request"
	}
	return "The request could not be parsed: " + api.ClipTo(strings.ToValidUTF8(detail, ""), 200) + "."
}
