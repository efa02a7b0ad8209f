"""Static checks of the web app (web/): what a browser would refuse, caught without one.

The page runs under the frontend stack's Content-Security-Policy (script-src 'self';
style-src 'self'; connect-src/img-src the API, Cognito and the buckets) with no build step:
every import must name a file that exists and a name it exports, index.html may load only
its own files, nothing may be inline, and every address the page calls comes from
config.json. The data-testid lists below are the contract with the browser tests.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import pytest

from infra.app.load import load_declaration
from infra.app.site import LIBRARY_CONFIG_KEYS

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
INDEX = WEB / "index.html"
ENTRY = WEB / "app.js"
MODULES = sorted(WEB.rglob("*.js"))

# Elements index.html must have, by data-testid (the views find them with byTestId).
STATIC_TESTIDS = {
    "app-name", "environment", "account", "account-email", "sign-out", "sign-out-everywhere",
    "status", "alert",
    "view-sign-in", "sign-in-form", "sign-in-email", "sign-in-password", "sign-in-submit",
    "go-sign-up", "go-confirm",
    "view-mfa", "mfa-form", "mfa-code", "mfa-submit", "mfa-cancel",
    "view-sign-up", "sign-up-form", "sign-up-email", "sign-up-password", "password-rules",
    "password-rule-length", "password-rule-upper", "password-rule-lower", "password-rule-digit",
    "password-rule-symbol", "password-rule-edges", "sign-up-show-password", "sign-up-submit",
    "sign-up-go-sign-in",
    "view-confirm", "confirm-destination", "confirm-form", "confirm-email", "confirm-code",
    "confirm-submit", "confirm-resend", "confirm-go-sign-in",
    "view-photos", "upload-form", "upload-rules", "upload-file", "upload-preview",
    "upload-file-info", "upload-progress", "upload-submit",
    "gallery-refresh", "gallery-loading", "gallery-empty", "gallery-list", "gallery-load-more",
    "view-photo", "photo-back", "photo-title", "photo-image", "photo-placeholder",
    "photo-created", "photo-status", "photo-type", "photo-failure", "photo-labels",
    "photo-labels-note", "photo-delete",
    "delete-dialog", "delete-cancel", "delete-confirm",
}  # fmt: skip
# Elements the scripts create, one per photo or label.
DYNAMIC_TESTIDS = {
    "gallery-item", "gallery-item-link", "gallery-thumbnail", "gallery-placeholder",
    "gallery-item-title", "gallery-item-status", "gallery-item-labels",
    "photo-label", "photo-label-confidence",
}  # fmt: skip
ROUTES = {"#/sign-in", "#/sign-up", "#/confirm", "#/mfa", "#/photos"}

# The one address written in the code: Cognito's regional endpoint, built from config.json's
# region when config.json names no cognitoEndpoint (a local emulator).
ALLOWED_URLS = {("config.js", "https://cognito-idp.${region}.${suffix}/")}
URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9$][^\s"'`)<>]*""")

IMPORT = re.compile(
    r"""^\s*(?:import|export)\s+(?P<what>[^;"'`]*?)\s*\bfrom\s*["'](?P<spec>[^"']+)["']"""
    r"""|^\s*import\s*["'](?P<bare>[^"']+)["']""",
    re.MULTILINE,
)
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*["']([^"']+)["']""")
EXPORT = re.compile(
    r"^export\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)",
    re.MULTILINE,
)
EXPORT_LIST = re.compile(r"^export\s*\{([^}]*)\}", re.MULTILINE)
BY_TESTID = re.compile(r"""byTestId\(\s*["']([^"']+)["']""")
TESTID_PROP = re.compile(r"""\btestid:\s*["']([^"']+)["']""")
# DOM and JS features the page must not use: HTML from strings (XSS), eval (CSP refuses it),
# inline styles (CSP refuses them), and lasting storage for tokens (sessionStorage only).
FORBIDDEN = {
    "innerHTML": re.compile(r"\b(?:inner|outer)HTML\b"),
    "insertAdjacentHTML": re.compile(r"\binsertAdjacentHTML\b"),
    "document.write": re.compile(r"\bdocument\.write"),
    "eval": re.compile(r"\beval\s*\(|\bnew\s+Function\b"),
    "string timers": re.compile(r"\bset(?:Timeout|Interval)\(\s*[\"'`]"),
    "inline style": re.compile(r"""\.style\b|setAttribute\(\s*["']style|\bcssText\b"""),
    "localStorage": re.compile(r"\blocalStorage\b"),
}


def rel(path: Path) -> str:
    return path.relative_to(WEB).as_posix()


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class Page(HTMLParser):
    """Everything in index.html that a check looks at."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.inline: list[str] = []
        self.open_labels = 0
        self.labelled_inside: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.elements.append((tag, values))
        if tag == "style" or "style" in values:
            self.inline.append(f"style on <{tag}>")
        self.inline += [f"{name} on <{tag}>" for name in values if name.startswith("on")]
        if tag == "label":
            self.open_labels += 1
        elif tag in ("input", "select", "textarea") and self.open_labels:
            self.labelled_inside.append(values.get("data-testid", tag))
        self._script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1
        self._script = False

    def handle_data(self, data: str) -> None:
        if self._script and data.strip():
            self.inline.append("inline <script>")

    def all(self, attribute: str) -> list[str]:
        return [values[attribute] for _, values in self.elements if attribute in values]


@pytest.fixture(scope="module")
def page() -> Page:
    parsed = Page()
    parsed.feed(text(INDEX))
    return parsed


def resolve(importer: Path, spec: str) -> Path | None:
    """The file a module specifier names: relative or root-absolute, inside web/."""
    if spec.startswith(("./", "../")):
        target = (importer.parent / spec).resolve()
    elif spec.startswith("/") and not spec.startswith("//"):
        target = (WEB / spec.lstrip("/")).resolve()
    else:
        return None  # a bare name or a URL: no browser without an import map loads it
    return target if target.is_relative_to(WEB) else None


def imports(module: Path) -> list[tuple[str, str]]:
    """(specifier, what it imports) for every static and dynamic import and re-export."""
    source = text(module)
    found = [
        (m["spec"] or m["bare"], m["what"] or "") for m in IMPORT.finditer(source)
    ]  # fmt: skip
    return found + [(spec, "") for spec in DYNAMIC_IMPORT.findall(source)]


def imported_names(what: str) -> list[str]:
    """The names `import {a, b as c}` takes from the module (not default or * imports)."""
    braces = re.search(r"\{([^}]*)\}", what)
    if not braces:
        return []
    names = [part.strip().split(" as ")[0].strip() for part in braces.group(1).split(",")]
    return [name for name in names if name]


def exported_names(module: Path) -> set[str]:
    source = text(module)
    names = set(EXPORT.findall(source))
    for group in EXPORT_LIST.findall(source):
        names |= {part.strip().split(" as ")[-1].strip() for part in group.split(",")}
    return names


def test_the_page_loads_its_entry_module_from_its_own_files(page: Page) -> None:
    scripts = [values for tag, values in page.elements if tag == "script"]
    assert scripts == [{"type": "module", "src": "/app.js"}]
    assert ENTRY.is_file()


def test_index_html_references_only_files_that_exist(page: Page) -> None:
    references = [ref for ref in page.all("src") + page.all("href") if not ref.startswith("data:")]
    assert references, "the page loads its script and styles from files"
    for reference in references:
        assert reference.startswith("/") and not reference.startswith("//"), reference
        assert (WEB / reference.lstrip("/")).is_file(), reference


def test_nothing_is_inline(page: Page) -> None:
    """script-src 'self' and style-src 'self': no inline scripts, styles or handlers."""
    assert page.inline == []


@pytest.mark.parametrize("module", MODULES, ids=rel)
def test_every_import_names_a_file_and_names_it_exports(module: Path) -> None:
    for spec, what in imports(module):
        target = resolve(module, spec)
        assert target is not None, f"{rel(module)}: {spec!r} is not a file of the site"
        assert target.is_file(), f"{rel(module)}: {spec!r} does not exist"
        assert PurePosixPath(spec).suffix == ".js", f"{rel(module)}: {spec!r} needs its .js"
        missing = set(imported_names(what)) - exported_names(target)
        assert not missing, f"{rel(module)}: {rel(target)} does not export {sorted(missing)}"


def test_every_module_is_reached_from_the_entry_point() -> None:
    seen: set[Path] = set()
    todo = [ENTRY.resolve()]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += [target for spec, _ in imports(module) if (target := resolve(module, spec))]
    assert {rel(m) for m in MODULES} - {rel(m) for m in seen} == set()


def test_no_address_is_written_into_the_site() -> None:
    """Everything the page calls comes from config.json (or is its own origin)."""
    found = set()
    for path in sorted(WEB.rglob("*")):
        if path.suffix in (".html", ".css", ".js"):
            source = text(path)
            if path.suffix == ".js":  # // comments are not addresses
                source = re.sub(r"(?m)^\s*//.*$|\s//\s.*$", "", source)
            found |= {(path.name, url) for url in URL.findall(source)}
    assert found == ALLOWED_URLS


def test_css_loads_nothing_from_elsewhere() -> None:
    for path in WEB.rglob("*.css"):
        source = text(path)
        assert "@import" not in source, rel(path)
        assert not re.search(r"url\(\s*['\"]?(?!data:)", source), rel(path)


@pytest.mark.parametrize("module", MODULES, ids=rel)
def test_scripts_use_no_html_strings_eval_inline_styles_or_local_storage(module: Path) -> None:
    source = text(module)
    used = [name for name, pattern in FORBIDDEN.items() if pattern.search(source)]
    assert used == [], rel(module)


def test_the_testids_the_tests_rely_on_are_there(page: Page) -> None:
    testids = page.all("data-testid")
    assert len(testids) == len(set(testids)), "a data-testid appears twice"
    assert set(testids) == STATIC_TESTIDS
    created = {match for m in MODULES for match in TESTID_PROP.findall(text(m))}
    assert created == DYNAMIC_TESTIDS


def test_every_element_a_script_looks_up_is_in_the_page(page: Page) -> None:
    wanted = {name for m in MODULES for name in BY_TESTID.findall(text(m))}
    assert wanted - set(page.all("data-testid")) == set()


def test_form_controls_have_labels_and_aria_references_resolve(page: Page) -> None:
    ids = set(page.all("id"))
    labelled = set(page.all("for"))
    assert labelled <= ids
    for tag, values in page.elements:
        if tag in ("input", "select", "textarea"):
            name = values.get("data-testid", tag)
            assert (
                values.get("id") in labelled
                or "aria-label" in values
                or name in page.labelled_inside
            ), f"{name} has no label"
        for attribute in ("aria-labelledby", "aria-describedby"):
            for ref in values.get(attribute, "").split():
                assert ref in ids, f"{attribute}={ref} on <{tag}>"


def test_links_name_known_routes(page: Page) -> None:
    assert set(page.all("data-route")) <= ROUTES


def test_config_keys_the_page_requires_are_the_ones_publish_writes() -> None:
    """config.js's REQUIRED keys: the library's own, plus what app.py's Site declares."""
    source = text(WEB / "config.js")
    required = re.search(r"const REQUIRED = \[([^\]]*)\]", source)
    assert required is not None
    keys = set(re.findall(r'"([A-Za-z]+)"', required.group(1)))
    app = load_declaration(REPO / "app.py", "infra.toml")
    assert app.site is not None
    assert keys == {"app", "environment", "region", "apiUrl", "userPoolId", "userPoolClientId"}
    assert keys <= set(LIBRARY_CONFIG_KEYS) | set(app.site.config)
