#!/usr/bin/env bash
# Drives every configuration-plane operation of a running localcases with the
# AWS CLI, unchanged but for --endpoint-url. Usage: cli-smoke.sh ENDPOINT
set -euo pipefail
endpoint=${1:?usage: cli-smoke.sh ENDPOINT}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-AKIDSMOKE} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-secret}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_PAGER=""
cc() { aws connectcases "$@" --endpoint-url "$endpoint"; }
q() { cc "$@" --output text; }
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_error() { # expect_error CODE cmd...
  local code=$1; shift
  local out
  if out=$(cc "$@" 2>&1); then fail "expected $code from: $*"; fi
  grep -q "($code)" <<<"$out" || fail "expected $code from: $*; got: $out"
}

domain=$(q create-domain --name "smoke-$$" --query domainId)
[ -n "$domain" ] || fail "no domain id"
[ "$(q get-domain --domain-id "$domain" --query name)" = "smoke-$$" ] || fail get-domain
q list-domains --query 'domains[].domainId' | grep -q "$domain" || fail list-domains
expect_error ConflictException create-domain --name "smoke-$$"
expect_error ResourceNotFoundException get-domain --domain-id does-not-exist
expect_error ValidationException create-domain --name "trailing-space "

# Fields and options.
[ "$(q list-fields --domain-id "$domain" --query 'length(fields)')" -ge 14 ] || fail "system fields missing"
field=$(q create-field --domain-id "$domain" --name Priority --type SingleSelect --description "How urgent" --query fieldId)
text=$(q create-field --domain-id "$domain" --name Notes --type Text --attributes '{"text":{"isMultiline":true}}' --query fieldId)
cc update-field --domain-id "$domain" --field-id "$field" --name "Priority level" >/dev/null
[ "$(q batch-get-field --domain-id "$domain" --fields id="$field" --query 'fields[0].name')" = "Priority level" ] || fail batch-get-field
q batch-get-field --domain-id "$domain" --fields id=missing --query 'errors[0].id' | grep -q missing || fail "batch-get-field errors"
cc batch-put-field-options --domain-id "$domain" --field-id "$field" \
  --options name=High,value=high,active=true name=Low,value=low,active=true >/dev/null
[ "$(q list-field-options --domain-id "$domain" --field-id "$field" --query 'length(options)')" = 2 ] || fail list-field-options
expect_error ValidationException batch-put-field-options --domain-id "$domain" --field-id "$text" --options name=A,value=a,active=true

# Layouts, case rules, templates.
layout=$(q create-layout --domain-id "$domain" --name Default \
  --content "{\"basic\":{\"topPanel\":{\"sections\":[{\"fieldGroup\":{\"name\":\"Top\",\"fields\":[{\"id\":\"$field\"}]}}]}}}" --query layoutId)
cc update-layout --domain-id "$domain" --layout-id "$layout" --name "Default layout" >/dev/null
[ "$(q get-layout --domain-id "$domain" --layout-id "$layout" --query name)" = "Default layout" ] || fail get-layout
q list-layouts --domain-id "$domain" --query 'layouts[].layoutId' | grep -q "$layout" || fail list-layouts
rule=$(q create-case-rule --domain-id "$domain" --name "Notes required when high" \
  --rule "{\"required\":{\"defaultValue\":false,\"conditions\":[{\"equalTo\":{\"operandOne\":{\"fieldId\":\"$field\"},\"operandTwo\":{\"stringValue\":\"high\"},\"result\":true}}]}}" --query caseRuleId)
cc update-case-rule --domain-id "$domain" --case-rule-id "$rule" --description "escalations need notes" >/dev/null
q batch-get-case-rule --domain-id "$domain" --case-rules id="$rule" --query 'caseRules[0].caseRuleId' | grep -q "$rule" || fail batch-get-case-rule
q list-case-rules --domain-id "$domain" --query 'caseRules[].caseRuleId' | grep -q "$rule" || fail list-case-rules
template=$(q create-template --domain-id "$domain" --name Support --layout-configuration defaultLayout="$layout" \
  --required-fields fieldId="$field" --rules caseRuleId="$rule",fieldId="$text" --query templateId)
cc update-template --domain-id "$domain" --template-id "$template" --status Inactive >/dev/null
[ "$(q get-template --domain-id "$domain" --template-id "$template" --query status)" = Inactive ] || fail get-template
q list-templates --domain-id "$domain" --status Inactive --query 'templates[].templateId' | grep -q "$template" || fail list-templates
expect_error ConflictException delete-case-rule --domain-id "$domain" --case-rule-id "$rule"

# Tags on every taggable configuration resource.
for arn in "$(q get-domain --domain-id "$domain" --query domainArn)" \
           "$(q get-layout --domain-id "$domain" --layout-id "$layout" --query layoutArn)" \
           "$(q get-template --domain-id "$domain" --template-id "$template" --query templateArn)"; do
  cc tag-resource --arn "$arn" --tags team=support,env=dev
  [ "$(q list-tags-for-resource --arn "$arn" --query 'tags.team')" = support ] || fail "tags on $arn"
  cc untag-resource --arn "$arn" --tag-keys team env
  [ "$(q list-tags-for-resource --arn "$arn" --query 'length(keys(tags))')" = 0 ] || fail "untag on $arn"
done
expect_error ValidationException tag-resource --arn "arn:aws:cases:us-east-1:000000000000:domain/$domain" --tags aws:x=1
expect_error ResourceNotFoundException list-tags-for-resource --arn "arn:aws:cases:us-east-1:000000000000:domain/nope"

# Event configuration.
cc put-case-event-configuration --domain-id "$domain" \
  --event-bridge "{\"enabled\":true,\"includedData\":{\"caseData\":{\"fields\":[{\"id\":\"$field\"}]}}}"
[ "$(q get-case-event-configuration --domain-id "$domain" --query eventBridge.enabled)" = True ] || fail event-configuration

# Deletions.
cc delete-template --domain-id "$domain" --template-id "$template"
cc delete-case-rule --domain-id "$domain" --case-rule-id "$rule"
cc delete-layout --domain-id "$domain" --layout-id "$layout"
cc delete-field --domain-id "$domain" --field-id "$text"
[ "$(q batch-get-field --domain-id "$domain" --fields id="$text" --query 'fields[0].deleted')" = True ] || fail delete-field
cc delete-domain --domain-id "$domain"
expect_error ResourceNotFoundException get-domain --domain-id "$domain"
echo "cli smoke: ok"
