#!/usr/bin/env bash
# Case events driven by the AWS CLI, unchanged but for --endpoint-url:
# enable the domain's event configuration, create, update, comment and
# delete, with one refused update, then read /_localcases/events with curl
# and check that exactly the right envelopes came, in order.
# Usage: cli-events.sh ENDPOINT
set -euo pipefail
endpoint=${1:?usage: cli-events.sh ENDPOINT}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-AKIDCLIEVENTS} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-secret}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_PAGER="" AWS_MAX_ATTEMPTS=1
cc() { aws connectcases "$@" --endpoint-url "$endpoint"; }
q() { cc "$@" --output text; }
fail() { echo "FAIL: $*" >&2; exit 1; }
events() { curl -sf "$endpoint/_localcases/events?domainId=$domain${1:+&after=$1}"; }

domain=$(q create-domain --name "cli-events-$$" --query domainId)
amount=$(q create-field --domain-id "$domain" --name Amount --type Number --query fieldId)
template=$(q create-template --domain-id "$domain" --name Support --query templateId)
q create-case --domain-id "$domain" --template-id "$template" --fields '[{"id":"title","value":{"stringValue":"before"}}]' --query caseId >/dev/null
[ "$(events | jq '.events | length')" = 0 ] || fail "events before the configuration was enabled"

cc put-case-event-configuration --domain-id "$domain" --event-bridge "{\"enabled\":true,
  \"includedData\":{\"caseData\":{\"fields\":[{\"id\":\"status\"},{\"id\":\"$amount\"}]},\"relatedItemData\":{\"includeContent\":true}}}"
[ "$(q get-case-event-configuration --domain-id "$domain" --query eventBridge.enabled)" = True ] || fail "configuration not stored"

case_id=$(q create-case --domain-id "$domain" --template-id "$template" \
  --fields "[{\"id\":\"title\",\"value\":{\"stringValue\":\"CLI case\"}},{\"id\":\"$amount\",\"value\":{\"doubleValue\":12.5}}]" \
  --performed-by userArn=arn:aws:connect:us-east-1:000000000000:instance/i-1/agent/a-1 --query caseId)
if cc update-case --domain-id "$domain" --case-id "$case_id" --fields "[{\"id\":\"$amount\",\"value\":{\"stringValue\":\"x\"}}]" 2>/dev/null; then
  fail "an update with a string for a number succeeded"
fi
cc update-case --domain-id "$domain" --case-id "$case_id" --fields '[{"id":"status","value":{"stringValue":"closed"}}]'
item=$(q create-related-item --domain-id "$domain" --case-id "$case_id" --type Comment \
  --content '{"comment":{"body":"Called back","contentType":"Text/Plain"}}' --query relatedItemId)
cc delete-case --domain-id "$domain" --case-id "$case_id"

page=$(events)
[ "$(jq -c '[.events[].detail.eventType]' <<<"$page")" = '["CASE.CREATED","CASE.UPDATED","RELATED_ITEM.CREATED","CASE.DELETED"]' ] \
  || fail "event types: $(jq -c '[.events[].detail.eventType]' <<<"$page")"
[ "$(jq -r '[.events[] | .source, ."detail-type", .version, .region] | unique | join("|")' <<<"$page")" = "0|Amazon Connect Cases Change|aws.cases|us-east-1" ] \
  || fail "envelope constants"
[ "$(jq -r '.events[0].detail.case.fields["'"$amount"'"].value.doubleValue' <<<"$page")" = 12.5 ] || fail "amount in CASE.CREATED"
[ "$(jq -r '.events[0].detail.performedBy.user.userArn' <<<"$page")" = arn:aws:connect:us-east-1:000000000000:instance/i-1/agent/a-1 ] \
  || fail "performedBy"
[ "$(jq -r '.events[0].detail.performedBy.iamPrincipalArn' <<<"$page")" = "arn:aws:iam::000000000000:user/$AWS_ACCESS_KEY_ID" ] \
  || fail "iamPrincipalArn: $(jq -r '.events[0].detail.performedBy.iamPrincipalArn' <<<"$page")"
# The update names no user, so last_updated_user (set by the create) goes too.
[ "$(jq -c '.events[1].detail.changedFieldIds' <<<"$page")" = '["status","last_closed_datetime","last_updated_datetime","last_updated_user"]' ] \
  || fail "changedFieldIds: $(jq -c '.events[1].detail.changedFieldIds' <<<"$page")"
[ "$(jq -r '.events[1].detail.case.fields.status.value.stringValue' <<<"$page")" = closed ] || fail "status in CASE.UPDATED"
[ "$(jq -r '.events[2].resources[1]' <<<"$page")" = "$(jq -r '.events[0].resources[1]' <<<"$page")/related-item/$item" ] || fail "related-item ARN"
[ "$(jq -r '.events[2].detail.relatedItem.comment.body' <<<"$page")" = "Called back" ] || fail "comment content"
[ "$(jq -r '.events[3].detail.case.caseId' <<<"$page")" = "$case_id" ] || fail "deleted case"
[ "$(jq -r '[.events[].id] | unique | length' <<<"$page")" = 4 ] || fail "event ids are not unique"

# The cursor continues; a poll past it waits, then answers empty.
cursor=$(jq -r .cursor <<<"$page")
[ "$(curl -sf "$endpoint/_localcases/events?domainId=$domain&after=$cursor&wait=0.2" | jq '.events | length')" = 0 ] || fail "events past the cursor"
# Bad values are refused with a message.
status=$(curl -s -o /dev/null -w '%{http_code}' "$endpoint/_localcases/events?wait=30")
[ "$status" = 400 ] || fail "wait=30 answered $status"
echo "cli-events: ok"
