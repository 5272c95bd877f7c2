#!/usr/bin/env bash
# The AWS CLI's health commands, unchanged but for --endpoint-url, through an
# outage scenario's life cycle (open, details, affected entities, closed),
# filters, pagination and validation. Usage: cli-health.sh ENDPOINT
set -euo pipefail
endpoint=${1:?usage: cli-health.sh ENDPOINT}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-AKIDHEALTH} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-secret}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_PAGER=""
h() { aws health "$@" --endpoint-url "$endpoint"; }
q() { h "$@" --output text; }
fail() { echo "FAIL: $*" >&2; exit 1; }
admin() { curl -sf -X "$1" "$endpoint/_localcases/$2" ${3:+-H 'Content-Type: application/json' -d "$3"} >/dev/null; }
expect_error() { # expect_error CODE cmd...
  local code=$1; shift
  local out
  if out=$(h "$@" 2>&1); then fail "expected $code from: $*"; fi
  grep -q "($code)" <<<"$out" || fail "expected $code from: $*; got: $out"
}

domain_arn=$(aws connectcases create-domain --name "health-cli-$$" --endpoint-url "$endpoint" --query domainArn --output text)
[ "$(q describe-events --filter eventStatusCodes=open --query 'length(events)')" = 0 ] || fail "open events before the outage"

admin POST scenario '{"preset": "brownout", "duration": "1h", "percent": 40}'
arn=$(q describe-events --filter eventStatusCodes=open,services=CONNECT --query 'events[0].arn')
[[ $arn == arn:aws:health:us-east-1::event/CONNECT/AWS_CONNECT_OPERATIONAL_ISSUE/* ]] || fail "open event: $arn"
[ "$(q describe-events --filter eventArns="$arn" --query 'events[0].[statusCode,eventTypeCategory]')" = "open	issue" ] || fail "status"
q describe-event-details --event-arns "$arn" --query 'successfulSet[0].eventDescription.latestDescription' | grep -q "40%" || fail "description"
[ "$(q describe-affected-entities --filter eventArns="$arn" --query 'entities[0].entityValue')" = "$domain_arn" ] || fail "entities"
[ "$(q describe-event-aggregates --aggregate-field eventTypeCategory --query 'eventAggregates[0].[aggregateValue,count]')" = "issue	1" ] || fail aggregates
q describe-event-types --query 'eventTypes[].code' | grep -q AWS_CONNECT_OPERATIONAL_ISSUE || fail "event types"

admin DELETE scenario
[ "$(q describe-events --filter eventArns="$arn" --query 'events[0].statusCode')" = closed ] || fail "not closed"
[ "$(q describe-affected-entities --filter eventArns="$arn" --query 'entities[0].statusCode')" = RESOLVED ] || fail "entity not resolved"
q describe-event-details --event-arns "$arn" --query 'successfulSet[0].eventDescription.latestDescription' | grep -q "resolved" || fail "no resolution"

# Pagination: the CLI follows nextToken itself; --page-size makes it page.
for i in 1 2 3 4 5; do admin POST health/events "{\"description\": \"maintenance $i\"}"; done
# (Text output would apply --query to each page; JSON applies it to the whole.)
[ "$(h describe-events --page-size 2 --output json --query 'length(events)')" = 6 ] || fail "paging lost events"
[ "$(h describe-events --max-items 2 --output json --query 'length(events)')" = 2 ] || fail "max-items"

expect_error InvalidPaginationToken describe-events --next-token "bm90LWEtdG9rZW4="
expect_error UnsupportedLocale describe-events --locale fr
expect_error ValidationException describe-event-details --event-arns not-an-arn
expect_error ValidationException describe-events --filter 'regions=us/east'
echo "aws-cli health: ok"
