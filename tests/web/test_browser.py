"""The photo app in a real browser against the app running on this machine.

Debian's chromium, driven by Playwright, opens the site `infra local up` serves (the
local AWS, the functions as processes, the HTTP API with its JWT authorizer, the S3 ->
SNS -> SQS events) and does what a person does: signs up, confirms with the e-mailed
code, signs in with SRP, uploads a photo and watches it become ready, opens it, deletes
it, signs out. Each step checks what the page shows and what the backend then holds,
read through boto3 from the local AWS.

The flows share one running app and one browser page and run in the order written: each
test starts where the one before it left the page. The last test checks what all of
them saw: no Content-Security-Policy violation, no uncaught script error, no request
leaving this machine, and the frontend stack's security headers on every answer of the
site. Screenshots go to build/screenshots/.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from infra.naming import physical_name
from tests.support.local_run import Running, running_app

try:
    from playwright.sync_api import (
        Browser,
        ConsoleMessage,
        Page,
        Request,
        Response,
        Route,
        expect,
        sync_playwright,
    )
except ImportError:  # the browser fixture says how to install it
    sync_playwright = None

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get install -y chromium (the browser) and pip install -e '.[dev]' (playwright)"

WAIT_MS = 90_000  # a function's first call starts its process: ~10 s here, more on a slow machine
WIDE, NARROW = 1100, 360
PASSWORD = "Correct-Horse-9-battery"
WEAK_PASSWORD = "photos"  # lower-case only, too short: four of the six rules unmet
COGNITO_TARGET = "AWSCognitoIdentityProviderService."
SESSION_KEY = "photos.dev.session"  # `${app}.${environment}.session` in sessionStorage
PLAIN = TypeDeserializer()
MET = re.compile(r"\bmet\b")  # a password rule's class once the password meets it
EXPECTED_CONSOLE_ERROR = re.compile(
    r"^Failed to load resource: the server responded with a status of (400|404)\b"
)

# Records, in the page, every status a gallery card shows: cards are built off-document,
# so their first status arrives with the card, later ones as attribute changes.
STATUS_LOG = """
window.__statusLog = [];
new MutationObserver((records) => {
  for (const record of records) {
    const nodes = record.type === "attributes" ? [record.target] : [...record.addedNodes];
    for (const node of nodes) {
      if (node.dataset && node.dataset.testid === "gallery-item") {
        window.__statusLog.push([node.dataset.imageId, node.dataset.status]);
      }
    }
  }
}).observe(document, { subtree: true, childList: true, attributes: true,
                       attributeFilter: ["data-status"] });
"""
# Hands every securitypolicyviolation event of every page to the test.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation({ directive: event.effectiveDirective, blocked: event.blockedURI,
                           source: event.sourceFile, line: event.lineNumber });
});
"""


# -- what the browser saw -----------------------------------------------------------------------


@dataclass
class Watch:
    """Everything the pages of the browser context did, collected as it happens."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    cognito: list[dict[str, Any]] = field(default_factory=list)  # the bodies sent to Cognito
    responses: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")

    def on_request(self, request: Request) -> None:
        self.requests.append((request.method, request.url, request.headers))
        target = request.headers.get("x-amz-target", "")
        if target.startswith(COGNITO_TARGET):
            body = json.loads(request.post_data or "{}")
            self.cognito.append({"operation": target.removeprefix(COGNITO_TARGET), **body})

    def on_response(self, response: Response) -> None:
        self.responses.append((response.url, response.headers))

    def mark(self) -> int:
        return len(self.requests)

    def since(self, mark: int) -> list[tuple[str, str, dict[str, str]]]:
        return self.requests[mark:]

    def cognito_calls(self, operation: str) -> list[dict[str, Any]]:
        return [call for call in self.cognito if call["operation"] == operation]


def csp_messages(lines: list[str]) -> list[str]:
    return [line for line in lines if "Content Security Policy" in line or "Refused to" in line]


# -- what the backend holds ---------------------------------------------------------------------


@dataclass
class Backend:
    """The app's data in the local AWS, read the way an operator would, through boto3."""

    run: Running

    @cached_property
    def names(self) -> dict[str, str]:
        """TABLE_NAME, UPLOAD_BUCKET, MEDIA_BUCKET: as the deployed images function has them."""
        name = physical_name(self.run.app.config.name, self.run.app.environment.name, "images")
        config = self.run.client("lambda").get_function_configuration(FunctionName=name)
        return dict(config["Environment"]["Variables"])

    @property
    def pool_id(self) -> str:
        return self.run.physical_id("data", "AWS::Cognito::UserPool")

    @property
    def client_id(self) -> str:
        return self.run.physical_id("data", "AWS::Cognito::UserPoolClient")

    def origin(self, bucket: str) -> str:
        """A bucket as the page reaches it: virtual-hosted on the local AWS."""
        return f"http://{bucket}.localhost:{self.run.ports.aws}"

    def user(self, email: str) -> dict[str, Any] | None:
        users = self.run.client("cognito-idp").list_users(
            UserPoolId=self.pool_id, Filter=f'email = "{email}"'
        )["Users"]
        return users[0] if users else None

    def sub(self, email: str) -> str:
        user = self.user(email)
        assert user is not None, f"no user {email}"
        return next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")

    def item(self, owner: str, image_id: str) -> dict[str, Any] | None:
        """The image's item as plain Python (numbers as Decimal), or None."""
        found = self.run.client("dynamodb").get_item(
            TableName=self.names["TABLE_NAME"],
            Key={"pk": {"S": f"USER#{owner}"}, "sk": {"S": f"IMAGE#{image_id}"}},
            ConsistentRead=True,
        )
        item = found.get("Item")
        return None if item is None else {k: PLAIN.deserialize(v) for k, v in item.items()}

    def items(self, owner: str) -> list[dict[str, Any]]:
        return self.run.client("dynamodb").query(
            TableName=self.names["TABLE_NAME"],
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"USER#{owner}"}},
            ConsistentRead=True,
        )["Items"]

    def keys(self, bucket: str, prefix: str) -> list[str]:
        pages = self.run.client("s3").get_paginator("list_objects_v2")
        found = pages.paginate(Bucket=self.names[bucket], Prefix=prefix)
        return sorted(item["Key"] for page in found for item in page.get("Contents", []))

    def refresh_refused(self, refresh_token: str) -> bool:
        try:
            self.run.client("cognito-idp").initiate_auth(
                ClientId=self.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )
        except ClientError as error:
            return error.response["Error"]["Code"] == "NotAuthorizedException"
        return False

    def access_refused(self, access_token: str) -> bool:
        try:
            self.run.client("cognito-idp").get_user(AccessToken=access_token)
        except ClientError as error:
            return error.response["Error"]["Code"] == "NotAuthorizedException"
        return False

    def sign_in_elsewhere(self, email: str, password: str) -> dict[str, str]:
        """Another device's session: SRP with pycognito, an independent client."""
        from pycognito.aws_srp import AWSSRP

        srp = AWSSRP(
            username=email,
            password=password,
            pool_id=self.pool_id,
            client_id=self.client_id,
            client=self.run.client("cognito-idp"),
        )
        return srp.authenticate_user()["AuthenticationResult"]


# -- the photos the test uploads ----------------------------------------------------------------


def landscape_jpeg(path: Path, size: tuple[int, int] = (1600, 1200)) -> Path:
    """A photo-like JPEG: sky, sun, three mountain ranges, a lake, trees and film grain."""
    from PIL import Image, ImageDraw, ImageFilter

    width, height = size
    shaded = random.Random(7)
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    horizon = int(height * 0.62)
    for y in range(horizon):
        t = y / horizon
        draw.line(
            [(0, y), (width, y)], fill=(int(70 + 150 * t), int(120 + 90 * t), int(200 + 40 * t))
        )
    draw.ellipse([width * 0.68, height * 0.12, width * 0.78, height * 0.12 + width * 0.1],
                 fill=(255, 236, 170))  # fmt: skip
    for depth, colour in enumerate([(96, 110, 140), (62, 84, 96), (34, 60, 52)]):
        base = horizon - 40 + depth * 30
        points, x = [(0, base)], 0
        while x < width:
            x += shaded.randint(40, 120)
            points.append((x, base - shaded.randint(60, 260 - depth * 60)))
        draw.polygon([*points, (width, horizon + 40), (0, horizon + 40)], fill=colour)
    for y in range(horizon, height):
        t = (y - horizon) / (height - horizon)
        draw.line(
            [(0, y), (width, y)], fill=(int(40 + 30 * t), int(90 + 20 * t), int(130 - 30 * t))
        )
    for _ in range(70):
        x, y = shaded.randrange(width), shaded.randrange(horizon - 10, horizon + 60)
        tall = shaded.randint(30, 90)
        draw.polygon([(x, y - tall), (x - tall // 4, y), (x + tall // 4, y)],
                     fill=(20, shaded.randint(55, 90), 35))  # fmt: skip
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    grain = Image.effect_noise(size, 18).convert("RGB")
    Image.blend(image, grain, 0.06).save(path, "JPEG", quality=88)
    return path


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The reference app's dev environment, deployed into its own local AWS and running."""
    state = tmp_path_factory.mktemp("browser") / "state"
    with running_app(REPO / "infra.toml", "dev", state) as running:
        yield running


@pytest.fixture(autouse=True)
def run_output(browser: Browser, run: Running) -> Iterator[None]:
    """What the local run printed during a test: pytest shows it when the test fails."""
    start = len(run.output.lines)
    yield
    print("\n".join(["the local run printed:", *run.output.lines[start:]]))


@pytest.fixture(scope="module")
def backend(run: Running) -> Backend:
    return Backend(run)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        pytest.fail(f"playwright is not installed: {INSTALL}", pytrace=False)
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: {INSTALL}", pytrace=False)
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
            expect.set_options(timeout=5_000)  # Playwright's default, for other modules


@pytest.fixture(scope="module")
def watch() -> Watch:
    return Watch()


def watched_page(browser: Browser, watch: Watch) -> Page:
    context = browser.new_context(viewport={"width": WIDE, "height": 900})
    context.expose_binding("reportViolation", lambda _source, event: watch.violations.append(event))
    context.add_init_script(CSP_LISTENER)
    context.add_init_script(STATUS_LOG)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("console", watch.on_console)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.on("request", watch.on_request)
    page.on("response", watch.on_response)
    return page


@pytest.fixture(scope="module")
def page(browser: Browser, watch: Watch) -> Iterator[Page]:
    """The one page every flow uses, in order."""
    page = watched_page(browser, watch)
    try:
        yield page
    finally:
        page.context.close()


@dataclass
class Journey:
    """What one flow leaves for the next: who signed up, what was uploaded."""

    email: str = field(default_factory=lambda: f"ann-{random.randrange(16**8):08x}@example.com")
    code: str = ""
    sub: str = ""
    image_id: str = ""
    filename: str = "harbour.jpg"
    photo: Path | None = None


@pytest.fixture(scope="module")
def journey() -> Journey:
    return Journey()


# -- helpers ------------------------------------------------------------------------------------


def by(page: Page, testid: str) -> Any:
    return page.get_by_test_id(testid)


def screenshots(page: Page, name: str) -> list[Path]:
    """`name` at both widths, full page, into build/screenshots/; the page is left wide."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)  # no hover effect from the last click
    saved = []
    for width in (WIDE, NARROW):
        page.set_viewport_size({"width": width, "height": 900 if width == WIDE else 780})
        path = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
        saved.append(path)
    page.set_viewport_size({"width": WIDE, "height": 900})
    return saved


def wait_until(page: Page, condition: Callable[[], bool], what: str) -> None:
    """Waits on a condition only Python can see (Playwright's events pump while it waits)."""
    for _ in range(WAIT_MS // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"timed out waiting for {what}")


def session_tokens(page: Page) -> dict[str, str] | None:
    return page.evaluate(f"() => JSON.parse(sessionStorage.getItem({SESSION_KEY!r}))")


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def image_loaded(page: Page, locator: Any) -> dict[str, Any]:
    """Waits for an <img> to have decoded a picture; its natural size and src."""
    handle = locator.element_handle()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=handle)
    return handle.evaluate(
        "img => ({ width: img.naturalWidth, height: img.naturalHeight, src: img.src })"
    )


def sign_in(page: Page, email: str, password: str) -> None:
    by(page, "sign-in-email").fill(email)
    by(page, "sign-in-password").fill(password)
    by(page, "sign-in-submit").click()


# -- 1. sign up, confirm, sign in ---------------------------------------------------------------


def test_sign_up_shows_the_rules_a_password_breaks_then_sends_a_code(
    page: Page, run: Running, backend: Backend, watch: Watch, journey: Journey
) -> None:
    email = journey.email
    page.goto(run.site_url)
    expect(by(page, "view-sign-in")).to_be_visible()
    expect(by(page, "app-name")).to_have_text("photos")
    expect(by(page, "environment")).to_have_text("dev")
    expect(by(page, "account")).to_be_hidden()

    # A weak password: the rules it breaks, and nothing sent to Cognito.
    by(page, "go-sign-up").click()
    expect(by(page, "view-sign-up")).to_be_visible()
    by(page, "sign-up-email").fill(email)
    by(page, "sign-up-password").fill(WEAK_PASSWORD)
    by(page, "sign-up-submit").click()
    expect(by(page, "alert")).to_have_text(
        "The password needs: at least 12 characters; an upper-case letter; a digit; "
        "a symbol, such as ! ? # or -."
    )
    expect(by(page, "sign-up-password")).to_have_attribute("aria-invalid", "true")
    for rule in ("length", "upper", "digit", "symbol"):
        expect(by(page, f"password-rule-{rule}")).not_to_have_class(MET)
        expect(by(page, f"password-rule-{rule}")).to_contain_text("(missing)")
    for rule in ("lower", "edges"):
        expect(by(page, f"password-rule-{rule}")).to_have_class(MET)
    screenshots(page, "sign-up-errors")
    assert watch.cognito_calls("SignUp") == []
    assert backend.user(email) is None

    # A good one: SignUp, and the code is "e-mailed" (the local AWS's mailbox).
    by(page, "sign-up-password").fill(PASSWORD)
    for rule in ("length", "upper", "lower", "digit", "symbol", "edges"):
        expect(by(page, f"password-rule-{rule}")).to_have_class(MET)
    by(page, "sign-up-submit").click()
    expect(by(page, "view-confirm")).to_be_visible()
    expect(by(page, "status")).to_contain_text("We e-mailed a code to")
    expect(by(page, "confirm-email")).to_have_value(email)
    user = backend.user(email)
    assert user is not None and user["UserStatus"] == "UNCONFIRMED"
    line = run.output.wait_for(f"mail to {email}:")
    journey.code = line.rsplit(": ", 1)[1].strip()
    mails = (run.app.state / "mailbox.jsonl").read_text(encoding="utf-8").splitlines()
    mail = {"to": email, "subject": "Your verification code", "code": journey.code}
    assert mail in map(json.loads, mails)


def test_confirm_refuses_a_wrong_code_then_confirms(
    page: Page, backend: Backend, journey: Journey
) -> None:
    assert journey.code, "sign-up did not get as far as sending a code"
    expect(by(page, "view-confirm")).to_be_visible()
    by(page, "confirm-code").fill(f"{(int(journey.code) + 1) % 1_000_000:06d}")
    by(page, "confirm-submit").click()
    expect(by(page, "alert")).to_have_text(
        "That code is not right. Check the e-mail we sent and try again."
    )
    expect(by(page, "confirm-code")).to_have_attribute("aria-invalid", "true")
    expect(by(page, "view-confirm")).to_be_visible()
    assert backend.user(journey.email)["UserStatus"] == "UNCONFIRMED"

    by(page, "confirm-code").fill(journey.code)
    by(page, "confirm-submit").click()
    expect(by(page, "view-sign-in")).to_be_visible()
    expect(by(page, "status")).to_have_text("Your account is confirmed. Sign in.")
    expect(by(page, "sign-in-email")).to_have_value(journey.email)
    assert backend.user(journey.email)["UserStatus"] == "CONFIRMED"


def test_sign_in_refuses_a_wrong_password_then_opens_the_gallery(
    page: Page, backend: Backend, watch: Watch, journey: Journey
) -> None:
    email = journey.email
    expect(by(page, "view-sign-in")).to_be_visible()
    sign_in(page, email, "Wrong-Horse-9-battery")
    expect(by(page, "alert")).to_have_text("Wrong e-mail address or password.")
    expect(by(page, "sign-in-password")).to_have_attribute("aria-invalid", "true")
    expect(by(page, "view-sign-in")).to_be_visible()
    assert session_tokens(page) is None
    assert watch.cognito_calls("RespondToAuthChallenge"), "the page never answered SRP"

    sign_in(page, email, PASSWORD)
    expect(by(page, "view-photos")).to_be_visible()
    journey.sub = backend.sub(email)  # the flows after this one need no more than this
    expect(page).to_have_url(re.compile(r"#/photos$"))
    expect(by(page, "gallery-empty")).to_be_visible()
    tokens = session_tokens(page)
    assert tokens is not None and claims(tokens["idToken"])["sub"] == journey.sub
    # The password never left the page: SRP only, and no request but SignUp carried it.
    assert {call["AuthFlow"] for call in watch.cognito_calls("InitiateAuth")} == {"USER_SRP_AUTH"}
    assert all(
        PASSWORD not in json.dumps(call) for call in watch.cognito if call["operation"] != "SignUp"
    )
    # Who is signed in, from the ID token's email claim.
    assert claims(tokens["idToken"]).get("email") == email
    expect(by(page, "account-email")).to_have_text(f"Signed in as {email}")


# -- 2. upload ----------------------------------------------------------------------------------


def test_upload_a_photo_until_it_is_ready(
    page: Page, run: Running, backend: Backend, journey: Journey, tmp_path_factory: Any
) -> None:
    assert journey.sub, "no user signed in: the sign-in flow did not finish"
    photo = landscape_jpeg(tmp_path_factory.mktemp("photos") / journey.filename)
    journey.photo = photo
    limit = upload_limit_mb(run)
    config = page.request.get(f"{run.site_url}/config.json").json()
    assert config["maxUploadBytes"] == limit * 1024 * 1024
    expect(by(page, "upload-rules")).to_have_text(f"JPEG, PNG, WebP or GIF, up to {limit} MB")

    by(page, "upload-file").set_input_files(str(photo))
    preview = image_loaded(page, by(page, "upload-preview"))
    assert (preview["width"], preview["height"]) == (1600, 1200)
    assert preview["src"].startswith("blob:")
    expect(by(page, "upload-file-info")).to_have_text(re.compile(rf"^{journey.filename} · \d"))

    # Hold the file's POST to the bucket, to see the upload in flight.
    upload_origin = backend.origin(backend.names["UPLOAD_BUCKET"])
    held: list[Route] = []

    def hold(route: Route) -> None:
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    def to_bucket(url: str) -> bool:
        return url.startswith(upload_origin)

    page.route(to_bucket, hold)
    by(page, "upload-submit").click()
    wait_until(page, lambda: bool(held), "the upload's POST to the bucket")
    expect(by(page, "upload-progress")).to_be_visible()
    expect(by(page, "upload-submit")).to_be_disabled()
    expect(by(page, "status")).to_have_text(f"Uploading {journey.filename}…")
    posted = held[0].request
    assert posted.url.rstrip("/") == upload_origin
    held[0].continue_()
    page.unroute(to_bucket, hold)
    expect(by(page, "status")).to_have_text(
        f"Uploaded {journey.filename}. Its thumbnail and labels appear in the gallery"
        " when they are ready."
    )
    expect(by(page, "upload-progress")).to_be_hidden()
    expect(by(page, "upload-preview")).to_be_hidden()

    card = by(page, "gallery-item")
    expect(card).to_have_count(1)
    journey.image_id = card.get_attribute("data-image-id") or ""
    expect(card).to_have_attribute("data-status", "ready")
    expect(card.get_by_test_id("gallery-item-title")).to_have_text(journey.filename)
    thumb = image_loaded(page, card.get_by_test_id("gallery-thumbnail"))
    assert urlsplit(thumb["src"])._replace(path="", query="").geturl() == backend.origin(
        backend.names["MEDIA_BUCKET"]
    )
    assert urlsplit(thumb["src"]).path == f"/thumbnails/{journey.sub}/{journey.image_id}/256.jpg"
    assert max(thumb["width"], thumb["height"]) == 256
    expect(card.get_by_test_id("gallery-placeholder")).to_be_hidden()
    statuses = [s for i, s in page.evaluate("() => window.__statusLog") if i == journey.image_id]
    assert statuses[0] == "processing" and statuses[-1] == "ready", statuses

    # The labels: the local Rekognition's answer, as analyze stored it.
    labels = card.get_by_test_id("gallery-item-labels")
    expect(labels).not_to_be_empty()
    expect(card.get_by_test_id("gallery-item-status")).to_be_empty()
    item = backend.item(journey.sub, journey.image_id)
    assert item is not None and item["status"] == "ready"
    names = [label["name"] for label in item["labels"]]
    assert names, "analyze stored no labels"
    expect(labels).to_have_text(", ".join(names[:3]))
    assert item["filename"] == journey.filename
    assert item["content_type"] == "image/jpeg"

    # The backend: the upload under the user's prefix, a thumbnail per configured size.
    upload_key = f"uploads/{journey.sub}/{journey.image_id}"
    assert backend.keys("UPLOAD_BUCKET", f"uploads/{journey.sub}/") == [upload_key]
    head = run.client("s3").head_object(Bucket=backend.names["UPLOAD_BUCKET"], Key=upload_key)
    assert head["ContentLength"] == photo.stat().st_size
    assert head["ContentType"] == "image/jpeg"
    prefix = f"thumbnails/{journey.sub}/{journey.image_id}/"
    assert backend.keys("MEDIA_BUCKET", prefix) == [f"{prefix}1024.jpg", f"{prefix}256.jpg"]
    assert item["thumbnails"] == {"256": f"{prefix}256.jpg", "1024": f"{prefix}1024.jpg"}
    screenshots(page, "gallery")


# -- 2b. files refused before any request -------------------------------------------------------


def upload_limit_mb(run: Running) -> int:
    """The environment's max_upload_mb (infra.toml), which reaches config.json as bytes."""
    return int(run.app.environment.settings["max_upload_mb"])


@pytest.mark.parametrize("refused", ["too-large", "wrong-type"])
def test_a_refused_file_sends_nothing(
    page: Page, run: Running, backend: Backend, watch: Watch, journey: Journey, tmp_path: Path,
    refused: str,
) -> None:  # fmt: skip
    assert journey.image_id, "no photo was uploaded: the upload flow did not finish"
    limit = upload_limit_mb(run)
    if refused == "too-large":  # a megabyte over the limit (the type comes from the name)
        path = tmp_path / "huge.jpg"
        path.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * ((limit + 1) * 1024 * 1024 - 4))
        message = f"“huge.jpg” is {limit + 1} MB: the largest upload allowed is {limit} MB."
    else:
        path = tmp_path / "notes.txt"
        path.write_text("milk, eggs, film\n", encoding="utf-8")
        message = "“notes.txt” is of type text/plain: choose a JPEG, PNG, WebP or GIF image."
    expect(by(page, "view-photos")).to_be_visible()
    mark = watch.mark()
    by(page, "upload-file").set_input_files(str(path))
    expect(by(page, "alert")).to_have_text(message)
    expect(by(page, "upload-file")).to_have_attribute("aria-invalid", "true")
    expect(by(page, "upload-preview")).to_be_hidden()
    expect(by(page, "upload-file-info")).to_be_empty()
    by(page, "upload-submit").click()  # and asked to anyway: refused again, still nothing sent
    expect(by(page, "upload-submit")).to_be_enabled()
    expect(by(page, "alert")).to_have_text(message)
    upload_origin = backend.origin(backend.names["UPLOAD_BUCKET"])
    sent = [
        (method, url)
        for method, url, _ in watch.since(mark)
        if url.startswith(upload_origin) or (method == "POST" and url.endswith("/uploads"))
    ]
    assert sent == []
    assert len(backend.items(journey.sub)) == 1
    assert backend.keys("UPLOAD_BUCKET", f"uploads/{journey.sub}/") == [
        f"uploads/{journey.sub}/{journey.image_id}"
    ]
    by(page, "upload-file").set_input_files([])


# -- 3. the photo's own page, then deleting it --------------------------------------------------


def test_photo_detail_by_click_and_by_deep_link(
    page: Page, run: Running, backend: Backend, journey: Journey
) -> None:
    assert journey.image_id, "no photo was uploaded: the upload flow did not finish"
    card = page.locator(f'[data-testid="gallery-item"][data-image-id="{journey.image_id}"]')
    card.get_by_test_id("gallery-item-link").click()
    address = f"{run.site_url}/#/photos/{journey.image_id}"
    expect(page).to_have_url(address)
    item = backend.item(journey.sub, journey.image_id)
    assert item is not None
    labels = [(label["name"], float(label["confidence"])) for label in item["labels"]]

    def shows_the_photo() -> None:
        expect(by(page, "view-photo")).to_be_visible()
        expect(by(page, "photo-title")).to_have_text(journey.filename)
        expect(by(page, "photo-status")).to_have_text("Ready")
        expect(by(page, "photo-type")).to_have_text("image/jpeg")
        expect(by(page, "photo-failure")).to_be_hidden()
        expect(by(page, "photo-placeholder")).to_be_hidden()
        picture = image_loaded(page, by(page, "photo-image"))
        assert urlsplit(picture["src"]).path.endswith(f"/{journey.image_id}/1024.jpg")
        assert (picture["width"], picture["height"]) == (1024, 768)
        created = item["created_at"]
        expect(by(page, "photo-created")).to_have_attribute(
            "datetime", re.compile(rf"^{re.escape(created[:19])}")
        )
        shown = by(page, "photo-label")
        expect(shown).to_have_count(len(labels))
        for index, (name, confidence) in enumerate(labels):
            expect(shown.nth(index)).to_have_attribute("data-name", name)
            text = shown.nth(index).get_by_test_id("photo-label-confidence").inner_text()
            assert abs(float(text.rstrip("%")) - confidence) <= 0.05, (text, confidence)
        expect(by(page, "photo-labels-note")).to_be_hidden()

    shows_the_photo()
    expect(page).to_have_title(f"{journey.filename} · photos (dev)")
    screenshots(page, "detail")

    page.reload()  # the address alone, with the session the tab kept
    shows_the_photo()
    page.goto(f"{run.site_url}/#/photos")
    expect(by(page, "view-photos")).to_be_visible()
    page.goto(address)
    shows_the_photo()

    # An address for a photo that is not there: said so, and back to the gallery.
    page.goto(f"{run.site_url}/#/photos/00000000-0000-4000-8000-000000000000")
    expect(by(page, "alert")).to_have_text("This photo no longer exists.")
    expect(by(page, "view-photos")).to_be_visible()
    page.goto(address)
    shows_the_photo()


def test_delete_asks_first_then_removes_everywhere(
    page: Page, backend: Backend, journey: Journey
) -> None:
    assert journey.image_id, "no photo was uploaded: the upload flow did not finish"
    dialog = by(page, "delete-dialog")
    expect(by(page, "view-photo")).to_be_visible()
    by(page, "photo-delete").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Delete this photo?")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"delete-dialog-{WIDE}.png"), animations="disabled")
    by(page, "delete-cancel").click()
    expect(dialog).to_be_hidden()
    expect(by(page, "view-photo")).to_be_visible()
    assert backend.item(journey.sub, journey.image_id) is not None

    by(page, "photo-delete").click()
    by(page, "delete-confirm").click()
    expect(dialog).to_be_hidden()
    expect(by(page, "view-photos")).to_be_visible()
    expect(by(page, "status")).to_have_text("The photo is deleted.")
    expect(by(page, "gallery-item")).to_have_count(0)
    expect(by(page, "gallery-empty")).to_be_visible()
    assert backend.item(journey.sub, journey.image_id) is None
    assert backend.keys("UPLOAD_BUCKET", f"uploads/{journey.sub}/") == []
    assert backend.keys("MEDIA_BUCKET", f"thumbnails/{journey.sub}/") == []
    by(page, "gallery-refresh").click()  # and the API agrees
    expect(by(page, "gallery-refresh")).to_be_enabled()
    expect(by(page, "gallery-empty")).to_be_visible()
    expect(by(page, "gallery-item")).to_have_count(0)


# -- 4. signing out -----------------------------------------------------------------------------


def test_sign_out_here_and_everywhere(
    page: Page, run: Running, backend: Backend, journey: Journey
) -> None:
    # Sign out (RevokeToken): this tab forgets the session and its refresh token is dead.
    tokens = session_tokens(page)
    assert tokens is not None
    by(page, "sign-out").click()
    expect(by(page, "view-sign-in")).to_be_visible()
    expect(by(page, "status")).to_have_text("You are signed out.")
    expect(by(page, "alert")).to_be_empty()
    expect(by(page, "account")).to_be_hidden()
    assert session_tokens(page) is None
    assert backend.refresh_refused(tokens["refreshToken"])
    # The ID token the page had is not revoked at the API: API Gateway's JWT authorizer checks
    # signature, issuer, audience and expiry, not sign-outs. It lives an hour at most.
    old = page.request.get(
        f"{run.api_url}/images", headers={"authorization": f"Bearer {tokens['idToken']}"}
    )
    assert old.status == 200
    issued = claims(tokens["idToken"])
    assert issued["exp"] - issued["iat"] <= 3600
    # After sign-out the page refuses to show the gallery.
    page.goto(f"{run.site_url}/#/photos")
    expect(by(page, "view-sign-in")).to_be_visible()

    # Sign out everywhere (GlobalSignOut): every session of the user ends, this tab's and
    # another device's, access and refresh tokens alike.
    elsewhere = backend.sign_in_elsewhere(journey.email, PASSWORD)
    sign_in(page, journey.email, PASSWORD)
    expect(by(page, "view-photos")).to_be_visible()
    tokens = session_tokens(page)
    assert tokens is not None
    by(page, "sign-out-everywhere").click()
    expect(by(page, "view-sign-in")).to_be_visible()
    expect(by(page, "status")).to_have_text("You are signed out on every device.")
    expect(by(page, "alert")).to_be_empty()
    assert session_tokens(page) is None
    assert backend.access_refused(tokens["accessToken"])
    assert backend.refresh_refused(tokens["refreshToken"])
    assert backend.access_refused(elsewhere["AccessToken"])
    assert backend.refresh_refused(elsewhere["RefreshToken"])


# -- 5. what every flow saw ---------------------------------------------------------------------


def test_no_policy_violation_and_security_headers_everywhere(
    browser: Browser, run: Running, backend: Backend, watch: Watch
) -> None:
    assert watch.requests, "the flows made no requests: they did not run"
    assert watch.violations == []
    assert csp_messages(watch.console) == []
    assert watch.errors == []
    unexpected = [
        line
        for line in watch.console
        if line.startswith("error: ") and not EXPECTED_CONSOLE_ERROR.match(line[7:])
    ]
    assert unexpected == []

    # Nothing left this machine: every address the page called is loopback.
    hosts = {urlsplit(url).hostname or "" for _, url, _ in watch.requests}
    hosts -= {""}
    assert {h for h in hosts if h != "localhost" and not h.endswith(".localhost")} == set()
    schemes = {urlsplit(url).scheme for _, url, _ in watch.requests}
    assert schemes <= {"http", "blob", "data"}

    # Every answer of the site carries the frontend stack's headers, with its CSP.
    site = [(url, headers) for url, headers in watch.responses if url.startswith(run.site_url)]
    paths = {urlsplit(url).path for url, _ in site}
    assert {"/", "/app.js", "/style.css", "/config.json"} <= paths
    policy = frontend_policy(run)
    expected_directives = parse_csp(policy["csp_template"])
    for url, headers in site:
        assert headers.get("x-content-type-options") == "nosniff", url
        assert headers.get("x-frame-options") == policy["frame"], url
        assert headers.get("referrer-policy") == policy["referrer"], url
        csp = parse_csp(headers.get("content-security-policy", ""))
        assert csp.keys() == expected_directives.keys(), url
    media = backend.origin(backend.names["MEDIA_BUCKET"])
    uploads = backend.origin(backend.names["UPLOAD_BUCKET"])
    csp = parse_csp(site[0][1]["content-security-policy"])
    assert csp["default-src"] == csp["script-src"] == csp["style-src"] == ["'self'"]
    assert csp["object-src"] == csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == csp["form-action"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:", media]
    assert set(csp["connect-src"]) == {"'self'", run.api_url, run.app.aws.endpoint, uploads, media}
    assert not [s for sources in csp.values() for s in sources if s.startswith("'unsafe-")]

    # And the listener would have seen a violation: an injected inline script is refused.
    seen = len(watch.violations)
    probe = watched_page(browser, watch)
    try:
        probe.goto(run.site_url)
        expect(by(probe, "view-sign-in")).to_be_visible()
        ran = probe.evaluate(
            """() => { const s = document.createElement("script");
                       s.textContent = "window.__inline = true"; document.head.append(s);
                       return window.__inline === true; }"""
        )
        assert ran is False
        wait_until(probe, lambda: len(watch.violations) > seen, "the CSP violation event")
        assert watch.violations[seen]["directive"] == "script-src-elem"
        wait_until(probe, lambda: bool(csp_messages(watch.console)), "the CSP console message")
    finally:
        probe.context.close()


def frontend_policy(run: Running) -> dict[str, str]:
    """The deployed frontend stack's security headers: the CSP as written, before its values."""
    (policy,) = (
        run.app.stacks["frontend"].resources("AWS::CloudFront::ResponseHeadersPolicy").values()
    )
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    template = csp["Fn::Sub"][0] if isinstance(csp, dict) else csp
    return {
        "csp_template": template,
        "frame": security["FrameOptions"]["FrameOption"],
        "referrer": security["ReferrerPolicy"]["ReferrerPolicy"],
    }


def parse_csp(text: str) -> dict[str, list[str]]:
    directives = {}
    for part in text.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


# What tests/web/run_srp_vectors.mjs does in Node, here in the page: web/srp.js on each vector.
SRP_VECTORS_JS = """async (vectors) => {
  const srp = await import("/srp.js");
  const bytes = (hex) => Uint8Array.from(hex.match(/../g), (pair) => parseInt(pair, 16));
  const hex = (data) =>
    Array.from(new Uint8Array(data), (b) => b.toString(16).padStart(2, "0")).join("");
  const results = [];
  for (const vector of vectors.cases) {
    const input = vector.input;
    const a = srp.smallA(bytes(input.random_a_hex));
    const out = await srp.passwordVerifier({
      userPoolId: input.user_pool_id, password: input.password, challenge: input.challenge,
      a, date: new Date(input.time_utc),
    });
    results.push({
      name: vector.name, small_a_hex: srp.toHex(a), srp_a_hex: srp.toHex(out.A),
      k_hex: srp.toHex(out.k), u_hex: srp.toHex(out.u), x_hex: srp.toHex(out.x),
      s_hex: srp.toHex(out.S), hkdf_hex: hex(out.key), timestamp: out.timestamp,
      challenge_responses: out.responses,
    });
  }
  return results;
}"""


def test_the_pages_srp_math_derives_what_pycognito_does(browser: Browser, run: Running) -> None:
    """The independent check of the sign-in proof (moto accepts any), in this browser."""
    vectors = json.loads((Path(__file__).parent / "srp_vectors.json").read_text(encoding="utf-8"))
    page = watched_page(browser, Watch())
    try:
        page.goto(f"{run.site_url}/")
        results = {result["name"]: result for result in page.evaluate(SRP_VECTORS_JS, vectors)}
    finally:
        page.context.close()
    assert set(results) == {case["name"] for case in vectors["cases"]}
    for case in vectors["cases"]:
        got = results[case["name"]]
        assert got["k_hex"] == vectors["group"]["k_hex"], case["name"]
        for name, value in case["expected"].items():
            assert got[name] == value, (case["name"], name)
