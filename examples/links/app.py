"""links, a link shortener: the example app of another shape, using the library unchanged.

- `POST /links` (signed in) stores a short code for a URL, with a time to live;
- `GET /{code}` (public, no authorizer) answers with a redirect and records the click;
- the table's stream feeds `count-clicks`, which adds each click to its link once;
- a nightly schedule runs `nightly-report`, which sends the top links to a topic.

No site and no buckets: the library renders no frontend stack for it.
"""

from __future__ import annotations

from awacs import dynamodb, sns

from infra.app import (
    App,
    Function,
    HttpRoutes,
    Schedule,
    Setting,
    Table,
    TableStream,
    Topic,
    UserPool,
)

SHARED = ("link_codes.py", "http_responses.py")

link_ttl_days = Setting(
    "link_ttl_days", int, default=90, minimum=1, maximum=3650,
    description="How long a new link works, in days (then DynamoDB's TTL removes it)",
)  # fmt: skip
redirect_status = Setting(
    "redirect_status", int, default=302, choices=(301, 302, 307, 308),
    description="The HTTP status of a redirect (sent with Cache-Control: no-store, so every "
    "click reaches the function and is counted)",
)  # fmt: skip
report_size = Setting(
    "report_size", int, default=10, minimum=1, maximum=100,
    description="How many links the nightly report lists",
)  # fmt: skip

# pk LINK#<code>; sk LINK for the link itself, CLICK#<time>#<id> for each click (short TTL).
links = Table(
    "links", partition_key="pk", sort_key="sk", ttl_attribute="expires_at", stream="NEW_IMAGE"
)
reports = Topic("reports")

create_link = Function(
    name="create-link",
    code="lambdas/create_link",
    shared=SHARED,
    description="POST /links: a short code for the caller's URL",
    trigger=HttpRoutes("POST /links"),
    environment={"TABLE_NAME": links.table_name, "LINK_TTL_DAYS": link_ttl_days.text},
    grants=(links.grant(dynamodb.PutItem),),
)
redirect = Function(
    name="redirect",
    code="lambdas/redirect",
    shared=SHARED,
    description="GET /{code}: redirect to the link's URL and record the click",
    trigger=HttpRoutes("GET /{code}", public=True),
    environment={"TABLE_NAME": links.table_name, "REDIRECT_STATUS": redirect_status.text},
    grants=(links.grant(dynamodb.GetItem, dynamodb.PutItem),),
)
count_clicks = Function(
    name="count-clicks",
    code="lambdas/count_clicks",
    shared=("link_codes.py",),
    description="Adds each recorded click to its link, once",
    # Only new clicks reach it: link items and the counter's own updates are filtered out.
    trigger=TableStream(
        links,
        batch_size=100,
        filters=(
            {"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "CLICK#"}]}}}},
        ),
    ),
    environment={"TABLE_NAME": links.table_name},
    # One transaction per click: mark the click counted, add it to the link.
    grants=(links.grant(dynamodb.UpdateItem),),
)
nightly_report = Function(
    name="nightly-report",
    code="lambdas/nightly_report",
    shared=("link_codes.py",),
    description="Sends the most clicked links to the reports topic every night",
    timeout=60,
    trigger=Schedule("cron(0 6 * * ? *)", description="The nightly report, 06:00 UTC"),
    environment={
        "TABLE_NAME": links.table_name,
        "REPORT_TOPIC_ARN": reports.topic_arn,
        "REPORT_SIZE": report_size.text,
    },
    grants=(links.grant(dynamodb.Scan), reports.grant(sns.Publish)),
)

app = App(
    tables=(links,),
    topics=(reports,),
    user_pool=UserPool(),
    functions=(create_link, redirect, count_clicks, nightly_report),
    settings=(link_ttl_days, redirect_status, report_size),
)
