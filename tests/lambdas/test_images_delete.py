"""DELETE /images/{id}: removes the upload, the thumbnails and the item, only the caller's."""

from __future__ import annotations

import json
import uuid
from typing import Any

import image_logic
import pytest
from botocore.exceptions import ClientError

UPLOADS = "photos-test-uploads"
MEDIA = "photos-test-media"


@pytest.fixture
def delete_image(aws: None, images_handler: Any, http_event: Any, lambda_context: Any) -> Any:
    """Call DELETE /images/{id} as a given caller; returns the raw response."""

    def call(image_id: str, **kwargs: Any) -> dict[str, Any]:
        event = http_event(
            "DELETE", f"/images/{image_id}", route_key="DELETE /images/{id}", **kwargs
        )
        return images_handler.lambda_handler(event, lambda_context)

    return call


@pytest.fixture
def stored_image(s3: Any, seed_item: Any) -> Any:
    """Factory: a ready image with its upload and thumbnail objects in place."""

    def make(owner: str) -> dict[str, Any]:
        image_id = str(uuid.uuid4())
        thumbnails = {size: f"thumbnails/{owner}/{image_id}/{size}.jpg" for size in ("256", "1024")}
        s3.put_object(Bucket=UPLOADS, Key=f"uploads/{owner}/{image_id}", Body=b"original")
        for key in thumbnails.values():
            s3.put_object(Bucket=MEDIA, Key=key, Body=b"jpeg")
        return seed_item(owner, image_id=image_id, status="ready", thumbnails=thumbnails)

    return make


def test_deletes_objects_and_item_of_that_image_only(
    delete_image: Any,
    stored_image: Any,
    get_item: Any,
    list_keys: Any,
    alice: str,
) -> None:
    doomed = stored_image(alice)
    kept = stored_image(alice)
    response = delete_image(doomed["image_id"])
    assert response["statusCode"] == 204
    assert not response.get("body")
    assert get_item(alice, doomed["image_id"]) is None
    assert get_item(alice, kept["image_id"]) is not None
    assert list_keys(UPLOADS) == [kept["upload_key"]]
    assert list_keys(MEDIA) == sorted(kept["thumbnails"].values())


def test_another_users_image_is_404_and_untouched(
    delete_image: Any,
    stored_image: Any,
    get_item: Any,
    list_keys: Any,
    alice: str,
    bob: str,
) -> None:
    image = stored_image(alice)
    response = delete_image(image["image_id"], sub=bob)
    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {"message": "Not found"}
    assert get_item(alice, image["image_id"]) is not None
    assert list_keys(UPLOADS) == [image["upload_key"]]
    assert len(list_keys(MEDIA)) == 2


@pytest.mark.parametrize("image_id", [str(uuid.uuid4()), "nope"], ids=["unknown", "malformed"])
def test_unknown_id_is_404(delete_image: Any, image_id: str) -> None:
    assert delete_image(image_id)["statusCode"] == 404


def test_a_failed_delete_can_be_retried(
    delete_image: Any,
    stored_image: Any,
    images_handler: Any,
    get_item: Any,
    list_keys: Any,
    alice: str,
) -> None:
    image = stored_image(alice)
    calls = {"n": 0}

    def fail_first_media_delete(params: dict[str, Any], **_: Any) -> None:
        if params["Bucket"] == MEDIA and calls["n"] == 0:
            calls["n"] += 1
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow"}}, "DeleteObject")

    images_handler._s3().meta.events.register(
        "before-parameter-build.s3.DeleteObject", fail_first_media_delete
    )
    with pytest.raises(ClientError):
        delete_image(image["image_id"])
    assert get_item(alice, image["image_id"]) is not None  # still listed, so still deletable
    assert delete_image(image["image_id"])["statusCode"] == 204
    assert get_item(alice, image["image_id"]) is None
    assert list_keys(UPLOADS) == list_keys(MEDIA) == []


class _ThumbnailLandsDuringDelete:
    """A table whose item gains a thumbnail between our read and our delete."""

    def __init__(self, table: Any, s3: Any, key: str) -> None:
        self._table, self._s3, self._key = table, s3, key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def delete_item(self, **kwargs: Any) -> Any:
        self._s3.put_object(Bucket=MEDIA, Key=self._key, Body=b"late")
        self._table.update_item(
            Key=kwargs["Key"],
            UpdateExpression="SET thumbnails.#s = :k",
            ExpressionAttributeNames={"#s": "2048"},
            ExpressionAttributeValues={":k": self._key},
        )
        return self._table.delete_item(**kwargs)


def test_thumbnails_written_during_delete_are_removed(
    table: Any, s3: Any, stored_image: Any, list_keys: Any, alice: str
) -> None:
    image = stored_image(alice)
    late_key = f"thumbnails/{alice}/{image['image_id']}/2048.jpg"
    image_logic.delete_image(
        table=_ThumbnailLandsDuringDelete(table, s3, late_key),
        s3=s3,
        settings=image_logic.Settings("photos-test-images", UPLOADS, MEDIA),
        owner=alice,
        image_id=image["image_id"],
    )
    assert list_keys(MEDIA) == []
