"""Case events driven by boto3, unchanged but for endpoint_url: enable the
domain's event configuration, create, update, relate a contact, delete,
then read /_localcases/events (a long poll, then Server-Sent Events) and
check that exactly the right envelopes came, in order.
Usage: boto3-events.py ENDPOINT"""
import json
import sys
import threading
import urllib.request

import boto3
from botocore.config import Config

endpoint = sys.argv[1]
cc = boto3.client(
    "connectcases", endpoint_url=endpoint, region_name="us-east-1",
    aws_access_key_id="AKIDBOTO3EVENTS", aws_secret_access_key="secret",
    config=Config(retries={"max_attempts": 1, "mode": "standard"}),
)
CONTACT = "arn:aws:connect:us-east-1:000000000000:instance/inst-1/contact/contact-1"


def poll(domain, after="", wait=0):
    url = f"{endpoint}/_localcases/events?domainId={domain}&wait={wait}" + (f"&after={after}" if after else "")
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


domain = cc.create_domain(name="boto3-events")["domainId"]
template = cc.create_template(domainId=domain, name="Support")["templateId"]
cc.put_case_event_configuration(domainId=domain, eventBridge={
    "enabled": True,
    "includedData": {"caseData": {"fields": [{"id": "title"}]}, "relatedItemData": {"includeContent": False}},
})
start = poll(domain)["cursor"]

# A long poll started before the change answers with it.
got = {}
waiter = threading.Thread(target=lambda: got.update(poll(domain, start, wait=20)))
waiter.start()
case_id = cc.create_case(domainId=domain, templateId=template,
                         fields=[{"id": "title", "value": {"stringValue": "boto3 case"}}])["caseId"]
waiter.join(30)
assert not waiter.is_alive(), "the long poll did not answer"
assert [e["detail"]["eventType"] for e in got["events"]] == ["CASE.CREATED"], got
assert got["events"][0]["detail"]["case"]["fields"] == {"title": {"value": {"stringValue": "boto3 case"}}}, got

cc.update_case(domainId=domain, caseId=case_id, fields=[{"id": "title", "value": {"stringValue": "renamed"}}],
               performedBy={"customEntity": "sync-job"})
cc.update_case(domainId=domain, caseId=case_id, fields=[{"id": "title", "value": {"stringValue": "renamed"}}])  # no change: no event
item = cc.create_related_item(domainId=domain, caseId=case_id, type="Contact", content={"contact": {"contactArn": CONTACT}})
cc.delete_case(domainId=domain, caseId=case_id)

page = poll(domain, got["cursor"])
evs = page["events"]
assert [e["detail"]["eventType"] for e in evs] == ["CASE.UPDATED", "RELATED_ITEM.CREATED", "CASE.DELETED"], evs
upd, rel, dele = evs
assert upd["detail"]["performedBy"]["user"] == {"customEntity": "sync-job"}, upd
assert upd["detail"]["changedFieldIds"] == ["title", "last_updated_datetime"], upd["detail"]["changedFieldIds"]
assert upd["detail"]["case"]["fields"]["title"]["value"]["stringValue"] == "renamed", upd
assert rel["resources"][1] == item["relatedItemArn"], rel
assert rel["detail"]["relatedItem"]["relatedItemType"] == "Contact", rel
assert "contact" not in rel["detail"]["relatedItem"], "content without includeContent"
assert dele["detail"]["changedFieldIds"] == [] and dele["detail"]["case"]["caseId"] == case_id, dele
assert all(e["time"] >= e["detail"]["approximateChangeTime"][:19] for e in evs), evs

# The same events as a Server-Sent Events stream, resumed after the first.
req = urllib.request.Request(f"{endpoint}/_localcases/events?domainId={domain}",
                             headers={"Accept": "text/event-stream", "Last-Event-ID": start})
ids, types = [], []
with urllib.request.urlopen(req, timeout=30) as r:
    assert r.headers["Content-Type"] == "text/event-stream", r.headers
    event_id = None
    for line in r:
        line = line.decode().rstrip("\n")
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            ids.append(event_id)
            types.append(json.loads(line[6:])["detail"]["eventType"])
            if len(types) == 4:
                break
assert types == ["CASE.CREATED", "CASE.UPDATED", "RELATED_ITEM.CREATED", "CASE.DELETED"], types
assert ids[-1] == page["cursor"], (ids, page["cursor"])
print("boto3-events: ok")
