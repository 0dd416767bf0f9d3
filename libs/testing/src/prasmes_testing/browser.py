"""Tests in a real browser: Debian's Chromium driven by Playwright's async API, with axe-core in the page.

A pytest plugin (the repository's conftest.py loads it). Its fixtures:

    browser               one Chromium for the whole run, launched on first use
    browser_context       a fresh context (cookies, storage) per test, made with `browser_context_args`
    page                  a page in that context
    new_context           `await new_context(**options)`: more contexts in one test (two users side by side)
    browser_context_args  the context options: DEFAULT_CONTEXT, and what `@pytest.mark.browser_context_args(...)`
                          adds, e.g. `@pytest.mark.browser_context_args(viewport=NARROW_VIEWPORT, locale="en-GB")`

The browser belongs to the session's event loop, so a browser test runs in it, and so does every async fixture it
uses (a fixture left in the per-test loop would not run while the test awaits the page):

    pytestmark = pytest.mark.asyncio(loop_scope="session")

    @pytest_asyncio.fixture(loop_scope="session")
    async def signed_in(page: Page) -> Page: ...

The fixtures fail a test that is not `async def` in the session loop. Why not the sync API: after each of its calls
it marks its own loop as the thread's running loop, and every async test after the first browser test then fails
("Runner.run() cannot be called from a running event loop").

Why axe goes in with `page.evaluate`: DevTools' evaluation is not subject to the page's Content-Security-Policy,
while `page.add_script_tag` adds an inline script that `script-src 'self'` refuses. The contexts keep the CSP in
force (no `bypass_csp`), so the tests see the pages the way users do.

Chromium is `$CHROMIUM_PATH` or `chromium` on PATH (deploy/chromium/ensure-installed.sh installs Debian's); axe-core
comes from libs/testing/node_modules (`npm ci --prefix libs/testing`). Without either a browser test fails.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from prasmes_testing.servers import repo_root

if TYPE_CHECKING:  # Playwright is imported when a browser starts: the suite's other tests do not pay for it
    from playwright.async_api import Browser, BrowserContext, Page

__all__ = [
    "CHROMIUM_ARGS",
    "DEFAULT_CONTEXT",
    "NARROW_VIEWPORT",
    "SERIOUS",
    "WCAG_TAGS",
    "ContextFactory",
    "assert_accessible",
    "axe_violations",
    "chromium_path",
    "describe_violations",
    "launch_browser",
    "screenshot",
    "screenshot_dir",
]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    # Without these Chromium keeps calling Google's hosts, which this project's machines cannot reach.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_CONTEXT: dict[str, Any] = {"locale": "lv-LV", "viewport": {"width": 1280, "height": 800}}
NARROW_VIEWPORT: dict[str, int] = {"width": 360, "height": 800}
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
SERIOUS = ("serious", "critical")

_INSTALL_HINT = "run `bash deploy/chromium/ensure-installed.sh` (make deps-system) or set CHROMIUM_PATH"
_AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
_RUN_AXE = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
    .then(results => results.violations)"""

ContextFactory = Callable[..., Awaitable["BrowserContext"]]


# --------------------------------------------------------------------------- the browser


def chromium_path() -> str:
    """The Chromium to drive: `$CHROMIUM_PATH`, else `chromium` on PATH; raises when there is none."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if not os.access(configured, os.X_OK) or not Path(configured).is_file():
            raise RuntimeError(f"CHROMIUM_PATH={configured} is not an executable file: {_INSTALL_HINT}")
        return configured
    found = shutil.which("chromium")
    if found is None:
        raise RuntimeError(f"no `chromium` on PATH for the browser tests: {_INSTALL_HINT}")
    return found


@asynccontextmanager
async def launch_browser() -> AsyncIterator[Browser]:
    """A headless Chromium (`chromium_path()`, `CHROMIUM_ARGS`), closed on exit with its Playwright driver."""
    from playwright.async_api import async_playwright

    executable = chromium_path()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


# --------------------------------------------------------------------------- checks on a page


@functools.cache
def _axe_source() -> str:
    if not _AXE_JS.is_file():
        raise RuntimeError(f"{_AXE_JS} is missing: run `npm ci --prefix libs/testing --no-audit --no-fund`")
    # The trailing expression tells the caller that the injection took.
    return _AXE_JS.read_text(encoding="utf-8") + "\n;typeof window.axe"


async def axe_violations(page: Page, *, impacts: Iterable[str] = SERIOUS) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations of the page as it is now, those of the given impacts."""
    if await page.evaluate("typeof window.axe") != "object":
        injected = await page.evaluate(_axe_source())
        if injected != "object":
            raise RuntimeError(f"axe-core did not load in {page.url} (window.axe is {injected})")
    violations: list[dict[str, Any]] = await page.evaluate(_RUN_AXE, list(WCAG_TAGS))
    wanted = set(impacts)
    return [violation for violation in violations if violation.get("impact") in wanted]


def describe_violations(violations: list[dict[str, Any]], *, targets: int = 3) -> str:
    """Per rule: id, impact, help and where to read more; then the first few elements it found."""
    lines = []
    for violation in violations:
        nodes = violation.get("nodes", [])
        rule = f"{violation['id']} ({violation.get('impact')})"
        lines.append(f"- {rule}: {violation.get('help')} [{violation.get('helpUrl')}]")
        lines.extend(f"    {_describe_node(node)}" for node in nodes[:targets])
        if len(nodes) > targets:
            lines.append(f"    ... and {len(nodes) - targets} more")
    return "\n".join(lines)


def _describe_node(node: dict[str, Any]) -> str:
    selector = " ".join(map(str, node.get("target", [])))
    html = " ".join(str(node.get("html", "")).split())
    return f"{selector}: {html[:100]}{'...' if len(html) > 100 else ''}"


async def assert_accessible(page: Page, *, impacts: Iterable[str] = SERIOUS) -> None:
    """Fails with a readable summary when axe-core finds violations of these impacts in the page."""
    violations = await axe_violations(page, impacts=impacts)
    if violations:
        summary = describe_violations(violations)
        raise AssertionError(f"{len(violations)} accessibility rule(s) fail in {page.url}:\n{summary}")


def screenshot_dir() -> Path:
    return Path(os.environ.get("SCREENSHOT_DIR") or repo_root() / "var" / "screenshots")


async def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG `<name>.png` in `$SCREENSHOT_DIR` or var/screenshots/ (git-ignored), for people to look at."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    if not stem:
        raise ValueError(f"no file name in {name!r}")
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.png"
    await page.screenshot(path=path, full_page=True)
    return path


# --------------------------------------------------------------------------- the pytest plugin


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser_context_args(**options): Playwright context options (locale, viewport, ...) for the test"
    )


def _require_session_loop(request: pytest.FixtureRequest) -> None:
    """Fail, rather than hang, a test whose own loop is not the browser's."""
    where = request.node.nodeid
    if not inspect.iscoroutinefunction(request.function):
        pytest.fail(f"{where}: a browser test is `async def` (the fixtures give Playwright's async API)", pytrace=False)
    marker = request.node.get_closest_marker("asyncio")
    kwargs = marker.kwargs if marker is not None else {}
    scope = kwargs.get("loop_scope") or kwargs.get("scope") or request.config.getini("asyncio_default_test_loop_scope")
    if scope != "session":
        pytest.fail(
            f"{where}: a browser test runs in the browser's event loop: "
            '`pytestmark = pytest.mark.asyncio(loop_scope="session")`, its async fixtures loop_scope="session" too',
            pytrace=False,
        )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _browser_session() -> AsyncIterator[Browser]:
    async with launch_browser() as browser:
        yield browser


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Browser:
    """The run's Chromium (launched by the first test that asks)."""
    _require_session_loop(request)  # before the launch: a test in the wrong loop fails at once
    launched: Browser = request.getfixturevalue("_browser_session")
    return launched


@pytest.fixture
def browser_context_args(request: pytest.FixtureRequest) -> dict[str, Any]:
    """DEFAULT_CONTEXT with the test's `@pytest.mark.browser_context_args(...)` options over it."""
    marker = request.node.get_closest_marker("browser_context_args")
    return DEFAULT_CONTEXT | (dict(marker.kwargs) if marker is not None else {})


@pytest_asyncio.fixture(loop_scope="session")
async def new_context(browser: Browser, browser_context_args: dict[str, Any]) -> AsyncIterator[ContextFactory]:
    """`await new_context(**options)`: a fresh context (`browser_context_args` with options over them), closed
    after the test."""
    contexts: list[BrowserContext] = []

    async def make(**options: Any) -> BrowserContext:
        context = await browser.new_context(**(browser_context_args | options))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def browser_context(new_context: ContextFactory) -> BrowserContext:
    return await new_context()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser_context: BrowserContext) -> Page:
    return await browser_context.new_page()
