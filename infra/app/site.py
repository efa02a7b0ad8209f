"""An app's optional web site: a folder of static files served by CloudFront.

`infra publish` puts the folder and a `config.json` holding the app's name, the
environment, the region and what `config` declares (values other stacks share, such
as the API URL and the user pool's ids, or settings), so one build serves every
environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field

from infra.app.immutable import Immutable, declaration
from infra.app.references import SharedValue, check_relative_folder
from infra.app.settings import SettingValue
from infra.errors import DeclarationError
from infra.naming import full_match

CONFIG_KEY = r"[A-Za-z][A-Za-z0-9_]{0,63}"
# config.json keys the library writes itself.
LIBRARY_CONFIG_KEYS = ("app", "environment", "region")

SiteValue = str | SharedValue | SettingValue


@declaration
class Site(Immutable):
    """`folder` (relative to the app's root) is published as is; `config` goes to config.json."""

    folder: str = "web"
    config: Mapping[str, SiteValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_relative_folder("site: folder", self.folder)
        object.__setattr__(self, "config", dict(self.config))
        for key, value in self.config.items():
            if not isinstance(key, str) or not full_match(CONFIG_KEY, key):
                raise DeclarationError(f"site config key {key!r}: a letter, then letters/digits")
            if key in LIBRARY_CONFIG_KEYS:
                raise DeclarationError(f"site config key {key!r} is written by the library")
            if not isinstance(value, str | SharedValue | SettingValue):
                raise DeclarationError(
                    f"site config {key}: {value!r} must be text, a shared value or a setting"
                )
