"""An app's own `Setting(pattern=...)`: matched against the whole value, in ASCII.

A trailing newline, or digits of another script, must not pass a pattern the way
`re.match` with `$` and `\\d` would let them; the one-line error names the key.
"""

from __future__ import annotations

import pytest

from infra.app import App, Setting
from infra.errors import ConfigError, DeclarationError
from tests.support.apps import MINIMAL_TOML, config_for

CODE = Setting("cost_centre", str, pattern=r"^CC-\d{4}$", default="CC-0001")


def config_with(value: str) -> None:
    text = MINIMAL_TOML + f"\n[environments.dev.settings]\ncost_centre = {value}\n"
    config_for(App(settings=(CODE,)), text)


@pytest.mark.parametrize(
    ("toml", "shown"),
    [
        ('"CC-1234\\n"', "'CC-1234\\n'"),
        # Shown escaped: look-alike digits must not read as the ones the pattern wants.
        ('"CC-\u0661\u0662\u0663\u0664"', "'CC-\\u0661\\u0662\\u0663\\u0664'"),
        ('"CC-\uff11\uff12\uff13\uff14"', "'CC-\\uff11\\uff12\\uff13\\uff14'"),
        ('" CC-1234"', "' CC-1234'"),
    ],
    ids=["trailing-newline", "arabic-indic-digits", "fullwidth-digits", "leading-space"],
)
def test_a_pattern_matches_the_whole_value_in_ascii(toml: str, shown: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_with(toml)
    assert str(raised.value) == (
        f"infra.toml: environments.dev.settings.cost_centre: {shown} does not match "
        r"^CC-\d{4}$"
    )


def test_a_matching_value_is_taken() -> None:
    config = config_for(
        App(settings=(CODE,)),
        MINIMAL_TOML + '\n[environments.dev.settings]\ncost_centre = "CC-1234"\n',
    )
    assert config.environments["dev"].settings == {"cost_centre": "CC-1234"}


def test_a_pattern_that_cannot_be_matched_in_ascii_is_refused_where_it_is_declared() -> None:
    with pytest.raises(DeclarationError, match="ASCII and UNICODE flags are incompatible"):
        setting = Setting("code", str, pattern=r"(?u)\d{4}")
        setting.check("1234")
