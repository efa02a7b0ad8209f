"""Decode an uploaded image once and render JPEG thumbnails from it.

Uploads are untrusted bytes: anything Pillow cannot fully decode, in a format we
accept, within a pixel budget, is an InvalidImage (a permanent failure, never
retried). Output JPEGs carry no EXIF, so camera GPS data never reaches the media
bucket; orientation is applied to the pixels first.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# ~50 megapixels: a 12-bit camera frame fits; a decompression bomb does not.
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 85


class InvalidImage(ValueError):
    """The upload is not an image we can use; the message is stored on the item."""


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparent areas become white rather than black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def decode(data: bytes, largest: int) -> Image.Image:
    """Fully decode the first frame, upright and in RGB, or raise InvalidImage."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise InvalidImage(
                    f"image is too large: {image.width}x{image.height} pixels "
                    f"(limit {MAX_PIXELS:,})"
                )
            image.draft("RGB", (largest, largest))  # JPEG only: decode at a reduced scale
            image.load()
            return _flatten(ImageOps.exif_transpose(image))
        except InvalidImage:
            raise
        except UnidentifiedImageError:
            accepted = ", ".join(ACCEPTED_FORMATS)
            raise InvalidImage(f"not a supported image (accepted: {accepted})") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise InvalidImage("image is too large to decode safely") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InvalidImage(f"image data is corrupt or truncated ({exc})") from None


def render(image: Image.Image, size: int) -> bytes:
    """One JPEG whose longest edge is at most `size` (never upscaled)."""
    thumb = image.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def make_thumbnails(data: bytes, sizes: Iterable[int]) -> dict[int, bytes]:
    """JPEG bytes per size; raises InvalidImage before any output if the upload is bad."""
    wanted = sorted(set(sizes))
    image = decode(data, largest=max(wanted))
    return {size: render(image, size) for size in wanted}
