"""Each function reads its environment once and names the variable when it is wrong."""

from __future__ import annotations

import analyze_logic
import image_logic
import pytest
import thumbnail_logic
import upload_logic

UPLOADS_BASE = {"TABLE_NAME": "t", "UPLOAD_BUCKET": "u"}


def test_uploads_defaults() -> None:
    settings = upload_logic.Settings.from_env(UPLOADS_BASE)
    assert settings.allowed_content_types == ("image/jpeg", "image/png", "image/webp", "image/gif")
    assert settings.url_expires_seconds == 300
    assert settings.max_upload_bytes == 10 * 1024 * 1024


def test_uploads_reads_every_variable() -> None:
    settings = upload_logic.Settings.from_env(
        UPLOADS_BASE
        | {
            "MAX_UPLOAD_BYTES": "2048",
            "ALLOWED_CONTENT_TYPES": " image/PNG , image/jpeg,",
            "UPLOAD_URL_EXPIRES_SECONDS": "60",
        }
    )
    assert settings == upload_logic.Settings(
        table_name="t",
        upload_bucket="u",
        max_upload_bytes=2048,
        allowed_content_types=("image/png", "image/jpeg"),
        url_expires_seconds=60,
    )


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"UPLOAD_BUCKET": "u"}, "TABLE_NAME"),
        ({"TABLE_NAME": "t"}, "UPLOAD_BUCKET"),
        (UPLOADS_BASE | {"MAX_UPLOAD_BYTES": "ten"}, "MAX_UPLOAD_BYTES"),
        (UPLOADS_BASE | {"MAX_UPLOAD_BYTES": "0"}, "MAX_UPLOAD_BYTES"),
        (UPLOADS_BASE | {"UPLOAD_URL_EXPIRES_SECONDS": "604801"}, "UPLOAD_URL_EXPIRES_SECONDS"),
        (UPLOADS_BASE | {"ALLOWED_CONTENT_TYPES": " , "}, "ALLOWED_CONTENT_TYPES"),
    ],
)
def test_uploads_bad_env(env: dict[str, str], names: str) -> None:
    with pytest.raises(upload_logic.ConfigError, match=names):
        upload_logic.Settings.from_env(env)


@pytest.mark.parametrize("missing", ["TABLE_NAME", "UPLOAD_BUCKET", "MEDIA_BUCKET"])
def test_images_requires_every_variable(missing: str) -> None:
    env = {"TABLE_NAME": "t", "UPLOAD_BUCKET": "u", "MEDIA_BUCKET": "m"}
    assert image_logic.Settings.from_env(env) == image_logic.Settings("t", "u", "m")
    del env[missing]
    with pytest.raises(image_logic.ConfigError, match=missing):
        image_logic.Settings.from_env(env)


@pytest.mark.parametrize(
    ("raw", "sizes"),
    [(None, (256, 1024)), ("", (256, 1024)), ("1024, 128,128", (128, 1024)), ("64", (64,))],
)
def test_thumbnail_sizes(raw: str | None, sizes: tuple[int, ...]) -> None:
    env = {"TABLE_NAME": "t", "MEDIA_BUCKET": "m", "UPLOAD_BUCKET": "u"}
    if raw is not None:
        env["THUMBNAIL_SIZES"] = raw
    assert thumbnail_logic.Settings.from_env(env).sizes == sizes


THUMBNAIL_ENV = {"TABLE_NAME": "t", "MEDIA_BUCKET": "m", "UPLOAD_BUCKET": "u"}


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"MEDIA_BUCKET": "m", "UPLOAD_BUCKET": "u"}, "TABLE_NAME"),
        ({"TABLE_NAME": "t", "UPLOAD_BUCKET": "u"}, "MEDIA_BUCKET"),
        ({"TABLE_NAME": "t", "MEDIA_BUCKET": "m"}, "UPLOAD_BUCKET"),
        ({**THUMBNAIL_ENV, "THUMBNAIL_SIZES": "small"}, "THUMBNAIL_SIZES"),
        ({**THUMBNAIL_ENV, "THUMBNAIL_SIZES": "0,256"}, "THUMBNAIL_SIZES"),
        ({**THUMBNAIL_ENV, "THUMBNAIL_SIZES": "9000"}, "THUMBNAIL_SIZES"),
    ],
)
def test_thumbnail_bad_env(env: dict[str, str], names: str) -> None:
    with pytest.raises(thumbnail_logic.ConfigError, match=names):
        thumbnail_logic.Settings.from_env(env)


def test_analyze_defaults_and_overrides() -> None:
    defaults = analyze_logic.Settings.from_env({"TABLE_NAME": "t", "UPLOAD_BUCKET": "u"})
    assert (defaults.max_labels, defaults.min_confidence) == (10, 80.0)
    custom = analyze_logic.Settings.from_env(
        {"TABLE_NAME": "t", "UPLOAD_BUCKET": "u", "MAX_LABELS": "25", "MIN_CONFIDENCE": "55.5"}
    )
    assert (custom.max_labels, custom.min_confidence) == (25, 55.5)


ANALYZE_ENV = {"TABLE_NAME": "t", "UPLOAD_BUCKET": "u"}


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"UPLOAD_BUCKET": "u"}, "TABLE_NAME"),
        ({"TABLE_NAME": "t"}, "UPLOAD_BUCKET"),
        ({**ANALYZE_ENV, "MAX_LABELS": "0"}, "MAX_LABELS"),
        ({**ANALYZE_ENV, "MAX_LABELS": "many"}, "MAX_LABELS"),
        ({**ANALYZE_ENV, "MIN_CONFIDENCE": "101"}, "MIN_CONFIDENCE"),
        ({**ANALYZE_ENV, "MIN_CONFIDENCE": "high"}, "MIN_CONFIDENCE"),
    ],
)
def test_analyze_bad_env(env: dict[str, str], names: str) -> None:
    with pytest.raises(analyze_logic.ConfigError, match=names):
        analyze_logic.Settings.from_env(env)
