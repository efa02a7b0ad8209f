"""The nightly report: the most clicked links that still work, as one plain-text message.

Plain functions with their clients as arguments, so they are tested without Lambda.
"""

from __future__ import annotations

import heapq
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

import link_codes

DynamoDBClient: TypeAlias = Any  # botocore clients (no type stubs in the Lambda runtime)
SNSClient: TypeAlias = Any

logger = logging.getLogger("links.nightly_report")

TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}")
MAX_SUBJECT_CHARS = 99  # SNS: under 100, printable ASCII, no line breaks
MAX_MESSAGE_BYTES = 256 * 1024  # SNS's limit for one message


@dataclass(frozen=True)
class Settings:
    """What the function reads from its environment, validated once."""

    table_name: str
    topic_arn: str
    report_size: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        read = link_codes.EnvReader(env)
        return cls(
            table_name=read.text("TABLE_NAME"),
            topic_arn=read.matching("REPORT_TOPIC_ARN", TOPIC_ARN, "an SNS topic ARN"),
            report_size=read.integer("REPORT_SIZE", minimum=1, maximum=100),
        )


@dataclass(frozen=True)
class LinkStats:
    code: str
    url: str
    clicks: int


@dataclass(frozen=True)
class Report:
    """The top links (most clicked first, ties by code) and the totals over all links."""

    top: list[LinkStats]
    links: int
    clicks: int


def scan_links(client: DynamoDBClient, table_name: str, now: datetime) -> Iterator[LinkStats]:
    """Every link item that still works (click items and expired links are left out)."""
    pages = client.get_paginator("scan").paginate(
        TableName=table_name,
        FilterExpression="#sk = :link",
        ProjectionExpression="#pk, #sk, #url, #clicks, #expires",
        ExpressionAttributeNames={
            "#pk": "pk",
            "#sk": "sk",
            "#url": "url",
            "#clicks": "clicks",
            "#expires": "expires_at",
        },
        ExpressionAttributeValues={":link": {"S": link_codes.LINK_SK}},
    )
    cutoff = link_codes.epoch_seconds(now)
    for page in pages:
        for item in page.get("Items", []):
            stats = _link_stats(item, cutoff)
            if stats is not None:
                yield stats


def _link_stats(item: Mapping[str, Any], cutoff: int) -> LinkStats | None:
    """A link item's numbers; None for one that has expired or is not a link item."""
    code = link_codes.code_from_pk(item.get("pk", {}).get("S"))
    url = item.get("url", {}).get("S")
    try:
        clicks = int(item.get("clicks", {"N": "0"})["N"])
        expires_at = int(item["expires_at"]["N"]) if "expires_at" in item else None
    except (KeyError, TypeError, ValueError):
        code = None
    if code is None or not isinstance(url, str):
        logger.warning("Skipping an item that is not a link: pk %r", item.get("pk"))
        return None
    if expires_at is not None and expires_at <= cutoff:
        return None
    return LinkStats(code=code, url=url, clicks=clicks)


def build_report(links: Iterable[LinkStats], size: int) -> Report:
    """The `size` most clicked links, holding only those in memory."""
    count = total = 0

    def tally(stream: Iterable[LinkStats]) -> Iterator[LinkStats]:
        nonlocal count, total
        for link in stream:
            count += 1
            total += link.clicks
            yield link

    top = heapq.nsmallest(size, tally(links), key=lambda link: (-link.clicks, link.code))
    return Report(top=top, links=count, clicks=total)


def render(report: Report, when: datetime, source: str = "") -> tuple[str, str]:
    """The message's subject and plain-text body; `source` (the table) says which
    environment the report is about."""
    day = when.astimezone(UTC).strftime("%Y-%m-%d")
    subject = f"Links report {day}: {report.links} links, {report.clicks} clicks"
    lines = [f"Most clicked links on {day} (as of {when.astimezone(UTC):%H:%M} UTC)", ""]
    if report.top:
        width = max(len(link.code) for link in report.top)
        lines.append(f"{'Rank':>4}  {'Code':<{width}}  {'Clicks':>8}  URL")
        lines += [
            f"{rank:>4}  {link.code:<{width}}  {link.clicks:>8}  {_printable(link.url)}"
            for rank, link in enumerate(report.top, start=1)
        ]
    else:
        lines.append("No links yet: nothing to rank.")
    lines += [
        "",
        f"Links that work: {report.links}",
        f"Clicks on them: {report.clicks}",
        f"Listed: the top {len(report.top)}",
    ]
    if source:
        lines.append(f"From the table {_printable(source)}")
    return _subject(subject), "\n".join(lines) + "\n"


def _printable(text: str, *, spaces: bool = False) -> str:
    """Printable ASCII only (`?` for the rest): nothing can break a line of the report."""
    lowest = " " if spaces else "!"
    return "".join(c if lowest <= c <= "~" else "?" for c in text)


def _subject(text: str) -> str:
    text = _printable(text, spaces=True)
    return text if len(text) <= MAX_SUBJECT_CHARS else text[: MAX_SUBJECT_CHARS - 3] + "..."


def publish(sns: SNSClient, topic_arn: str, subject: str, body: str) -> str:
    """Send the report; returns SNS's message id."""
    if len(body.encode()) > MAX_MESSAGE_BYTES:
        raise ValueError(f"the report is larger than SNS's {MAX_MESSAGE_BYTES} bytes")
    return sns.publish(TopicArn=topic_arn, Subject=subject, Message=body)["MessageId"]


def report_time(event: object, now: datetime) -> datetime:
    """When the schedule fired (the event's `time`), else now."""
    value = event.get("time") if isinstance(event, Mapping) else None
    if isinstance(value, str):
        try:
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            logger.warning("The event's time %r is not an ISO time; using now", value[:40])
    return now


def send_report(
    *,
    dynamodb: DynamoDBClient,
    sns: SNSClient,
    settings: Settings,
    when: datetime,
    now: datetime,
) -> dict[str, Any]:
    """Scan, rank, publish; returns a summary for the log and the invocation's result."""
    report = build_report(scan_links(dynamodb, settings.table_name, now), settings.report_size)
    subject, body = render(report, when, settings.table_name)
    message_id = publish(sns, settings.topic_arn, subject, body)
    return {
        "links": report.links,
        "clicks": report.clicks,
        "listed": [link.code for link in report.top],
        "messageId": message_id,
    }
