"""EventBridge's schedule -> nightly-report: the top links, sent to the reports topic.

The report is read where a subscriber gets it: an SQS queue subscribed to the topic.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import link_codes
import links_testing as lt
import nightly_report_logic
import pytest

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture
def run(nightly_report_handler: ModuleType, context: Any) -> Any:
    def call(event: Any = None) -> dict[str, Any]:
        return nightly_report_handler.lambda_handler(event or lt.scheduled_event(), context)

    return call


def body_lines(report: lt.Notification) -> list[str]:
    return report.message.splitlines()


def test_the_most_clicked_links_in_order(
    run: Any, seed_link: Any, table: Any, read_reports: Any
) -> None:
    seed_link("popular", "https://example.com/popular", clicks=42)
    seed_link("middle1", "https://example.com/middle", clicks=7)
    seed_link("quiet01", "https://example.com/quiet", clicks=0)
    seed_link("tie-b", "https://example.com/b", clicks=7)
    # Click items share the links' partitions; they are not links.
    now = datetime.now(UTC)
    table.put_item(Item={**link_codes.click_key("popular", now, uuid.uuid4()), "expires_at": 1})

    summary = run()
    (report,) = read_reports()
    assert summary["links"] == 4 and summary["clicks"] == 56
    assert summary["listed"] == ["popular", "middle1", "tie-b", "quiet01"]
    assert summary["messageId"]

    assert report.subject == "Links report 2025-01-02: 4 links, 56 clicks"
    assert len(report.subject) < 100
    lines = body_lines(report)
    assert lines[0] == "Most clicked links on 2025-01-02 (as of 06:00 UTC)"
    table_rows = [line.split() for line in lines if line[:4].strip().isdigit()]
    assert table_rows == [
        ["1", "popular", "42", "https://example.com/popular"],
        ["2", "middle1", "7", "https://example.com/middle"],
        ["3", "tie-b", "7", "https://example.com/b"],
        ["4", "quiet01", "0", "https://example.com/quiet"],
    ]
    assert "Links that work: 4" in lines
    assert "Clicks on them: 56" in lines
    assert lines[-1] == f"From the table {lt.TABLE_NAME}"


def test_only_report_size_links_are_listed(
    run: Any, seed_link: Any, read_reports: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORT_SIZE", "3")
    for n in range(12):
        seed_link(f"code{n:02d}", f"https://example.com/{n}", clicks=n)
    summary = run()
    assert summary["listed"] == ["code11", "code10", "code09"]
    assert summary["links"] == 12 and summary["clicks"] == sum(range(12))
    (report,) = read_reports()
    rows = [line for line in body_lines(report) if line[:4].strip().isdigit()]
    assert len(rows) == 3
    assert "Listed: the top 3" in body_lines(report)


def test_an_empty_table_still_sends_a_report(run: Any, read_reports: Any) -> None:
    summary = run()
    assert summary["links"] == 0 and summary["listed"] == []
    (report,) = read_reports()
    assert report.subject == "Links report 2025-01-02: 0 links, 0 clicks"
    assert "No links yet: nothing to rank." in report.message
    assert "Links that work: 0" in report.message


def test_expired_links_are_left_out(run: Any, seed_link: Any, read_reports: Any) -> None:
    seed_link("expired", clicks=1000, expires_at=int(time.time()) - 10)
    seed_link("current", clicks=1)
    summary = run()
    assert summary["listed"] == ["current"]
    assert summary["clicks"] == 1
    assert "expired" not in read_reports()[0].message


def test_every_page_of_the_scan_is_read(
    run: Any, table: Any, nightly_report_handler: ModuleType, read_reports: Any
) -> None:
    """DynamoDB returns at most 1 MB a page: 700 links of 1.9 KB each take two."""
    long_path = "p" * 1900
    with table.batch_writer() as batch:
        for n in range(700):
            batch.put_item(
                Item={
                    **link_codes.link_key(f"bulk{n:04d}"),
                    "url": f"https://example.com/{n}/{long_path}",
                    "owner": lt.ALICE,
                    "created_at": "2025-01-02T03:04:05.000000Z",
                    "expires_at": int(time.time()) + 3600,
                    "clicks": n,
                }
            )
    scans: list[str] = []
    nightly_report_handler._dynamodb().meta.events.register(
        "after-call.dynamodb.Scan", lambda **_: scans.append("page")
    )
    summary = run()
    assert len(scans) >= 2
    assert summary["links"] == 700
    assert summary["clicks"] == sum(range(700))
    assert summary["listed"][:3] == ["bulk0699", "bulk0698", "bulk0697"]
    (report,) = read_reports()
    assert len(report.message.encode()) < nightly_report_logic.MAX_MESSAGE_BYTES


def test_a_malformed_item_is_skipped(
    run: Any, table: Any, seed_link: Any, read_reports: Any
) -> None:
    seed_link("good001", clicks=2)
    table.put_item(Item={"pk": "LINK#a/b", "sk": "LINK", "url": "https://x.example/"})
    table.put_item(Item={"pk": "LINK#nourl1", "sk": "LINK", "clicks": 9})
    table.put_item(Item={"pk": "LINK#badnum", "sk": "LINK", "url": "u", "clicks": "many"})
    assert run()["listed"] == ["good001"]
    assert len(read_reports()) == 1


def test_a_url_with_odd_characters_cannot_break_the_report_lines(
    run: Any, seed_link: Any, read_reports: Any
) -> None:
    seed_link("oddurl1", "https://example.com/\r\nFake line", clicks=1)
    run()
    lines = body_lines(read_reports()[0])
    assert not any(line.startswith("Fake line") for line in lines)


def test_the_day_is_the_schedules(run: Any, read_reports: Any) -> None:
    run(lt.scheduled_event("2026-03-04T06:00:00Z"))
    assert read_reports()[0].subject.startswith("Links report 2026-03-04:")


def test_an_event_without_a_time_uses_now(run: Any, read_reports: Any) -> None:
    run({"detail-type": "Scheduled Event", "time": "yesterday"})
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert read_reports()[0].subject.startswith(f"Links report {today}:")


def test_a_long_subject_is_cut_under_100_characters() -> None:
    report = nightly_report_logic.Report(top=[], links=10**60, clicks=10**60)
    subject, _ = nightly_report_logic.render(report, datetime(2025, 1, 2, tzinfo=UTC))
    assert len(subject) < 100 and subject.endswith("...")
    assert subject.isascii() and subject.isprintable()


ENV = {"TABLE_NAME": "t", "REPORT_TOPIC_ARN": lt.TOPIC_ARN, "REPORT_SIZE": "10"}


class TestSettings:
    def test_reads_its_three_variables(self) -> None:
        settings = nightly_report_logic.Settings.from_env(ENV)
        assert settings == nightly_report_logic.Settings("t", lt.TOPIC_ARN, 10)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"TABLE_NAME": ""}, "TABLE_NAME is not set"),
            ({"REPORT_TOPIC_ARN": ""}, "REPORT_TOPIC_ARN is not set"),
            ({"REPORT_TOPIC_ARN": "reports"}, "REPORT_TOPIC_ARN must be an SNS topic ARN"),
            (
                {"REPORT_TOPIC_ARN": "arn:aws:sqs:eu-west-1:123456789012:q"},
                "REPORT_TOPIC_ARN must be an SNS topic ARN",
            ),
            ({"REPORT_SIZE": ""}, "REPORT_SIZE is not set"),
            ({"REPORT_SIZE": "0"}, r"REPORT_SIZE must be 1\.\.100"),
            ({"REPORT_SIZE": "101"}, r"REPORT_SIZE must be 1\.\.100"),
            ({"REPORT_SIZE": "ten"}, "REPORT_SIZE must be a whole number"),
        ],
    )
    def test_a_bad_environment_names_the_variable(
        self, change: dict[str, str], message: str
    ) -> None:
        with pytest.raises(link_codes.ConfigError, match=message):
            nightly_report_logic.Settings.from_env({**ENV, **change})

    def test_the_china_and_govcloud_partitions(self) -> None:
        for arn in (
            "arn:aws-cn:sns:cn-north-1:123456789012:reports",
            "arn:aws-us-gov:sns:us-gov-west-1:123456789012:reports",
        ):
            assert nightly_report_logic.Settings.from_env({**ENV, "REPORT_TOPIC_ARN": arn})
