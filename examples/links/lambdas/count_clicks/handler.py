"""The links table's stream: add each new click to its link, once.

Thin: hand the batch's records to count_clicks_logic and return its partial batch
response. The settings and the client are created once per container, on first use.
"""

from __future__ import annotations

import functools
import logging
import os
from datetime import UTC, datetime
from typing import Any

import boto3
import count_clicks_logic

logger = logging.getLogger("links.count_clicks")
logger.setLevel(logging.INFO)


@functools.cache
def _settings() -> count_clicks_logic.Settings:
    return count_clicks_logic.Settings.from_env(os.environ)


@functools.cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = _settings()
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        logger.error("Not a stream batch: no Records list; nothing to count")
        return {"batchItemFailures": []}
    return count_clicks_logic.count_batch(records, _dynamodb(), settings, datetime.now(UTC))
