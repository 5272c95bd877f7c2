package service

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// A page token is the listing it belongs to and the position in it, signed
// with the server's key. The signature is what keeps a client from editing a
// token into another listing or another position; binding the listing key
// (operation, scope, and a digest of the query) is what keeps a valid token
// of one listing from being replayed against another.
type pageToken struct {
	Listing string `json:"l"`
	After   int64  `json:"a,omitempty"` // sequence number of the last item returned
	Offset  int    `json:"o,omitempty"` // index into a sorted result, for searches
}

const maxTokenLen = 9000 // the model's bound on nextToken

// tokenMAC signs a token payload with the server's key. kind separates
// the kinds of token ("" for page tokens, "cursor\x00" for cursors), so one
// never verifies as another even though they share the key and JSON field
// names.
func (s *Service) tokenMAC(kind string, payload []byte) []byte {
	mac := hmac.New(sha256.New, s.tokenKey)
	mac.Write([]byte(kind))
	mac.Write(payload)
	return mac.Sum(nil)[:16]
}

// sealToken encodes v as a token of kind: its JSON and signature, each in
// unpadded URL-safe base64, joined by a dot.
func (s *Service) sealToken(kind string, v any) *string {
	payload, _ := json.Marshal(v)
	tok := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.tokenMAC(kind, payload))
	return &tok
}

// openToken decodes a token of kind into v, and reports false for one that is
// too long, malformed or forged.
func (s *Service) openToken(kind, tok string, v any) bool {
	if len(tok) > maxTokenLen {
		return false
	}
	p, sigText, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(sigText)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, s.tokenMAC(kind, payload)) {
		return false
	}
	return json.Unmarshal(payload, v) == nil
}

// errBadToken is the answer to any token that does not open (§9.5).
func errBadToken() error { return api.Validation("The nextToken is not valid for this request.") }

func (s *Service) encodeToken(t pageToken) *string { return s.sealToken("", t) }

// decodeToken returns the position a token carries, or a ValidationException
// when it is malformed, forged, or belongs to another listing.
func (s *Service) decodeToken(tok *string, listing string) (pageToken, error) {
	if tok == nil || *tok == "" {
		return pageToken{Listing: listing}, nil
	}
	var t pageToken
	if !s.openToken("", *tok, &t) || t.Listing != listing || t.After < 0 || t.Offset < 0 {
		return pageToken{}, errBadToken()
	}
	return t, nil
}

// pageSize returns the requested page size or def.
func pageSize(max *int32, def int) int {
	if max == nil {
		return def
	}
	return int(*max)
}

// listingKey names a listing: the operation, its scope, and any filter
// parameters, so that a token is only good for the query that issued it.
func listingKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// listPage returns up to n records of (c, scope) after the token's position,
// decoded into T and filtered by keep (nil keeps all), and the token of the
// next page, or nil on the last page.
func listPage[T any](s *Service, tx localcases.Tx, c localcases.Collection, scope string, tok pageToken, n int, keep func(*T) bool) ([]T, *string, error) {
	var out []T
	var last int64
	more := false
	err := tx.List(c, scope, tok.After, func(r localcases.Raw) (bool, error) {
		var v T
		if err := json.Unmarshal(r.Data, &v); err != nil {
			return false, fmt.Errorf("decode %s %s: %w", c, r.ID, err)
		}
		if keep != nil && !keep(&v) {
			return true, nil
		}
		if len(out) == n {
			more = true
			return false, nil
		}
		out = append(out, v)
		last = r.Seq
		return true, nil
	})
	if err != nil || !more {
		return out, nil, err
	}
	return out, s.encodeToken(pageToken{Listing: tok.Listing, After: last}), nil
}
