// Package eventsink delivers case events (EventBridge envelopes, as the
// outbox keeps them) to a destination outside localcases: a webhook, or an
// EventBridge-compatible endpoint through PutEvents.
//
// A sink is named by a URL (Parse):
//
//	http://host[:port]/path, https://…
//	    A webhook: each event is POSTed alone as its JSON envelope
//	    (Content-Type: application/json, X-Localcases-Event-Id: the
//	    envelope's id). Any 2xx answer means delivered. 408, 425, 429, 5xx,
//	    a timeout or a network error may pass and is retried by the caller;
//	    any other answer (a 4xx, or a 3xx: redirects are not followed, so a
//	    POST is never replayed somewhere else) is permanent.
//
//	eventbridge+http://host[:port][/path][?query], eventbridge+https://…
//	    PutEvents to that endpoint (LocalStack's, or any EventBridge-compatible
//	    one), with the aws-sdk-go-v2 eventbridge client.
//
//	eventbridge://[?query]
//	    PutEvents to AWS's own endpoint for the region.
//
// Query parameters of the EventBridge forms, all optional:
//
//	bus=NAME|ARN     event bus (EventBusName); default "default"
//	source=SOURCE    rewrite every entry's Source: real EventBridge refuses
//	                 the aws.* sources, aws.cases included, from callers
//	                 (NotAuthorizedForSourceException); default: keep aws.cases
//	region=REGION    signing region; default the server's region
//	maxBytes=N       PutEvents request size cap, in bytes as AWS counts them;
//	                 default 262144 (256 KB), at most 1048576
//
// Credentials for PutEvents come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_SESSION_TOKEN; a local endpoint (eventbridge+http[s]://) without
// them signs with the dummy pair test/test, which LocalStack accepts.
//
// # The PutEvents mapping
//
// Each envelope becomes one entry: Source ← source (or the rewrite),
// DetailType ← detail-type, Detail ← the JSON text of detail, Resources ←
// resources, Time ← time, EventBusName ← bus. The receiving bus assigns its
// own id, account, region and version, which PutEvents has no members for.
// Entries go in batches of at most 10 whose sizes, computed as AWS documents
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/calculate-putevents-entry-size.html:
// 14 bytes for Time plus the UTF-8 bytes of Source, DetailType, Detail and
// each resource), total at most maxBytes. An entry alone over maxBytes is
// refused for good. Entries the answer reports failed (FailedEntryCount) with
// a retryable code (InternalFailure, ThrottlingException) are sent again, up
// to three times with a short backoff, within one Deliver call; the others
// fail permanently with EventBridge's code and message.
package eventsink
