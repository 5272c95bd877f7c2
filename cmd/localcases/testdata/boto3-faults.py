"""boto3 sees injected faults as the real service would send them.
Usage: boto3-faults.py ENDPOINT"""
import json
import sys
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]


def set_rules(rules):
    req = urllib.request.Request(endpoint + "/_localcases/faults", data=json.dumps(rules).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


cc = boto3.client("connectcases", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="AKIDBOTO3", aws_secret_access_key="secret",
                  config=Config(retries={"total_max_attempts": 1}))

set_rules([{"operation": "ListDomains", "error": {"code": "InternalServerException", "retryAfterSeconds": 4}}])
try:
    cc.list_domains()
    raise AssertionError("want InternalServerException")
except ClientError as e:
    assert e.response["Error"]["Code"] == "InternalServerException", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert e.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "4", e.response
    assert e.response["ResponseMetadata"]["RequestId"]
    assert isinstance(e, cc.exceptions.InternalServerException)

set_rules([{"operation": "ListDomains", "error": {"code": "ThrottlingException"}}])
try:
    cc.list_domains()
    raise AssertionError("want ThrottlingException")
except cc.exceptions.ThrottlingException as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429

# With botocore's standard retries, attempts 1-2 fail and the third succeeds.
set_rules([{"operation": "ListDomains", "attempts": "1-2", "error": {"code": "InternalServerException", "retryAfterSeconds": 0}}])
retrying = boto3.client("connectcases", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIDBOTO3", aws_secret_access_key="secret",
                        config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
out = retrying.list_domains()
assert out["ResponseMetadata"]["RetryAttempts"] == 2, out["ResponseMetadata"]
print("boto3 faults: ok")
