"""boto3's health client, unchanged but for the endpoint, through an outage
scenario's whole life cycle (open, details, affected entities, closed), the
filters, pagination, validation and the support-plan fallback.
Usage: boto3-health.py ENDPOINT"""
import datetime
import json
import sys
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

endpoint = sys.argv[1]


def admin(method, path, body=None):
    req = urllib.request.Request(endpoint + "/_localcases/" + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req).read() or b"null")


creds = dict(region_name="us-east-1", aws_access_key_id="AKIDBOTO3", aws_secret_access_key="secret")
cc = boto3.client("connectcases", endpoint_url=endpoint, config=Config(retries={"total_max_attempts": 1}), **creds)
health = boto3.client("health", endpoint_url=endpoint, **creds)
# Without client-side validation, so the server's own checks answer.
raw = boto3.client("health", endpoint_url=endpoint, config=Config(parameter_validation=False), **creds)


def code_of(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("want an error from %s %s" % (fn.__name__, kw))


domain_arn = cc.create_domain(name="health-boto3")["domainArn"]
assert health.describe_events(filter={"eventStatusCodes": ["open"]})["events"] == []

# The outage opens an issue.
admin("POST", "scenario", {"preset": "outage", "duration": "1h", "operations": ["CreateCase", "GetCase"]})
events = health.describe_events(filter={"services": ["CONNECT"], "eventStatusCodes": ["open"]})["events"]
assert len(events) == 1, events
ev = events[0]
assert ev["eventTypeCode"] == "AWS_CONNECT_OPERATIONAL_ISSUE" and ev["eventTypeCategory"] == "issue", ev
assert ev["region"] == "us-east-1" and ev["statusCode"] == "open" and "endTime" not in ev, ev
assert ev["startTime"].tzinfo is not None  # parsed from epoch seconds
arn = ev["arn"]

details = health.describe_event_details(eventArns=[arn])
assert details["failedSet"] == [], details
desc = details["successfulSet"][0]["eventDescription"]["latestDescription"]
assert "CreateCase and GetCase APIs" in desc and "All calls to the affected APIs" in desc, desc

entities = health.describe_affected_entities(filter={"eventArns": [arn]})["entities"]
assert [e["entityValue"] for e in entities] == [domain_arn], entities
assert entities[0]["statusCode"] == "IMPAIRED", entities

agg = health.describe_event_aggregates(aggregateField="eventTypeCategory", filter={"eventStatusCodes": ["open"]})
assert agg["eventAggregates"] == [{"aggregateValue": "issue", "count": 1}], agg
assert health.describe_entity_aggregates(eventArns=[arn])["entityAggregates"][0]["count"] == 1
codes = [t["code"] for t in health.describe_event_types(filter={"eventTypeCategories": ["issue"]})["eventTypes"]]
assert codes == ["AWS_CONNECT_OPERATIONAL_ISSUE"], codes

# The scenario ends: the event closes, the entity is resolved.
admin("DELETE", "scenario")
ev = health.describe_events(filter={"eventArns": [arn]})["events"][0]
assert ev["statusCode"] == "closed" and ev["endTime"] >= ev["startTime"], ev
assert health.describe_events(filter={"eventStatusCodes": ["open"]})["events"] == []
desc = health.describe_event_details(eventArns=[arn])["successfulSet"][0]["eventDescription"]["latestDescription"]
assert "The issue has been resolved" in desc, desc
assert health.describe_affected_entities(filter={"eventArns": [arn]})["entities"][0]["statusCode"] == "RESOLVED"

# Filters by time (botocore sends whole epoch seconds): ranges are inclusive.
second = datetime.timedelta(seconds=1)
got = health.describe_events(filter={"startTimes": [{"from": ev["startTime"] - second, "to": ev["startTime"] + second}]})["events"]
assert [e["arn"] for e in got] == [arn], got
got = health.describe_events(filter={"endTimes": [{"to": ev["startTime"] - second}]})["events"]
assert got == [], got

# Pagination through the paginator, over posted notices.
for i in range(12):
    admin("POST", "health/events", {"category": "accountNotification", "description": "notice %d" % i})
pages = list(health.get_paginator("describe_events").paginate(PaginationConfig={"PageSize": 5}))
assert [len(p["events"]) for p in pages] == [5, 5, 3], [len(p["events"]) for p in pages]
assert len({e["arn"] for p in pages for e in p["events"]}) == 13

# Validation and errors, in the awsJson1_1 shape.
code, msg = code_of(raw.describe_events, maxResults=0)
assert code == "ValidationException" and "'maxResults'" in msg, msg
code, msg = code_of(raw.describe_event_details, eventArns=["not-an-arn"])
assert code == "ValidationException" and "eventArns[0]" in msg, msg
code, _ = code_of(raw.describe_affected_entities, filter={})
assert code == "ValidationException"
code, _ = code_of(health.describe_events, nextToken="bm90LWEtdG9rZW4=")
assert code == "InvalidPaginationToken"
code, _ = code_of(health.describe_events, locale="fr")
assert code == "UnsupportedLocale"
missing = health.describe_event_details(eventArns=["arn:aws:health:us-east-1::event/CONNECT/X_Y/X_Y_1"])
assert missing["successfulSet"] == [] and len(missing["failedSet"]) == 1, missing

# An account without a support plan.
admin("PUT", "health/subscription", {"required": True})
try:
    health.describe_events()
    raise AssertionError("want SubscriptionRequiredException")
except ClientError as e:
    assert e.response["Error"]["Code"] == "SubscriptionRequiredException", e.response
admin("PUT", "health/subscription", {"required": False})

# The Cases API is unaffected by the Health route.
assert any(d["domainArn"] == domain_arn for d in cc.list_domains()["domains"])
print("boto3 health: ok")
