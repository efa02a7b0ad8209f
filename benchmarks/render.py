"""How long rendering takes, as a user feels it and as the app grows.

Prints two tables:

1. the median wall time of the whole process `python -m infra render` for the
   shipped app (every stack of every environment), against the 0.25 s goal:
   this is what a developer waits for on every edit, imports included;
2. the median time to build and serialize (`infra.render.template_json`) the
   backend stack of a synthetic app with 10, 100 and 400 functions, with its
   resource count and size, to show how rendering scales with functions. The
   app is an `infra.app.App` declared here (`synthetic_app`: a table, a bucket,
   a topic, a user pool and the functions) and configured by
   `tests.support.apps.config_for`, the path infra.toml + app.py take.

400 functions is far beyond CloudFormation's 500 resources (and its 200
parameters and outputs), and troposphere refuses to add more than that to a
template; the synthetic runs lift troposphere's own limits so the build can be
timed, and never call `check_limits`.

Run from anywhere: `python benchmarks/render.py [--runs 7]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from unittest import mock

# Run as a script, only benchmarks/ is on sys.path; tests.support is under the root.
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import troposphere
from awacs import dynamodb, s3

from infra.app import (
    App,
    Bucket,
    Function,
    HttpRoutes,
    QueueSubscription,
    Table,
    Topic,
    TopicSubscription,
    UserPool,
)
from infra.app.triggers import Trigger
from infra.config import AppConfig
from infra.render import MAX_RESOURCES, MAX_TEMPLATE_BYTES, template_json
from infra.stack import StackContext
from infra.stacks import BackendStack
from tests.support.apps import config_for

REPO = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 0.25
FUNCTION_COUNTS = (10, 100, 400)
# The synthetic app's data: what its functions read, are granted and are triggered by.
SYNTHETIC_TABLE = Table("items", partition_key="pk", sort_key="sk")
SYNTHETIC_BUCKET = Bucket("files")
SYNTHETIC_TOPIC = Topic("events")


def median_seconds(action: Callable[[], object], runs: int) -> float:
    """Median over `runs` timed calls, after one untimed warm-up (bytecode, caches)."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def render_process(out: Path) -> None:
    """The command a developer runs, in a fresh interpreter, from the repository root.

    With Python's bytecode cache on, as on a developer's machine: a shell that sets
    PYTHONDONTWRITEBYTECODE would otherwise time recompiling every module on every run.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-m", "infra", "render", "--out", str(out)],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
        env=env,
    )


def synthetic_functions(
    count: int,
    *,
    table: Table = SYNTHETIC_TABLE,
    bucket: Bucket = SYNTHETIC_BUCKET,
    topic: Topic = SYNTHETIC_TOPIC,
) -> tuple[Function, ...]:
    """`count` functions `fn-000`... cycling the trigger kinds of the reference app.

    HTTP routes (signed in), a queue subscribed to `topic`, a direct `topic` subscription;
    each gets `table`'s name, may read and write it and read one prefix of `bucket`. These
    must be resources of the app the functions join (an `App` checks): see `synthetic_app`.
    """
    functions = []
    for index in range(count):
        name = f"fn-{index:03d}"
        triggers: list[Trigger] = [
            HttpRoutes((f"GET /{name}", f"POST /{name}")),
            QueueSubscription(topic),
            TopicSubscription(topic),
        ]
        functions.append(
            Function(
                name=name,
                code=f"lambdas/{name}",
                description=f"synthetic function {index}",
                trigger=triggers[index % len(triggers)],
                environment={"TABLE_NAME": table.table_name},
                grants=(
                    table.grant(dynamodb.GetItem, dynamodb.PutItem),
                    bucket.objects("uploads/").grant(s3.GetObject),
                ),
            )
        )
    return tuple(functions)


def synthetic_app(count: int, base: App | None = None) -> App:
    """`base` plus `count` synthetic functions on its first table, bucket and topic.

    Without `base`, an app of the synthetic functions alone, with the data they need (a
    table, a bucket, a topic) and a user pool for their signed-in routes. With the
    reference app as `base` (`tests.support.apps.reference_app()`), its own functions come
    first and the synthetic ones use its table, upload bucket and topic.
    """
    if base is None:
        base = App(
            tables=(SYNTHETIC_TABLE,),
            buckets=(SYNTHETIC_BUCKET,),
            topics=(SYNTHETIC_TOPIC,),
            user_pool=UserPool(),
        )
    added = synthetic_functions(
        count, table=base.tables[0], bucket=base.buckets[0], topic=base.topics[0]
    )
    return replace(base, functions=(*base.functions, *added))


@contextmanager
def troposphere_limits_lifted() -> Iterator[None]:
    """troposphere raises at 500 resources / 200 parameters / 200 outputs; time past them."""
    big = 1_000_000
    with mock.patch.multiple(troposphere, MAX_RESOURCES=big, MAX_PARAMETERS=big, MAX_OUTPUTS=big):
        yield


def backend_figures(config: AppConfig, runs: int) -> tuple[float, int, int]:
    """(median seconds, resources, bytes) for the backend stack of `config`'s dev environment."""
    dev = config.environment("dev")
    context = StackContext(config, dev.account, dev)
    with troposphere_limits_lifted():
        seconds = median_seconds(lambda: template_json(BackendStack(context)), runs)
        stack = BackendStack(context)
        text = template_json(stack)
    return seconds, len(stack.template.resources), len(text.encode("utf-8"))


def print_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Left-aligned text columns, numbers right-aligned, two spaces apart."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = [
            cell.rjust(width) if cell[:1].isdigit() else cell.ljust(width)
            for cell, width in zip(row, widths, strict=True)
        ]
        print("  ".join(cells).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description="Time `python -m infra render` and stack builds.")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure (median)")
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory() as temp:
        process = median_seconds(lambda: render_process(Path(temp)), runs)
    verdict = "met" if process <= GOAL_SECONDS else "NOT met"
    print(f"python -m infra render (shipped app, all stacks), median of {runs}:")
    print_table(
        ("what", "seconds", "goal"),
        [("whole process", f"{process:.3f}", f"<= {GOAL_SECONDS} s: {verdict}")],
    )

    rows = []
    for count in FUNCTION_COUNTS:
        seconds, resources, size = backend_figures(config_for(synthetic_app(count)), runs)
        over = [
            name
            for name, value, limit in (
                (f"{MAX_RESOURCES} resources", resources, MAX_RESOURCES),
                (f"{MAX_TEMPLATE_BYTES} bytes", size, MAX_TEMPLATE_BYTES),
            )
            if value > limit
        ]
        verdict = "over " + " and ".join(over) if over else "within limits"
        rows.append((str(count), f"{seconds:.3f}", str(resources), str(size), verdict))
    print()
    print(f"backend stack build + serialize (template_json), median of {runs}:")
    print_table(("functions", "seconds", "resources", "bytes", "CloudFormation"), rows)


if __name__ == "__main__":
    main()
