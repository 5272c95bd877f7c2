"""Drives every configuration-plane operation of a running localcases with
boto3, unchanged but for endpoint_url. Usage: boto3-smoke.py ENDPOINT"""
import sys

import boto3
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
cc = boto3.client(
    "connectcases", endpoint_url=endpoint, region_name="us-east-1",
    aws_access_key_id="AKIDBOTO3", aws_secret_access_key="secret",
)


def expect_error(code, fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{fn.__name__}: want {code}, got {got}: {e}"
        assert e.response["ResponseMetadata"].get("RequestId"), "error without a request ID"
        return e
    raise AssertionError(f"{fn.__name__}: want {code}, got success")


d = cc.create_domain(name="boto3-domain")
domain = d["domainId"]
assert d["domainStatus"] == "Active"
assert d["domainArn"].endswith("domain/" + domain)
got = cc.get_domain(domainId=domain)
assert got["name"] == "boto3-domain" and got["createdTime"].year >= 2024, got
assert any(x["domainId"] == domain for x in cc.list_domains()["domains"])
expect_error("ConflictException", cc.create_domain, name="boto3-domain")
e = expect_error("ResourceNotFoundException", cc.get_domain, domainId="nope")
assert e.response["resourceId"] == "nope" if "resourceId" in e.response else True
expect_error("ValidationException", cc.list_domains, maxResults=11)

# Pagination over fields with the model's bounds.
seen, token = [], None
while True:
    page = cc.list_fields(domainId=domain, maxResults=4, **({"nextToken": token} if token else {}))
    seen += [f["fieldId"] for f in page["fields"]]
    token = page.get("nextToken")
    if not token:
        break
assert "title" in seen and "status" in seen and len(seen) == len(set(seen)), seen
expect_error("ValidationException", cc.list_fields, domainId=domain, nextToken="forged")

prio = cc.create_field(domainId=domain, name="Priority", type="SingleSelect")["fieldId"]
notes = cc.create_field(domainId=domain, name="Notes", type="Text", attributes={"text": {"isMultiline": True}})["fieldId"]
expect_error("ConflictException", cc.create_field, domainId=domain, name="Priority", type="Text")
cc.update_field(domainId=domain, fieldId=prio, description="How urgent")
f = cc.batch_get_field(domainId=domain, fields=[{"id": prio}, {"id": "missing"}])
assert f["fields"][0]["description"] == "How urgent" and f["errors"][0]["id"] == "missing", f
cc.batch_put_field_options(domainId=domain, fieldId=prio, options=[
    {"name": "High", "value": "high", "active": True},
    {"name": "Low", "value": "low", "active": False},
])
opts = cc.list_field_options(domainId=domain, fieldId=prio)["options"]
assert [(o["value"], o["active"]) for o in opts] == [("high", True), ("low", False)], opts
only = cc.list_field_options(domainId=domain, fieldId=prio, values=["low"])["options"]
assert [o["value"] for o in only] == ["low"], only

layout = cc.create_layout(domainId=domain, name="Main", content={"basic": {
    "topPanel": {"sections": [{"fieldGroup": {"name": "Top", "fields": [{"id": prio}]}}]},
    "moreInfo": {"sections": [{"fieldGroup": {"name": "More", "fields": [{"id": notes}]}}]},
}})["layoutId"]
expect_error("ValidationException", cc.create_layout, domainId=domain, name="Bad", content={"basic": {
    "topPanel": {"sections": [{"fieldGroup": {"fields": [{"id": "no-such-field"}]}}]}}})
assert cc.get_layout(domainId=domain, layoutId=layout)["content"]["basic"]["topPanel"]["sections"][0]["fieldGroup"]["fields"] == [{"id": prio}]

rule = cc.create_case_rule(domainId=domain, name="Notes when high", rule={"required": {
    "defaultValue": False,
    "conditions": [{"equalTo": {"operandOne": {"fieldId": prio}, "operandTwo": {"stringValue": "high"}, "result": True}}],
}})["caseRuleId"]
rules = cc.batch_get_case_rule(domainId=domain, caseRules=[{"id": rule}])["caseRules"]
assert rules[0]["rule"]["required"]["defaultValue"] is False, rules
assert [r["caseRuleId"] for r in cc.list_case_rules(domainId=domain)["caseRules"]] == [rule]

tpl = cc.create_template(domainId=domain, name="Support", layoutConfiguration={"defaultLayout": layout},
                         requiredFields=[{"fieldId": prio}], rules=[{"caseRuleId": rule, "fieldId": notes}])["templateId"]
t = cc.get_template(domainId=domain, templateId=tpl)
assert t["status"] == "Active" and t["requiredFields"] == [{"fieldId": prio}], t
cc.update_template(domainId=domain, templateId=tpl, status="Inactive")
assert [x["templateId"] for x in cc.list_templates(domainId=domain, status=["Inactive"])["templates"]] == [tpl]
assert cc.list_templates(domainId=domain, status=["Active"])["templates"] == []

arn = cc.get_template(domainId=domain, templateId=tpl)["templateArn"]
cc.tag_resource(arn=arn, tags={"team": "support", "env": "dev"})
assert cc.list_tags_for_resource(arn=arn)["tags"] == {"team": "support", "env": "dev"}
cc.untag_resource(arn=arn, tagKeys=["team", "env"])
assert cc.list_tags_for_resource(arn=arn)["tags"] == {}

cc.put_case_event_configuration(domainId=domain, eventBridge={"enabled": True, "includedData": {
    "caseData": {"fields": [{"id": prio}]}, "relatedItemData": {"includeContent": True}}})
ev = cc.get_case_event_configuration(domainId=domain)["eventBridge"]
assert ev["enabled"] is True and ev["includedData"]["caseData"]["fields"] == [{"id": prio}], ev

cc.delete_template(domainId=domain, templateId=tpl)
assert cc.get_template(domainId=domain, templateId=tpl)["deleted"] is True
cc.delete_case_rule(domainId=domain, caseRuleId=rule)
cc.delete_layout(domainId=domain, layoutId=layout)
cc.delete_field(domainId=domain, fieldId=notes)
cc.delete_domain(domainId=domain)
expect_error("ResourceNotFoundException", cc.get_domain, domainId=domain)
print("boto3 smoke: ok")
