"""The browser support really drives Chromium: axe-core finds what it should under a strict CSP, screenshots are
written, the context options (a 360 px viewport, the locale) hold, and a missing Chromium fails loudly."""

from __future__ import annotations

import http.server
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page
from prasmes_testing.browser import (
    NARROW_VIEWPORT,
    ContextFactory,
    assert_accessible,
    axe_violations,
    chromium_path,
    launch_browser,
    screenshot,
    screenshot_dir,
)
from prasmes_testing.servers import repo_root

# The browser tests run in the browser's (the session's) event loop; a module of browser tests only says this once in
# `pytestmark`, this one also has sync tests.
in_browser_loop = pytest.mark.asyncio(loop_scope="session")

CSP = "default-src 'self'; script-src 'self'"
STYLE = b"""
body { font: 16px/1.5 sans-serif; color: #1a1a1a; background: #fff; margin: 0 1rem; }
.faint { color: #c8c8c8; }
"""
LOGO = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40"/></svg>'
GOOD = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Programmes</title><link rel="stylesheet" href="/style.css"><script src="/app.js"></script></head>
<body><main><h1>Programmes</h1><img src="/logo.svg" alt="Prasmes">
<form><label for="q">Search</label> <input id="q" name="q" type="search"> <button>Find</button></form>
<p>Forty programmes are open for applications.</p>
<script>document.body.dataset.inline = "ran";</script></main></body></html>"""
BAD = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Broken</title><link rel="stylesheet" href="/style.css"></head>
<body><main><h1>Broken</h1><img src="/logo.svg"><form><input name="q" type="text"></form>
<p class="faint">Hard to read.</p></main></body></html>"""
FILES = {
    "/": ("text/html; charset=utf-8", GOOD),
    "/bad": ("text/html; charset=utf-8", BAD),
    "/style.css": ("text/css", STYLE),
    "/logo.svg": ("image/svg+xml", LOGO),
    "/app.js": ("text/javascript", b'document.documentElement.dataset.script = "ran";'),
}


class _Pages(http.server.BaseHTTPRequestHandler):
    languages: list[str] = []  # noqa: RUF012 - the Accept-Language of every request, for the locale test

    def do_GET(self) -> None:
        self.languages.append(self.headers.get("Accept-Language", ""))
        content_type, body = FILES.get(self.path, ("text/plain", b"not found"))
        self.send_response(200 if self.path in FILES else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@in_browser_loop
async def test_an_accessible_page_passes_under_a_strict_csp(page: Page, site: str) -> None:
    await page.goto(f"{site}/")
    await assert_accessible(page)
    assert await axe_violations(page, impacts=("minor", "moderate", "serious", "critical")) == []
    # The page's CSP stayed in force around the injection: its own script ran, its inline script did not.
    assert await page.evaluate("document.documentElement.dataset.script") == "ran"
    assert await page.evaluate("document.body.dataset.inline ?? null") is None


@in_browser_loop
async def test_the_known_violations_are_reported(page: Page, site: str) -> None:
    await page.goto(f"{site}/bad")
    violations = await axe_violations(page)
    assert {violation["id"] for violation in violations} == {"image-alt", "label", "color-contrast"}
    with pytest.raises(AssertionError) as failure:
        await assert_accessible(page)
    summary = str(failure.value)
    assert "3 accessibility rule(s) fail" in summary
    assert "image-alt (critical)" in summary and "color-contrast (serious)" in summary
    assert '    p: <p class="faint">Hard to read.</p>' in summary
    assert '    img: <img src="/logo.svg">' in summary


@in_browser_loop
async def test_a_screenshot_is_written(page: Page, site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCREENSHOT_DIR", str(tmp_path))
    await page.goto(f"{site}/")
    path = await screenshot(page, "programmes / wide")
    assert path == tmp_path / "programmes-wide.png"
    assert _png_size(path)[0] == 1280


def test_screenshots_go_to_var_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCREENSHOT_DIR", raising=False)
    assert screenshot_dir() == repo_root() / "var" / "screenshots"


@in_browser_loop
@pytest.mark.browser_context_args(viewport=NARROW_VIEWPORT, locale="en-GB")
async def test_a_narrow_screen_and_the_locale(
    page: Page, site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _Pages.languages.clear()
    await page.goto(f"{site}/")
    assert await page.evaluate("[window.innerWidth, navigator.language]") == [360, "en-GB"]
    assert _Pages.languages[0].startswith("en-GB")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360, "the page scrolls sideways"
    await assert_accessible(page)
    monkeypatch.setenv("SCREENSHOT_DIR", str(tmp_path))
    assert _png_size(await screenshot(page, "programmes-narrow"))[0] == 360


@in_browser_loop
async def test_the_default_locale_is_latvian(page: Page) -> None:
    assert await page.evaluate("navigator.language") == "lv-LV"


@in_browser_loop
async def test_contexts_are_separate(new_context: ContextFactory, site: str) -> None:
    first, second = await new_context(), await new_context()
    await first.add_cookies([{"name": "session", "value": "anna", "url": site}])
    assert [cookie["name"] for cookie in await first.cookies()] == ["session"]
    assert await second.cookies() == []


def test_a_missing_chromium_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "chromium"))
    with pytest.raises(RuntimeError, match=r"ensure-installed\.sh"):
        chromium_path()
    monkeypatch.delenv("CHROMIUM_PATH")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="no `chromium` on PATH"):
        chromium_path()


async def test_launching_without_chromium_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "chromium"))
    with pytest.raises(RuntimeError, match="CHROMIUM_PATH"):
        async with launch_browser():
            pass


INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
WRONG_LOOP = """
async def test_in_the_default_loop(page):
    pass

def test_sync(page):
    pass
"""


def test_a_test_outside_the_session_loop_fails_instead_of_hanging(tmp_path: Path) -> None:
    (tmp_path / "test_wrong.py").write_text(WRONG_LOOP)
    (tmp_path / "pytest.ini").write_text(INI)
    plugins = ["-p", "no:cacheprovider", "-p", "pytest_asyncio.plugin", "-p", "prasmes_testing.browser"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rE", *plugins],
        cwd=tmp_path,
        env=os.environ | {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},  # the other installed plugins take 4 s to import
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "2 errors" in run.stdout, run.stdout + run.stderr
    assert 'pytest.mark.asyncio(loop_scope="session")' in run.stdout
    assert "a browser test is `async def`" in run.stdout
