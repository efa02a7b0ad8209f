"""EventBridge's nightly schedule: send the most clicked links to the reports topic.

Thin: hand the clients to nightly_report_logic and return its summary. The settings
and the clients are created once per container, on first use.
"""

from __future__ import annotations

import functools
import logging
import os
from datetime import UTC, datetime
from typing import Any

import boto3
import nightly_report_logic

logger = logging.getLogger("links.nightly_report")
logger.setLevel(logging.INFO)


@functools.cache
def _settings() -> nightly_report_logic.Settings:
    return nightly_report_logic.Settings.from_env(os.environ)


@functools.cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb")


@functools.cache
def _sns() -> Any:
    return boto3.client("sns")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = _settings()
    now = datetime.now(UTC)
    summary = nightly_report_logic.send_report(
        dynamodb=_dynamodb(),
        sns=_sns(),
        settings=settings,
        when=nightly_report_logic.report_time(event, now),
        now=now,
    )
    logger.info("Report sent: %s", summary)
    return summary
