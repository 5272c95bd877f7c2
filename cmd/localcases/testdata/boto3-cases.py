"""Drives every cases-plane operation of a running localcases with boto3,
unchanged but for endpoint_url: cases, all six related item types, audit
history, search with the paginator, tags and deletion.
Usage: boto3-cases.py ENDPOINT"""
import sys
import time
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
cc = boto3.client(
    "connectcases", endpoint_url=endpoint, region_name="us-east-1",
    aws_access_key_id="AKIDBOTO3", aws_secret_access_key="secret",
    config=Config(retries={"max_attempts": 1, "mode": "standard"}),
)

USER = "arn:aws:connect:us-east-1:000000000000:instance/inst-1/agent/agent-1"
CONTACT = "arn:aws:connect:us-east-1:000000000000:instance/inst-1/contact/contact-1"
FILE = "arn:aws:connect:us-east-1:000000000000:instance/inst-1/file/file-1"


def expect_error(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{fn.__name__}: want {code}, got {got}: {e}"
        assert e.response["ResponseMetadata"].get("RequestId"), "error without a request ID"
        return e
    raise AssertionError(f"{fn.__name__}: want {code}, got success with {kwargs}")


def s(fid, v):
    return {"id": fid, "value": {"stringValue": v}}


def n(fid, v):
    return {"id": fid, "value": {"doubleValue": v}}


def b(fid, v):
    return {"id": fid, "value": {"booleanValue": v}}


def u(fid, v):
    return {"id": fid, "value": {"userArnValue": v}}


def empty(fid):
    return {"id": fid, "value": {"emptyValue": {}}}


def flat(value):
    """A FieldValueUnion as a plain value (None for emptyValue)."""
    (kind, v), = value.items()
    return None if kind == "emptyValue" else v


def get(case_id, *ids):
    out = cc.get_case(domainId=domain, caseId=case_id, fields=[{"id": i} for i in ids])
    return {f["id"]: flat(f["value"]) for f in out["fields"]}


def audit(case_id, page=3):
    events, token = [], None
    while True:
        out = cc.get_case_audit_events(domainId=domain, caseId=case_id, maxResults=page, **({"nextToken": token} if token else {}))
        assert len(out["auditEvents"]) <= page
        events += out["auditEvents"]
        token = out.get("nextToken")
        if not token:
            return events


# A domain set up the way a contact centre would.
domain = cc.create_domain(name="boto3-cases")["domainId"]
fid = {}
for name, typ in [("Notes", "Text"), ("Amount", "Number"), ("Urgent", "Boolean"), ("Due", "DateTime"),
                  ("Priority", "SingleSelect"), ("Link", "Url"), ("Owner", "User")]:
    fid[name] = cc.create_field(domainId=domain, name=name, type=typ)["fieldId"]
notes, amount, urgent, due, prio, link, owner = (fid[k] for k in ("Notes", "Amount", "Urgent", "Due", "Priority", "Link", "Owner"))
cc.batch_put_field_options(domainId=domain, fieldId=prio, options=[
    {"name": "High", "value": "high", "active": True},
    {"name": "Low", "value": "low", "active": True},
    {"name": "Legacy", "value": "legacy", "active": False},
])
layout = cc.create_layout(domainId=domain, name="Main", content={"basic": {
    "topPanel": {"sections": [{"fieldGroup": {"name": "Top", "fields": [{"id": prio}, {"id": notes}]}}]},
    "moreInfo": {"sections": [{"fieldGroup": {"name": "More", "fields": [{"id": f} for f in (amount, urgent, due, link, owner)]}}]},
}})["layoutId"]
rule = cc.create_case_rule(domainId=domain, name="Notes when high", rule={"required": {
    "defaultValue": False,
    "conditions": [{"equalTo": {"operandOne": {"fieldId": prio}, "operandTwo": {"stringValue": "high"}, "result": True}}],
}})["caseRuleId"]
tpl = cc.create_template(domainId=domain, name="Support", layoutConfiguration={"defaultLayout": layout},
                         requiredFields=[{"fieldId": prio}], rules=[{"caseRuleId": rule, "fieldId": notes}])["templateId"]
old_tpl = cc.create_template(domainId=domain, name="Old", status="Inactive")["templateId"]


def base(*extra):
    fields = {"title": s("title", "a case"), prio: s(prio, "low")}
    for f in extra:
        fields[f["id"]] = f
    return list(fields.values())


# CreateCase with every value type, and its idempotency.
request = dict(domainId=domain, templateId=tpl, clientToken="boto3-token-1", tags={"team": "red"},
               performedBy={"userArn": USER},
               fields=base(s("title", "Printer on fire"), s(notes, "smoke"), n(amount, 12.5), b(urgent, True),
                           s(due, "2025-01-02T03:04:05.000Z"), s(link, "https://example.com/1"), u(owner, USER)))
first = cc.create_case(**request)
case = first["caseId"]
assert first["caseArn"] == f"arn:aws:cases:us-east-1:000000000000:domain/{domain}/case/{case}", first
assert cc.create_case(**request)["caseId"] == case, "a retry with the same clientToken made a new case"
expect_error("ConflictException", cc.create_case, **{**request, "fields": base(s("title", "different"))})

for why, kwargs in {
    "number given a string": dict(templateId=tpl, fields=base(s(amount, "12"))),
    "boolean given a number": dict(templateId=tpl, fields=base(n(urgent, 1))),
    "user given a string": dict(templateId=tpl, fields=base(s(owner, USER))),
    "bad date-time": dict(templateId=tpl, fields=base(s(due, "tomorrow"))),
    "inactive option": dict(templateId=tpl, fields=base(s(prio, "legacy"))),
    "unknown field": dict(templateId=tpl, fields=base(s("no-such-field", "x"))),
    "missing title": dict(templateId=tpl, fields=[s(prio, "low")]),
    "missing required field": dict(templateId=tpl, fields=[s("title", "t")]),
    "case rule": dict(templateId=tpl, fields=base(s(prio, "high"))),
    "inactive template": dict(templateId=old_tpl, fields=[s("title", "t")]),
}.items():
    try:
        expect_error("ValidationException", cc.create_case, domainId=domain, **kwargs)
    except AssertionError as e:
        raise AssertionError(f"{why}: {e}")
e = expect_error("ResourceNotFoundException", cc.create_case, domainId=domain, templateId="nope", fields=[s("title", "t")])
assert e.response["resourceType"] == "Template", e.response

# GetCase: request order, unknown and empty fields left out.
out = cc.get_case(domainId=domain, caseId=case, fields=[{"id": i} for i in
                  (owner, "title", "nope", amount, urgent, due, "status", "last_closed_datetime", "reference_number", "created_by")])
assert [f["id"] for f in out["fields"]] == [owner, "title", amount, urgent, due, "status", "reference_number", "created_by"], out["fields"]
v = {f["id"]: flat(f["value"]) for f in out["fields"]}
assert v[owner] == USER and v["title"] == "Printer on fire" and v[amount] == 12.5 and v[urgent] is True, v
assert v["status"] == "open" and v["created_by"] == USER and len(v["reference_number"]) == 9, v
assert out["templateId"] == tpl and out["tags"]["team"] == "red", out
e = expect_error("ResourceNotFoundException", cc.get_case, domainId=domain, caseId="nope", fields=[{"id": "title"}])
assert e.response["resourceType"] == "Case" and e.response["resourceId"] == "nope", e.response

# UpdateCase: a partial merge; closing and reopening.
cc.update_case(domainId=domain, caseId=case, fields=[n(amount, 99)], performedBy={"userArn": USER})
assert get(case, "title", amount, notes) == {"title": "Printer on fire", amount: 99, notes: "smoke"}
cc.update_case(domainId=domain, caseId=case, fields=[s("status", "closed")])
closed = get(case, "status", "last_closed_datetime")
assert closed["status"] == "closed" and closed.get("last_closed_datetime"), closed
time.sleep(0.01)
cc.update_case(domainId=domain, caseId=case, fields=[s("status", "open")])
reopened = get(case, "last_closed_datetime", "last_reopened_datetime")
assert reopened["last_closed_datetime"] == closed["last_closed_datetime"] and reopened.get("last_reopened_datetime"), reopened
cc.update_case(domainId=domain, caseId=case, fields=[empty(notes)])
assert notes not in get(case, notes)
expect_error("ValidationException", cc.update_case, domainId=domain, caseId=case, fields=[empty("title")])
expect_error("ValidationException", cc.update_case, domainId=domain, caseId=case, fields=[s(prio, "high")])
expect_error("ValidationException", cc.update_case, domainId=domain, caseId=case, fields=[s(amount, "1")])
expect_error("ResourceNotFoundException", cc.update_case, domainId=domain, caseId="nope", fields=[n(amount, 1)])

# Audit history, newest first, walked in pages of three.
events = audit(case)
assert [ev["type"] for ev in events] == ["Case.Updated"] * 4 + ["Case.Created"], [ev["type"] for ev in events]
first_update = {f["eventFieldId"]: f for f in events[3]["fields"]}
assert flat(first_update[amount]["oldValue"]) == 12.5 and flat(first_update[amount]["newValue"]) == 99, first_update[amount]
assert events[3]["performedBy"]["user"] == {"userArn": USER}, events[3]["performedBy"]
assert events[0]["performedBy"]["iamPrincipalArn"].startswith("arn:aws:iam::"), events[0]["performedBy"]
assert all(events[i]["performedTime"] >= events[i + 1]["performedTime"] for i in range(len(events) - 1))
expect_error("ValidationException", cc.get_case_audit_events, domainId=domain, caseId=case, nextToken="forged")

# Related items: all six types.
other = cc.create_case(domainId=domain, templateId=tpl, fields=base(s("title", "other")))["caseId"]


def relate(typ, content, case_id=case):
    return cc.create_related_item(domainId=domain, caseId=case_id, type=typ, content=content, performedBy={"userArn": USER})


contact = relate("Contact", {"contact": {"contactArn": CONTACT}})["relatedItemId"]
comment = relate("Comment", {"comment": {"body": "first look", "contentType": "Text/Plain"}})["relatedItemId"]
file_ = relate("File", {"file": {"fileArn": FILE}})["relatedItemId"]
sla = relate("Sla", {"sla": {"slaInputConfiguration": {"name": "close within an hour", "type": "CaseField", "fieldId": "status",
                                                        "targetFieldValues": [{"stringValue": "closed"}], "targetSlaMinutes": 60}}})["relatedItemId"]
link_item = relate("ConnectCase", {"connectCase": {"caseId": other}})
custom = relate("Custom", {"custom": {"fields": [n(amount, 42), s(notes, "custom")]}})["relatedItemId"]
assert link_item["relatedItemArn"].endswith(f"/case/{case}/related-item/{link_item['relatedItemId']}"), link_item
expect_error("ValidationException", relate, "Comment", {"file": {"fileArn": FILE}})
expect_error("ValidationException", relate, "ConnectCase", {"connectCase": {"caseId": case}})
expect_error("ValidationException", relate, "Custom", {"custom": {"fields": [s("title", "x")]}})
expect_error("ResourceNotFoundException", relate, "Comment", {"comment": {"body": "x", "contentType": "Text/Plain"}}, "nope")
assert get(case, "next_sla_breach_datetime").get("next_sla_breach_datetime"), "no SLA breach time"


def related(*filters, page=2):
    ids = []
    kwargs = {"domainId": domain, "caseId": case, "PaginationConfig": {"PageSize": page}}
    if filters:
        kwargs["filters"] = list(filters)
    for p in cc.get_paginator("search_related_items").paginate(**kwargs):
        assert len(p["relatedItems"]) <= page
        ids += [(it["type"], it["relatedItemId"]) for it in p["relatedItems"]]
    return ids


assert [t for t, _ in related()] == ["Custom", "ConnectCase", "Sla", "File", "Comment", "Contact"], related()
assert related({"comment": {}}) == [("Comment", comment)]
assert related({"contact": {"contactArn": CONTACT}}) == [("Contact", contact)]
assert related({"file": {"fileArn": FILE}}, {"comment": {}}) == [("File", file_), ("Comment", comment)]
assert related({"sla": {"status": "Active"}}) == [("Sla", sla)]
assert related({"connectCase": {"caseId": other}}) == [("ConnectCase", link_item["relatedItemId"])]
assert related({"custom": {"fields": {"field": {"equalTo": n(amount, 42)}}}}) == [("Custom", custom)]
items = cc.search_related_items(domainId=domain, caseId=case, filters=[{"contact": {}}])["relatedItems"]
c = items[0]["content"]["contact"]
assert c["contactArn"] == CONTACT and c["channel"] and c["connectedToSystemTime"].year >= 2024, c

# Closing the case meets the SLA.
cc.update_case(domainId=domain, caseId=case, fields=[s("status", "closed")])
assert related({"sla": {"status": "Met"}}) == [("Sla", sla)]

up = cc.update_related_item(domainId=domain, caseId=case, relatedItemId=comment,
                            content={"comment": {"body": "second look", "contentType": "Text/Plain"}}, performedBy={"userArn": USER})
assert up["content"]["comment"]["body"] == "second look" and up["type"] == "Comment", up
up = cc.update_related_item(domainId=domain, caseId=case, relatedItemId=custom, content={"custom": {"fields": [b(urgent, True)]}})
assert up["content"]["custom"]["fields"] == [b(urgent, True)], up["content"]
expect_error("ValidationException", cc.update_related_item, domainId=domain, caseId=case, relatedItemId=contact,
             content={"comment": {"body": "x", "contentType": "Text/Plain"}})

relate("Contact", {"contact": {"contactArn": CONTACT}}, other)
listed = cc.list_cases_for_contact(domainId=domain, contactArn=CONTACT)["cases"]
assert [x["caseId"] for x in listed] == [case, other] and listed[0]["templateId"] == tpl, listed

expect_error("ValidationException", cc.delete_related_item, domainId=domain, caseId=case, relatedItemId=file_)
cc.delete_related_item(domainId=domain, caseId=case, relatedItemId=comment)
cc.delete_related_item(domainId=domain, caseId=case, relatedItemId=contact)
expect_error("ResourceNotFoundException", cc.delete_related_item, domainId=domain, caseId=case, relatedItemId=comment)
assert related({"comment": {}}) == []
assert [x["caseId"] for x in cc.list_cases_for_contact(domainId=domain, contactArn=CONTACT)["cases"]] == [other]

walked = []
for p in cc.get_paginator("search_all_related_items").paginate(
        domainId=domain, sorts=[{"sortProperty": "CaseId", "sortOrder": "Asc"}, {"sortProperty": "AssociationTime", "sortOrder": "Desc"}],
        PaginationConfig={"PageSize": 2}):
    walked += p["relatedItems"]
assert len(walked) == 5, len(walked)  # case: file, sla, link, custom; other: contact
assert len({it["relatedItemId"] for it in walked}) == 5
keys = [(it["caseId"], -it["associationTime"].timestamp()) for it in walked]
assert keys == sorted(keys), keys

kinds = [(ev["type"], ev.get("relatedItemType")) for ev in audit(case) if ev.get("relatedItemType")]
assert kinds[:4] == [("RelatedItem.Deleted", "Contact"), ("RelatedItem.Deleted", "Comment"),
                     ("RelatedItem.Updated", "Custom"), ("RelatedItem.Updated", "Comment")], kinds

# SearchCases: compound filters, sorts, projection, every page once.
made = {}
for i in range(23):
    fields = base(s("title", f"search-{i:02d}"), n(amount, i), b(urgent, i % 3 == 0))
    if i == 11:
        fields.append(s("summary", "a Needle in the haystack"))
    made[cc.create_case(domainId=domain, templateId=tpl, fields=fields, tags={"team": "blue" if i % 2 else "red"},
                        clientToken=str(uuid.uuid4()))["caseId"]] = i
cases, totals = [], set()
for p in cc.get_paginator("search_cases").paginate(
        domainId=domain, fields=[{"id": amount}, {"id": "title"}],
        sorts=[{"fieldId": amount, "sortOrder": "Desc"}],
        filter={"andAll": [
            {"field": {"greaterThanOrEqualTo": n(amount, 5)}},
            {"not": {"field": {"equalTo": b(urgent, True)}}},
            {"orAll": [{"tag": {"equalTo": {"key": "team", "value": "blue"}}},
                       {"field": {"lessThan": n(amount, 10)}}]},
            {"field": {"contains": s("title", "SEARCH-")}},
        ]},
        PaginationConfig={"PageSize": 4}):
    totals.add(p["totalCount"])
    cases += p["cases"]
want = sorted((i for i in made.values() if i >= 5 and i % 3 and (i % 2 or i < 10)), reverse=True)
got = [flat(c["fields"][0]["value"]) for c in cases]
assert got == want, (got, want)
assert totals == {len(want)}, totals
assert all([f["id"] for f in c["fields"]] == [amount, "title"] for c in cases)
assert len({c["caseId"] for c in cases}) == len(cases)
hit = cc.search_cases(domainId=domain, searchTerm="needle")
assert [made.get(c["caseId"]) for c in hit["cases"]] == [11] and hit["totalCount"] == 1, hit
expect_error("ValidationException", cc.search_cases, domainId=domain, filter={"field": {"equalTo": s("nope", "x")}})
expect_error("ValidationException", cc.search_cases, domainId=domain, nextToken="forged")

# Tags on a case and on a related item.
arn = first["caseArn"]
cc.tag_resource(arn=arn, tags={"tier": "gold"})
assert cc.list_tags_for_resource(arn=arn)["tags"]["tier"] == "gold"
tagged = cc.search_cases(domainId=domain, filter={"tag": {"equalTo": {"key": "tier", "value": "gold"}}})
assert [c["caseId"] for c in tagged["cases"]] == [case], tagged
cc.tag_resource(arn=link_item["relatedItemArn"], tags={"kind": "duplicate"})
assert cc.list_tags_for_resource(arn=link_item["relatedItemArn"])["tags"] == {"kind": "duplicate"}
cc.untag_resource(arn=arn, tagKeys=["tier"])
assert "tier" not in cc.list_tags_for_resource(arn=arn)["tags"]

# DeleteCase: the case and everything hanging off it are gone.
cc.delete_case(domainId=domain, caseId=case)
e = expect_error("ResourceNotFoundException", cc.get_case, domainId=domain, caseId=case, fields=[{"id": "title"}])
assert e.response["resourceType"] == "Case" and e.response["resourceId"] == case, e.response
expect_error("ResourceNotFoundException", cc.delete_case, domainId=domain, caseId=case)
expect_error("ResourceNotFoundException", cc.get_case_audit_events, domainId=domain, caseId=case)
expect_error("ResourceNotFoundException", cc.list_tags_for_resource, arn=arn)
assert case not in {c["caseId"] for p in cc.get_paginator("search_cases").paginate(domainId=domain) for c in p["cases"]}
print("boto3 cases: ok")
