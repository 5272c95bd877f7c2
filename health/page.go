package health

import (
	"encoding/base64"
	"strings"

	"github.com/localcases/localcases/healthapi"
)

// A page token names the listing it belongs to and the sort key of the
// last item returned, so the next page starts after that item even if
// events were added or updated meanwhile. It is base64 (the model's
// pattern allows only [a-zA-Z0-9=/+_.-]) of "listing\x00key".

func encodeToken(listing, key string) *string {
	t := base64.StdEncoding.EncodeToString([]byte(listing + "\x00" + key))
	return &t
}

// decodeToken returns the key in tok, "" for no token, or
// InvalidPaginationToken for a token of another listing or none of ours.
func decodeToken(tok *string, listing string) (string, error) {
	if tok == nil {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(*tok)
	l, key, ok := strings.Cut(string(raw), "\x00")
	if err != nil || !ok || l != listing || key == "" {
		return "", healthapi.Errorf(healthapi.CodeInvalidPaginationToken, "Invalid pagination token.")
	}
	return key, nil
}

// page returns the items after the token's key, at most limit of them, and
// the token of the next page. items must be sorted by key, ascending.
func page[T any](items []T, key func(T) string, tok *string, listing string, limit *int32, def int) ([]T, *string, error) {
	after, err := decodeToken(tok, listing)
	if err != nil {
		return nil, nil, err
	}
	start := 0
	if after != "" {
		for start < len(items) && key(items[start]) <= after {
			start++
		}
	}
	n := def
	if limit != nil {
		n = int(*limit)
	}
	rest := items[start:]
	if len(rest) <= n {
		return rest, nil, nil
	}
	return rest[:n], encodeToken(listing, key(rest[n-1])), nil
}
