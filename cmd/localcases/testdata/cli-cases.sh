#!/usr/bin/env bash
# A short cases-plane journey with the AWS CLI, unchanged but for
# --endpoint-url: create, read, update, comment, search, audit, delete.
# Usage: cli-cases.sh ENDPOINT
set -euo pipefail
endpoint=${1:?usage: cli-cases.sh ENDPOINT}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-AKIDCLICASES} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-secret}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_PAGER="" AWS_MAX_ATTEMPTS=1
cc() { aws connectcases "$@" --endpoint-url "$endpoint"; }
q() { cc "$@" --output text; }
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_error() { # expect_error CODE cmd...
  local code=$1; shift
  local out
  if out=$(cc "$@" 2>&1); then fail "expected $code from: $*"; fi
  grep -q "($code)" <<<"$out" || fail "expected $code from: $*; got: $out"
}

domain=$(q create-domain --name "cli-cases-$$" --query domainId)
amount=$(q create-field --domain-id "$domain" --name Amount --type Number --query fieldId)
template=$(q create-template --domain-id "$domain" --name Support --query templateId)

# create-case, with a clientToken the retry reuses.
fields="[{\"id\":\"title\",\"value\":{\"stringValue\":\"CLI case\"}},{\"id\":\"$amount\",\"value\":{\"doubleValue\":12.5}}]"
case_id=$(q create-case --domain-id "$domain" --template-id "$template" --client-token cli-token-1 --fields "$fields" --query caseId)
[ -n "$case_id" ] || fail "no case id"
[ "$(q create-case --domain-id "$domain" --template-id "$template" --client-token cli-token-1 --fields "$fields" --query caseId)" = "$case_id" ] \
  || fail "the clientToken retry made a second case"
expect_error ValidationException create-case --domain-id "$domain" --template-id "$template" \
  --fields "[{\"id\":\"$amount\",\"value\":{\"stringValue\":\"not a number\"}}]"

# get-case returns the requested fields in request order.
[ "$(q get-case --domain-id "$domain" --case-id "$case_id" --fields id="$amount" id=title id=status \
  --query 'join(`,`, fields[].id)')" = "$amount,title,status" ] || fail "get-case field order"
[ "$(q get-case --domain-id "$domain" --case-id "$case_id" --fields id=title --query 'fields[0].value.stringValue')" = "CLI case" ] || fail get-case

# update-case merges and closes.
cc update-case --domain-id "$domain" --case-id "$case_id" \
  --fields "[{\"id\":\"status\",\"value\":{\"stringValue\":\"closed\"}},{\"id\":\"$amount\",\"value\":{\"doubleValue\":99}}]"
got=$(q get-case --domain-id "$domain" --case-id "$case_id" --fields id=title id=status id="$amount" id=last_closed_datetime \
  --query '[fields[0].value.stringValue, fields[1].value.stringValue, fields[2].value.doubleValue, length(fields)]')
[ "$(echo $got)" = "CLI case closed 99.0 4" ] || fail "after update-case: $got"

# A comment.
item=$(q create-related-item --domain-id "$domain" --case-id "$case_id" --type Comment \
  --content '{"comment":{"body":"Called the customer back","contentType":"Text/Plain"}}' --query relatedItemId)
[ "$(q search-related-items --domain-id "$domain" --case-id "$case_id" --filters '[{"comment":{}}]' \
  --query 'relatedItems[0].relatedItemId')" = "$item" ] || fail search-related-items

# search-cases with a compound filter.
found=$(q search-cases --domain-id "$domain" --fields id=title \
  --filter "{\"andAll\":[{\"field\":{\"greaterThan\":{\"id\":\"$amount\",\"value\":{\"doubleValue\":50}}}},{\"field\":{\"equalTo\":{\"id\":\"status\",\"value\":{\"stringValue\":\"closed\"}}}}]}" \
  --query '[totalCount, cases[0].caseId]')
[ "$(echo $found)" = "1 $case_id" ] || fail "search-cases: $found"

# The audit history, newest first.
[ "$(q get-case-audit-events --domain-id "$domain" --case-id "$case_id" --query 'join(`,`, auditEvents[].type)')" \
  = "RelatedItem.Created,Case.Updated,Case.Created" ] || fail get-case-audit-events

# delete-case, after which the case is gone.
cc delete-case --domain-id "$domain" --case-id "$case_id"
expect_error ResourceNotFoundException get-case --domain-id "$domain" --case-id "$case_id" --fields id=title
echo "cli cases: ok"
