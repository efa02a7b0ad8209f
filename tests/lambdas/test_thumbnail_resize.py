"""Rendering thumbnails with Pillow, and refusing what is not a usable image."""

from __future__ import annotations

import io
from typing import Any

import pytest
import thumbnail_resize
from PIL import Image


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ((2000, 1000), {128: (128, 64), 1024: (1024, 512)}),
        ((600, 1200), {128: (64, 128), 1024: (512, 1024)}),
        ((100, 50), {128: (100, 50), 1024: (100, 50)}),  # never upscaled
    ],
    ids=["landscape", "portrait", "small"],
)
def test_longest_edge_fits_each_size(
    image_bytes: Any, fmt: str, source: tuple[int, int], expected: dict[int, tuple[int, int]]
) -> None:
    rendered = thumbnail_resize.make_thumbnails(image_bytes(fmt, source), [1024, 128])
    assert sorted(rendered) == [128, 1024]
    for size, data in rendered.items():
        thumb = _open(data)
        assert thumb.format == "JPEG"
        assert thumb.mode == "RGB"
        assert thumb.size == expected[size]


def test_transparency_becomes_white() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(out, format="PNG")
    (data,) = thumbnail_resize.make_thumbnails(out.getvalue(), [32]).values()
    red, green, blue = _open(data).getpixel((16, 16))
    assert min(red, green, blue) > 245


def test_exif_orientation_is_applied_and_exif_dropped() -> None:
    """A phone photo stored sideways with Orientation=6 comes out upright, without EXIF."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    Image.new("RGB", (400, 200), "green").save(out, format="JPEG", exif=exif)
    (data,) = thumbnail_resize.make_thumbnails(out.getvalue(), [256]).values()
    thumb = _open(data)
    assert thumb.size == (128, 256)
    assert len(thumb.getexif()) == 0


def test_pixel_budget() -> None:
    out = io.BytesIO()
    Image.new("1", (8000, 7000)).save(out, format="PNG")  # 56 MP, a few KB on disk
    with pytest.raises(thumbnail_resize.InvalidImage, match="too large"):
        thumbnail_resize.make_thumbnails(out.getvalue(), [256])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"hello, I am a text file\n", "not a supported image"),
        (b"", "not a supported image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "not a supported image"),
    ],
    ids=["text", "empty", "pdf"],
)
def test_non_images_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(thumbnail_resize.InvalidImage, match=reason):
        thumbnail_resize.make_thumbnails(data, [256])


def test_unaccepted_format_is_refused(image_bytes: Any) -> None:
    with pytest.raises(thumbnail_resize.InvalidImage, match="not a supported image"):
        thumbnail_resize.make_thumbnails(image_bytes("BMP", (64, 64)), [256])


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image_is_refused(image_bytes: Any, fmt: str) -> None:
    data = image_bytes(fmt, (400, 300), **({"quality": 95} if fmt == "JPEG" else {}))
    with pytest.raises(thumbnail_resize.InvalidImage, match="corrupt or truncated"):
        thumbnail_resize.make_thumbnails(data[: len(data) // 2], [256])
