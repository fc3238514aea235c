"""Shared Playwright fixtures: the system Chromium, and pages that fail the test
on any uncaught JavaScript error.

Registered from tests/conftest.py with ``pytest_plugins``. Use in a test::

    pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

    async def test_x(live, page_factory):
        page = await page_factory(width=1920, height=1080)
        await page.goto(f"{live.url}/display/demo")
        ...
        await save_screenshot(page, "display")

Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # The hall screen plays a chime and speaks without a click first.
    "--autoplay-policy=no-user-gesture-required",
]
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
HAVE_CHROMIUM = Path(CHROMIUM).exists()

PageFactory = Callable[..., Awaitable[Any]]


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:
        pytest.skip("system Chromium not installed")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest_asyncio.fixture
async def page_factory(browser: Any) -> AsyncIterator[PageFactory]:
    """``await page_factory(width=, height=, locale=, **context_options)`` -> a new page
    in its own browser context (own localStorage). JS errors on any page fail the test
    at teardown (``page.hallq_errors`` lists them)."""
    contexts: list[Any] = []
    errors: list[str] = []

    async def make(
        width: int = 1280, height: int = 800, locale: str = "zh-CN", **options: Any
    ) -> Any:
        context = await browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, **options
        )
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        page.hallq_errors = errors
        return page

    try:
        yield make
    finally:
        for c in contexts:
            await c.close()
    assert not errors, f"JavaScript errors: {errors}"


async def save_screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """Write ``test-artifacts/screenshots/<name>.png`` at the page's viewport size."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path
