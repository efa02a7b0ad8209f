"""The library knows no app: infra/ and pipelines/ never name the reference app's things.

The names come from the reference app's own declaration (its app name, functions, tables,
indexes, buckets, topics and settings), plus the words the issue that split the library
off listed. A library that mentions them works for one app only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.config import load_config
from tests.support.apps import REPO

LIBRARY = ("infra", "pipelines")
# The reference app's vocabulary that must never appear as a word in the library.
FIXED_WORDS = {"photos", "uploads", "images", "thumbnail", "thumbnails", "analyze", "media"}
FIXED_WORDS |= {"rekognition"}
# `upload`, the declared name of the reference app's bucket and topic, is also the English
# verb the library uses for putting zips and templates into S3; its plural, the bucket's and
# topic's physical name, is checked.
ENGLISH = {"upload"}
# AWS's own constants that happen to contain such a word.
AWS_CONSTANTS = ("NEW_AND_OLD_IMAGES",)
WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def words(text: str) -> set[str]:
    """Every word of the text, identifiers split at `_`, `-` and camelCase, lower case."""
    return {word.lower() for word in WORD.findall(text)}


def reference_names() -> tuple[set[str], set[str]]:
    """(single words, whole identifiers) the reference app declares."""
    config = load_config(REPO / "infra.toml")
    app = config.declaration
    names = {config.name}
    names |= {function.name for function in app.functions}
    names |= {table.name for table in app.tables}
    names |= {index.name for table in app.tables for index in table.indexes}
    names |= {bucket.name for bucket in app.buckets} | {b.aws_name for b in app.buckets}
    names |= {topic.name for topic in app.topics} | {t.aws_name for t in app.topics}
    names |= {setting.name for setting in app.settings}
    single = {n.lower() for n in names if len(words(n)) == 1} - ENGLISH
    whole = {n.lower() for n in names if len(words(n)) > 1}
    return single | FIXED_WORDS, whole


def library_files() -> list[Path]:
    return sorted(path for folder in LIBRARY for path in (REPO / folder).rglob("*.py"))


def hits(text: str, single: set[str], whole: set[str]) -> list[str]:
    for constant in AWS_CONSTANTS:
        text = text.replace(constant, "")
    return sorted(words(text) & single) + sorted(name for name in whole if name in text.lower())


def offenders(path: Path, single: set[str], whole: set[str]) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        named = hits(line, single, whole)
        if named:
            found.append(f"{path.relative_to(REPO)}:{number}: {', '.join(named)}")
    return found


def test_the_library_names_nothing_of_the_reference_app() -> None:
    single, whole = reference_names()
    assert {"photos", "uploads", "thumbnail", "media", "images"} <= single
    assert {"bycreated", "max_upload_mb", "thumbnail_sizes"} <= whole
    found = [line for path in library_files() for line in offenders(path, single, whole)]
    assert found == []


@pytest.mark.parametrize(
    ("line", "hit"),
    [
        ("UPLOAD_PREFIX = 'uploads/'", True),
        ("def thumbnail_sizes(self):", True),
        ("class PhotosTable:", True),
        ("IndexName='ByCreated'", True),
        ("self.settings['max_upload_mb']", True),
        ("return MediaBucket", True),
        ("def upload_zips(s3, bucket):", False),
        ("img_sources = []", False),
        ("StreamViewType = 'NEW_IMAGE'", False),
        ("StreamViewType = 'NEW_AND_OLD_IMAGES'", False),
    ],
)
def test_the_scan_finds_app_names_and_only_them(line: str, hit: bool) -> None:
    single, whole = reference_names()
    assert bool(hits(line, single, whole)) is hit
