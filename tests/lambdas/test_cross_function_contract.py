"""The functions share no code, so these checks keep their copies of the key format in step."""

from __future__ import annotations

import json
import uuid
from typing import Any

import analyze_events
import image_logic
import pytest
import thumbnail_events
import thumbnail_logic
import upload_logic
from aws_lambda_powertools.utilities.data_classes import SNSEvent

SUBS = ["0b5c7d2e-51a1-4f6e-9a0e-6f1d2c3b4a51", "eu-west-1_abc", "A" * 128]


def test_sub_rules_agree() -> None:
    assert upload_logic.SUB_PATTERN.pattern == image_logic.SUB_PATTERN.pattern
    owner_group = "(?P<owner>" + upload_logic.SUB_PATTERN.pattern + ")"
    assert owner_group in thumbnail_events.UPLOAD_KEY.pattern
    assert thumbnail_events.UPLOAD_KEY.pattern == analyze_events.UPLOAD_KEY.pattern


@pytest.mark.parametrize("sub", SUBS)
def test_every_issued_upload_key_is_understood_by_both_readers(events: Any, sub: str) -> None:
    image_id = str(uuid.uuid4())
    assert image_logic.IMAGE_ID_PATTERN.fullmatch(image_id)
    key = upload_logic.upload_key(upload_logic.validate_owner(sub), image_id)
    message = json.dumps(events.s3_notification(key, etag="e1"))
    bucket = "photos-test-uploads"
    (by_thumbnail,) = thumbnail_events.parse_s3_notification(message, bucket=bucket)
    (by_analyze,) = analyze_events.parse_sns_event(
        SNSEvent(events.sns_event(message)), bucket=bucket
    )
    assert (by_thumbnail.owner, by_thumbnail.image_id) == (sub, image_id)
    assert (by_analyze.owner, by_analyze.image_id) == (sub, image_id)


def test_images_deletes_the_thumbnails_the_thumbnail_function_writes() -> None:
    owner, image_id = SUBS[0], str(uuid.uuid4())
    keys = {thumbnail_logic.thumbnail_key(owner, image_id, size) for size in (256, 1024)}
    item = {"thumbnails": {str(i): key for i, key in enumerate(keys)}}
    assert image_logic._thumbnail_keys(item, owner, image_id) == keys
