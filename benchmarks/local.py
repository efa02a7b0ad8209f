"""How fast `infra local up` gets an app running, and how fast its events flow.

Prints, for the reference app's dev environment (and the example app's, for the start):

1. the time from starting `local up` (a fresh state folder) to ready: the local AWS up,
   the stacks deployed through change sets and the gate, functions, API and site running;
2. for each of `--uploads` photos, the time from the end of the browser's presigned POST to
   the gallery API listing it as ready, with its thumbnails and labels (S3 -> SNS -> SQS ->
   thumbnail, SNS -> analyze, both writing to the table), polled every 50 ms.

Each app runs on free ports in a temporary state folder; everything it started is stopped
when it ends. Run from the repository root: `python benchmarks/local.py [--uploads 5]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.apps import EXAMPLE, REPO
from tests.support.local_http import call, jpeg, post_form
from tests.support.local_run import LocalUser, Running, running_app

POLL_SECONDS = 0.05
GIVE_UP_SECONDS = 120


def time_to_ready(running: ExitStack, config: Path, state: Path) -> tuple[float, Running]:
    """Seconds from start to ready; the app runs until `running` closes."""
    started = time.perf_counter()
    run = running.enter_context(running_app(config, "dev", state))
    return time.perf_counter() - started, run


def upload_to_thumbnail(run: Running, user: LocalUser, picture: bytes) -> float:
    asked = call(
        "POST", f"{run.api_url}/uploads", {"content_type": "image/jpeg", "filename": "b.jpg"},
        user.headers(),
    )  # fmt: skip
    if asked.status != 201:
        raise SystemExit(f"POST /uploads answered {asked.status}: {asked.body[:200]!r}")
    upload = asked.json()
    sent = post_form(run, upload["upload"], picture, "image/jpeg")
    if sent.status != 204:
        raise SystemExit(f"the presigned POST answered {sent.status}: {sent.body[:200]!r}")
    uploaded = time.perf_counter()
    url = f"{run.api_url}/images/{upload['image_id']}"
    while time.perf_counter() - uploaded < GIVE_UP_SECONDS:
        image = call("GET", url, headers=user.headers())
        if image.status == 200:
            held = image.json()
            if held.get("status") == "ready" and held.get("thumbnails") and held.get("labels"):
                return time.perf_counter() - uploaded
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"upload {upload['image_id']} was not ready after {GIVE_UP_SECONDS} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=5)
    args = parser.parse_args()
    picture = jpeg()
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as running:
        links_ready, links = time_to_ready(running, EXAMPLE / "infra.toml", Path(scratch) / "l")
        stacks = len(links.app.stacks)
    print("app      stacks  local up -> ready")
    print(f"links    {stacks:>6}  {links_ready:>8.2f} s")
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as running:
        photos_ready, photos = time_to_ready(running, REPO / "infra.toml", Path(scratch) / "p")
        user = LocalUser(photos).sign_up()
        waits = [upload_to_thumbnail(photos, user, picture) for _ in range(args.uploads)]
    print(f"photos   {len(photos.app.stacks):>6}  {photos_ready:>8.2f} s")
    print()
    print(f"upload end -> thumbnail and labels listed ({args.uploads} uploads)")
    print(f"  first  {waits[0]:.2f} s")
    print(f"  median {statistics.median(waits):.2f} s")
    print(f"  max    {max(waits):.2f} s")


if __name__ == "__main__":
    main()
