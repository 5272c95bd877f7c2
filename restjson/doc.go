// Package restjson speaks the wire protocol of Amazon Connect Cases, Smithy's
// restJson1, on top of an api.Service.
//
// Wire rules, as the AWS SDKs expect them:
//
//   - Routing is by method and URI template, matched on the escaped path, so
//     the percent-encoded ARN in /tags/{arn} stays one segment. Two paths end
//     in a slash (CreateRelatedItem, ListCaseRules) and match only with it.
//   - Path and query members bind from the URL (repeated query keys make a
//     list); every other member comes from a JSON body. List operations send
//     no body at all.
//   - Success is 200 with a JSON body; operations with no output answer {}.
//   - Every response carries x-amzn-RequestId.
//   - Errors carry the model's status code, an X-Amzn-ErrorType header and a
//     body {"__type", "message", ...modelled members}; InternalServerException
//     may carry Retry-After in plain decimal seconds, which is how the Go SDK
//     fills RetryAfterSeconds.
//   - A body that is not JSON (including one that is not UTF-8, escapes half
//     a surrogate pair or gives a key twice in one object), a member of the
//     wrong JSON type, or an unknown member is refused with a 400
//     SerializationException before the service sees it, as is a malformed
//     query string or a scalar query key given twice. NUL or bytes that are
//     not UTF-8 in any member, bound from the URL or the body, are a 400
//     ValidationException naming the member (input.go). Unknown routes
//     get 404 UnknownOperationException and known paths with the wrong method
//     405. Nothing a client sends produces a 500 or a panic.
package restjson
