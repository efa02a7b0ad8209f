"""Helpers for the links app's tests: where the functions are, how AWS shapes events.

Imported by conftest.py and the tests (`import links_testing`): a module of its own with a
name unique in the repository, because two conftest.py files cannot both be `conftest`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config

from infra.testing import Handlers, LambdaContext, http_api_event, jwt_claims

APP = Path(__file__).resolve().parents[1]
LAMBDAS = APP / "lambdas"
FUNCTIONS = ("create_link", "redirect", "count_clicks", "nightly_report")
for _folder in (*FUNCTIONS, "shared"):
    if str(LAMBDAS / _folder) not in sys.path:
        sys.path.insert(0, str(LAMBDAS / _folder))

REGION = "eu-west-1"
ACCOUNT = "123456789012"
TABLE_NAME = "links-test-links"
TOPIC_NAME = "links-test-reports"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC_NAME}"
API_DOMAIN = f"a1b2c3d4e5.execute-api.{REGION}.amazonaws.com"
ALICE = "0b5c7d2e-51a1-4f6e-9a0e-6f1d2c3b4a51"
BOB = "9e8d7c6b-5a49-4382-b1c0-d9e8f7a6b5c4"

# What the repository's autouse fixture sets for every test; moto needs it earlier, once
# per module.
SANDBOX_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}

# Every variable the stack gives the links functions (app.py), as a deploy sets them.
FUNCTION_ENV = {
    "TABLE_NAME": TABLE_NAME,
    "LINK_TTL_DAYS": "7",
    "REDIRECT_STATUS": "302",
    "REPORT_TOPIC_ARN": TOPIC_ARN,
    "REPORT_SIZE": "10",
    "POWERTOOLS_SERVICE_NAME": "links-test",
    "LOG_LEVEL": "INFO",
}

HANDLERS = Handlers(LAMBDAS, prefix="links_")
load_handler = HANDLERS.load
clear_cached_clients = HANDLERS.clear_caches


# --- AWS as the data stack makes it ------------------------------------------------------


def create_links_table(client: Any) -> str:
    """The links table as the data stack declares it; returns its stream's ARN."""
    table = client.create_table(
        TableName=TABLE_NAME,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    client.update_time_to_live(
        TableName=TABLE_NAME,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    return table["TableDescription"]["LatestStreamArn"]


class Stream:
    """Reads the table's stream in moto, and shapes its records as Lambda delivers them."""

    def __init__(self, arn: str) -> None:
        # botocore would otherwise pick an account-based endpoint that moto does not serve.
        self.client = boto3.client(
            "dynamodbstreams", config=Config(account_id_endpoint_mode="disabled")
        )
        self.arn = arn
        shard = self.client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        self.iterator = self.client.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def read(self) -> list[dict[str, Any]]:
        """The records written since the last read, as event records."""
        answer = self.client.get_records(ShardIterator=self.iterator)
        self.iterator = answer["NextShardIterator"]
        return [self._as_delivered(record) for record in answer["Records"]]

    def _as_delivered(self, record: dict[str, Any]) -> dict[str, Any]:
        data = dict(record["dynamodb"])
        created = data["ApproximateCreationDateTime"]
        if isinstance(created, datetime):  # Lambda sends epoch seconds
            data["ApproximateCreationDateTime"] = float(int(created.timestamp()))
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record["eventVersion"],
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": data,
            "eventSourceARN": self.arn,
        }


def stream_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


@dataclass(frozen=True)
class Notification:
    subject: str
    message: str


# --- events as AWS delivers them ---------------------------------------------------------


FakeLambdaContext = partial(LambdaContext, function_name="links-test-fn")


def http_event(
    method: str,
    path: str,
    *,
    route_key: str,
    sub: str | None = None,
    signed_in: bool = True,
    body: Any = None,
    base64_body: bool = False,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event. `signed_in` routes carry the JWT
    authorizer's context (with `sub` when given); public routes carry none."""
    return http_api_event(
        method, path, route_key=route_key, claims=jwt_claims(sub) if signed_in else None,
        body=body, base64_body=base64_body, path_parameters=path_parameters,
    )  # fmt: skip


def create_link_event(
    body: Any = None, *, sub: str | None = ALICE, **kwargs: Any
) -> dict[str, Any]:
    """POST /links as the signed-in `sub`."""
    return http_event("POST", "/links", route_key="POST /links", sub=sub, body=body, **kwargs)


def redirect_event(code: str | None) -> dict[str, Any]:
    """GET /{code}, public: no authorizer context."""
    return http_event(
        "GET",
        f"/{quote(code or '', safe='')}",
        route_key="GET /{code}",
        signed_in=False,
        path_parameters=None if code is None else {"code": code},
    )


def scheduled_event(when: str = "2025-01-02T06:00:00Z") -> dict[str, Any]:
    """What EventBridge sends a function on a schedule rule."""
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": when,
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/links-test-nightly-report"],
        "detail": {},
    }
