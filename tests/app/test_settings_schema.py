"""An app's own settings through infra.toml: the schema its declaration gives, and precedence.

The app below declares one setting of each kind with the limits a kind takes; the
cases give values in `[defaults.settings]`, `[environments.<env>.settings]` and
`--set environments.<env>.settings.<name>=...`, the way a user would. A good value is
parsed (lists become tuples); a bad one is one line naming the file and the dotted key,
raised as a ConfigError. Precedence: `--set` > the environment's table > `[defaults]` >
the declared default.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.app import App, Function, Schedule, Setting
from infra.config import AppConfig
from infra.errors import ConfigError
from infra.render import render
from tests.support.apps import config_for

retries = Setting("retries", int, default=3, minimum=0, maximum=10)
ratio = Setting("ratio", float, default=0.5, minimum=0, maximum=1)
stage = Setting("stage", str, default="beta", choices=("alpha", "beta", "ga"))
sender = Setting("sender", str, default="noreply@example.com", pattern=r"[a-z]+@[a-z.]+")
tracing = Setting("tracing", bool, default=False)
sizes = Setting(
    "sizes",
    list,
    item=int,
    default=[64],
    minimum=16,
    maximum=4096,
    min_items=1,
    max_items=3,
    unique=True,
)
tags = Setting("tags", list, item=str, default=[], pattern=r"[a-z]+")
APP = App(settings=(retries, ratio, stage, sender, tracing, sizes, tags))
ALLOWED = "ratio, retries, sender, sizes, stage, tags, tracing"

# A setting without a default: every environment must get a value from the file.
country = Setting("country", str, pattern=r"[A-Z]{2}")
REQUIRED_APP = App(settings=(country,))

# Two environments, no settings tables: each case adds the tables it is about.
BASE = """
[app]
name = "demo"

[accounts.main]
region = "eu-west-1"

[environments.dev]
account = "main"
region = "eu-west-1"

[environments.prod]
account = "main"
region = "eu-west-1"
"""


def config(extra: str = "", overrides: tuple[str, ...] = (), app: App = APP) -> AppConfig:
    return config_for(app, BASE + extra, overrides)


def dev_settings(extra: str) -> dict[str, Any]:
    return dict(config(f"[environments.dev.settings]\n{extra}\n").environments["dev"].settings)


# -- good values --------------------------------------------------------------------------------


def test_declared_defaults_fill_every_environment() -> None:
    parsed = config()
    expected = {
        "retries": 3,
        "ratio": 0.5,
        "stage": "beta",
        "sender": "noreply@example.com",
        "tracing": False,
        "sizes": (64,),
        "tags": (),
    }
    assert dict(parsed.environments["dev"].settings) == expected
    assert dict(parsed.environments["prod"].settings) == expected


GOOD_VALUES = [
    ("retries = 0", "retries", 0),  # the minimum itself
    ("retries = 10", "retries", 10),  # the maximum itself
    ("ratio = 0.25", "ratio", 0.25),
    ('stage = "ga"', "stage", "ga"),
    ('sender = "ops@example.com"', "sender", "ops@example.com"),
    ("tracing = true", "tracing", True),
    ("sizes = [16, 4096]", "sizes", (16, 4096)),
    ("sizes = [64, 128, 256]", "sizes", (64, 128, 256)),  # max_items itself
    ('tags = ["web", "api"]', "tags", ("web", "api")),
    ("tags = []", "tags", ()),  # min_items defaults to 0
]


@pytest.mark.parametrize(
    ("line", "name", "value"), GOOD_VALUES, ids=[line for line, _, _ in GOOD_VALUES]
)
def test_good_value_is_parsed(line: str, name: str, value: Any) -> None:
    parsed = dev_settings(line)
    assert parsed[name] == value
    assert type(parsed[name]) is type(value)


def test_a_whole_number_is_a_number_and_held_as_a_float() -> None:
    ratio_value = dev_settings("ratio = 1")["ratio"]
    assert (ratio_value, type(ratio_value)) == (1.0, float)


def test_float_settings_hold_floats() -> None:
    """A float setting and a list of floats read as floats, whatever the file or default says."""
    weights = Setting("weights", list, item=float, default=[1, 0.5])
    threshold = Setting("threshold", float, default=2)
    parsed = config(app=App(settings=(weights, threshold)))
    for env in ("dev", "prod"):
        settings = parsed.environments[env].settings
        assert settings == {"weights": (1.0, 0.5), "threshold": 2.0}
        assert [type(value) for value in settings["weights"]] == [float, float]
        assert type(settings["threshold"]) is float
    given = config("[environments.dev.settings]\nweights = [2, 3]\n", app=App(settings=(weights,)))
    assert [type(value) for value in given.environments["dev"].settings["weights"]] == [
        float,
        float,
    ]


# -- bad values: one line, the file and the dotted key -----------------------------------------

DEV = "infra.toml: environments.dev.settings"

BAD_VALUES = [
    ('retries = "3"', f"{DEV}.retries: '3' must be a whole number"),
    ("retries = 1.5", f"{DEV}.retries: 1.5 must be a whole number"),
    ("retries = true", f"{DEV}.retries: true must be a whole number"),  # TOML bools are ints
    ("retries = -1", f"{DEV}.retries: -1 is out of range (0 to 10)"),
    ("retries = 11", f"{DEV}.retries: 11 is out of range (0 to 10)"),
    ('ratio = "0.5"', f"{DEV}.ratio: '0.5' must be a number"),
    ("ratio = false", f"{DEV}.ratio: false must be a number"),
    ("ratio = 1.5", f"{DEV}.ratio: 1.5 is out of range (0 to 1)"),
    ("stage = 1", f"{DEV}.stage: 1 must be a string (quote it)"),
    ('stage = "rc"', f"{DEV}.stage: 'rc' is not one of: 'alpha', 'beta', 'ga'"),
    (
        'sender = "Ops@example.com"',
        f"{DEV}.sender: 'Ops@example.com' does not match {sender.pattern}",
    ),
    # The pattern must match the whole value, not a part of it.
    (
        'sender = "ops@example.com!"',
        f"{DEV}.sender: 'ops@example.com!' does not match {sender.pattern}",
    ),
    ('tracing = "yes"', f"{DEV}.tracing: 'yes' must be true or false"),
    ("tracing = 1", f"{DEV}.tracing: 1 must be true or false"),
    ("sizes = 64", f"{DEV}.sizes: 64 must be a list of whole numbers"),
    ("sizes = []", f"{DEV}.sizes: [] must have 1 to 3 items"),
    ("sizes = [16, 32, 64, 128]", f"{DEV}.sizes: [16, 32, 64, 128] must have 1 to 3 items"),
    ("sizes = [64, 64]", f"{DEV}.sizes: [64, 64] must not repeat an item"),
    ('sizes = [64, "128"]', f"{DEV}.sizes: [64, '128'] must hold only whole numbers"),
    ("sizes = [true]", f"{DEV}.sizes: [true] must hold only whole numbers"),
    # minimum and maximum bound items
    ("sizes = [64, 8]", f"{DEV}.sizes: [64, 8]: item 8 is out of range (16 to 4096)"),
    ("sizes = [64, 8192]", f"{DEV}.sizes: [64, 8192]: item 8192 is out of range (16 to 4096)"),
    # pattern bounds items
    ('tags = ["web", "Api"]', f"{DEV}.tags: ['web', 'Api']: item 'Api' does not match [a-z]+"),
    ('tags = "web"', f"{DEV}.tags: 'web' must be a list of strings"),
    ("retry = 1", f"{DEV}.retry: unknown key (allowed: {ALLOWED})"),
]


@pytest.mark.parametrize(("line", "message"), BAD_VALUES, ids=[line for line, _ in BAD_VALUES])
def test_bad_value_is_one_line_naming_the_key(line: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config(f"[environments.dev.settings]\n{line}\n")
    assert str(raised.value).splitlines() == [message]


# A list with exactly two items, and one with only a lower bound.
pair = Setting("pair", list, item=int, default=[1, 2], min_items=2, max_items=2)
labels = Setting("labels", list, item=str, default=["a"], min_items=1)
COUNTED_APP = App(settings=(pair, labels))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("pair = [1]", f"{DEV}.pair: [1] must have exactly 2 items"),
        ("pair = [1, 2, 3]", f"{DEV}.pair: [1, 2, 3] must have exactly 2 items"),
        ("labels = []", f"{DEV}.labels: [] must have at least 1 item"),
    ],
    ids=["exactly-too-few", "exactly-too-many", "at-least"],
)
def test_item_counts_say_what_is_allowed(line: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config(f"[environments.dev.settings]\n{line}\n", app=COUNTED_APP)
    assert str(raised.value).splitlines() == [message]


BAD_PLACES = [
    (
        "bad-default",
        "[defaults.settings]\nretries = 11\n",
        (),
        "infra.toml: defaults.settings.retries: 11 is out of range (0 to 10)",
    ),
    (
        "unknown-default",
        "[defaults.settings]\nretry = 1\n",
        (),
        f"infra.toml: defaults.settings.retry: unknown key (allowed: {ALLOWED})",
    ),
    (
        "bad-in-second-environment",
        "[environments.prod.settings]\nstage = 'prod'\n",
        (),
        "infra.toml: environments.prod.settings.stage: 'prod' is not one of: 'alpha', 'beta', 'ga'",
    ),
    (
        "settings-not-a-table",
        "",
        ("environments.dev.settings=1",),
        "infra.toml: environments.dev.settings: 1 must be a table",
    ),
    (
        # --set reads its value as TOML, else as text; then it is checked like the file's.
        "set-text-for-number",
        "",
        ("environments.dev.settings.retries=many",),
        f"{DEV}.retries: 'many' must be a whole number",
    ),
    (
        "set-number-for-text",
        "",
        ("environments.dev.settings.stage=1",),
        f"{DEV}.stage: 1 must be a string (quote it)",
    ),
    (
        "set-bad-list",
        "",
        ("environments.prod.settings.sizes=[64, 64]",),
        "infra.toml: environments.prod.settings.sizes: [64, 64] must not repeat an item",
    ),
    (
        "set-unknown",
        "",
        ("environments.prod.settings.nope=1",),
        f"infra.toml: environments.prod.settings.nope: unknown key (allowed: {ALLOWED})",
    ),
    (
        # A bad [defaults.settings] value is reported there, even where an env overrides it.
        "bad-default-under-a-good-environment",
        "[defaults.settings]\ntracing = 'on'\n[environments.dev.settings]\ntracing = true\n",
        (),
        "infra.toml: defaults.settings.tracing: 'on' must be true or false",
    ),
    (
        "required-value-invalid",
        "[defaults.settings]\ncountry = 'ie'\n",
        (),
        "infra.toml: defaults.settings.country: 'ie' does not match [A-Z]{2}",
        REQUIRED_APP,
    ),
]


@pytest.mark.parametrize(
    ("extra", "overrides", "message", "app"),
    [(*case[1:4], case[4] if len(case) > 4 else APP) for case in BAD_PLACES],
    ids=[case[0] for case in BAD_PLACES],
)
def test_bad_value_anywhere_names_where_it_is(
    extra: str, overrides: tuple[str, ...], message: str, app: App
) -> None:
    with pytest.raises(ConfigError) as raised:
        config(extra, overrides, app)
    assert str(raised.value).splitlines() == [message]


def test_settings_of_an_app_that_declares_none() -> None:
    """No settings declared: the table may be left out, and is empty."""
    parsed = config_for(App(), BASE)
    assert dict(parsed.environments["dev"].settings) == {}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "[environments.dev.settings]\nretries = 1\n",
            f"{DEV}.retries: unknown key: the app declares no settings",
        ),
        (
            "[defaults.settings]\nretries = 1\n",
            "infra.toml: defaults.settings.retries: unknown key: the app declares no settings",
        ),
    ],
    ids=["environment", "defaults"],
)
def test_a_setting_for_an_app_that_declares_none(extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_for(App(), BASE + extra)
    assert str(raised.value).splitlines() == [message]


# -- required settings (no default) -----------------------------------------------------------


def test_required_setting_given_in_defaults() -> None:
    parsed = config("[defaults.settings]\ncountry = 'IE'\n", app=REQUIRED_APP)
    assert parsed.environments["dev"].settings == {"country": "IE"}
    assert parsed.environments["prod"].settings == {"country": "IE"}


def test_required_setting_given_in_defaults_and_overridden() -> None:
    extra = "[defaults.settings]\ncountry = 'IE'\n[environments.prod.settings]\ncountry = 'DE'\n"
    parsed = config(extra, app=REQUIRED_APP)
    assert parsed.environments["prod"].settings == {"country": "DE"}


# [defaults.settings] need not hold a setting without a default: each environment may give it.
@pytest.mark.parametrize(
    ("extra", "overrides"),
    [
        (
            "[environments.dev.settings]\ncountry = 'IE'\n"
            "[environments.prod.settings]\ncountry = 'DE'\n",
            (),
        ),
        ("", ("environments.dev.settings.country=IE", "environments.prod.settings.country=DE")),
    ],
    ids=["each-environment-table", "set-per-environment"],
)
def test_required_setting_given_by_each_environment(extra: str, overrides: tuple[str, ...]) -> None:
    parsed = config(extra, overrides, REQUIRED_APP)
    assert parsed.environments["dev"].settings == {"country": "IE"}
    assert parsed.environments["prod"].settings == {"country": "DE"}


def test_required_setting_missing_in_one_environment_names_it() -> None:
    with pytest.raises(ConfigError) as raised:
        config("[environments.dev.settings]\ncountry = 'IE'\n", app=REQUIRED_APP)
    assert str(raised.value).splitlines() == [
        "infra.toml: environments.prod.settings.country: is required (the app declares no default)"
    ]


def test_required_setting_missing_everywhere_names_the_first_environment() -> None:
    with pytest.raises(ConfigError) as raised:
        config(app=REQUIRED_APP)
    assert str(raised.value).splitlines() == [
        "infra.toml: environments.dev.settings.country: is required (the app declares no default)"
    ]


# -- precedence: --set > [environments.<env>.settings] > [defaults.settings] > declared default --


PRECEDENCE = [
    ("declared-default", "", (), (3, 3)),
    ("defaults", "[defaults.settings]\nretries = 5\n", (), (5, 5)),
    (
        "environment-beats-defaults",
        "[defaults.settings]\nretries = 5\n[environments.prod.settings]\nretries = 7\n",
        (),
        (5, 7),
    ),
    (
        "set-beats-environment",
        "[defaults.settings]\nretries = 5\n[environments.prod.settings]\nretries = 7\n",
        ("environments.prod.settings.retries=9",),
        (5, 9),
    ),
    (
        # --set patches the file before it is read, so a set default still loses to the env.
        "set-default-loses-to-environment",
        "[environments.prod.settings]\nretries = 7\n",
        ("defaults.settings.retries=6",),
        (6, 7),
    ),
    ("set-without-any-table", "", ("environments.dev.settings.retries=8",), (8, 3)),
    (
        "later-set-wins",
        "",
        ("environments.dev.settings.retries=8", "environments.dev.settings.retries=2"),
        (2, 3),
    ),
]


@pytest.mark.parametrize(
    ("extra", "overrides", "expected"),
    [case[1:] for case in PRECEDENCE],
    ids=[case[0] for case in PRECEDENCE],
)
def test_precedence(extra: str, overrides: tuple[str, ...], expected: tuple[int, int]) -> None:
    parsed = config(extra, overrides)
    got = tuple(parsed.environments[env].settings["retries"] for env in ("dev", "prod"))
    assert got == expected


def test_environment_table_merges_with_defaults_key_by_key() -> None:
    """An env that sets one setting keeps the others from [defaults.settings]."""
    extra = (
        "[defaults.settings]\nretries = 5\ntracing = true\n"
        "[environments.prod.settings]\nretries = 7\n"
    )
    prod = config(extra).environments["prod"].settings
    assert (prod["retries"], prod["tracing"]) == (7, True)


def test_a_list_is_replaced_whole_not_merged() -> None:
    extra = "[defaults.settings]\nsizes = [64, 128]\n[environments.prod.settings]\nsizes = [256]\n"
    parsed = config(extra)
    assert parsed.environments["dev"].settings["sizes"] == (64, 128)
    assert parsed.environments["prod"].settings["sizes"] == (256,)


# -- what a function's environment gets ---------------------------------------------------------


def test_settings_reach_a_function_environment_as_text(tmp_path: Path) -> None:
    """Lists comma-joined, booleans lowercase, `map` converted; per environment."""
    report = Function(
        name="report",
        code="lambdas/report",
        description="A nightly report",
        trigger=Schedule("rate(1 day)"),
        environment={
            "RETRIES": retries.text,
            "RATIO": ratio.text,
            "STAGE": stage.text,
            "TRACING": tracing.text,
            "SIZES": sizes.text,
            "TIMEOUT_MS": retries.map(lambda n: n * 1000),
        },
    )
    app = App(functions=(report,), settings=APP.settings)
    extra = (
        "[environments.prod.settings]\n"
        "retries = 7\nratio = 0.25\nstage = 'ga'\ntracing = true\nsizes = [16, 4096]\n"
    )
    render(config(extra, app=app), tmp_path)
    variables = {}
    for env in ("dev", "prod"):
        template = json.loads((tmp_path / env / "backend.json").read_text(encoding="utf-8"))
        function = template["Resources"]["ReportFunction"]["Properties"]
        variables[env] = {
            key: value
            for key, value in function["Environment"]["Variables"].items()
            if key in report.environment
        }
    assert variables == {
        "dev": {
            "RETRIES": "3",
            "RATIO": "0.5",
            "STAGE": "beta",
            "TRACING": "false",
            "SIZES": "64",
            "TIMEOUT_MS": "3000",
        },
        "prod": {
            "RETRIES": "7",
            "RATIO": "0.25",
            "STAGE": "ga",
            "TRACING": "true",
            "SIZES": "16,4096",
            "TIMEOUT_MS": "7000",
        },
    }
