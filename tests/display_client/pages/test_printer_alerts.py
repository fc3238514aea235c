"""The kiosk's printer in trouble reaches the staff who can fix it: a banner on
the counter page and a line on the supervisor dashboard, live over /ws/staff,
gone again once the printer is back to normal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware_sim.printer import PrinterEmulator
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.printing.runtime import runtime
from kiosk_server.settings import Settings
from tests.browser_conftest import PageFactory, save_screenshot
from tests.display_client.pages.conftest import Site
from tests.factories import PASSWORD

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

BANNER = "#printer-banner"
LINE = "#printer-status"


async def open_counter(page_factory: PageFactory, site: Site) -> Any:
    page = await page_factory(width=1366, height=768)
    await page.goto(site.url("/counter"))
    await page.fill("#username", "demo-staff1")
    await page.fill("#password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.click("#counters [data-counter='1']")
    await page.wait_for_selector("#desk:not(.hidden)")
    await page.wait_for_selector("#live:not(.off)")
    return page


async def open_supervisor(page_factory: PageFactory, site: Site) -> Any:
    page = await page_factory(width=1600, height=1000)
    await page.goto(site.url("/supervisor/demo"))
    await page.fill("#login-form [name=username]", "demo-supervisor")
    await page.fill("#login-form [name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("body[data-ready='1']")
    await page.wait_for_selector("#live.on")
    return page


class TestWithAPrinter:
    @pytest.fixture
    def emu(self, tmp_path: Path) -> Iterator[PrinterEmulator]:
        with PrinterEmulator(tmp_path / "printer", paper_mm=80) as e:
            yield e

    @pytest.fixture
    def settings(self, settings: Settings, emu: PrinterEmulator) -> Settings:
        host, port = emu.start_tcp()
        return settings.model_copy(update={"printer_url": f"tcp://{host}:{port}"})

    async def test_counter_and_supervisor_follow_the_kiosk_printer_live(
        self,
        page_factory: PageFactory,
        site: Site,
        ctx: AppContext,
        clock: FixedClock,
        emu: PrinterEmulator,
    ) -> None:
        async def printer_becomes(state: Any) -> None:
            # What the server's periodic poll does: ask the printer, publish a change.
            emu.set_state(state)
            await runtime(ctx).poll_status(ctx, force=True)

        await printer_becomes("ok")
        counter = await open_counter(page_factory, site)
        supervisor = await open_supervisor(page_factory, site)
        # Both asked the server at start: a printing hall, nothing wrong.
        await counter.wait_for_selector(f"{BANNER}[data-mode=local]", state="attached")
        assert await counter.is_hidden(BANNER)
        await supervisor.wait_for_selector(f"{LINE}[data-level=ok]")
        assert await supervisor.inner_text(LINE) == "取号机打印机：正常"

        # 10:42 in the hall: the roll runs out. No reload on either page.
        clock.advance(minutes=42)
        await printer_becomes("paper_out")
        await counter.wait_for_selector(f"{BANNER}[data-level=bad][data-state=paper_out]")
        assert (
            await counter.inner_text(BANNER) == "取号机打印机缺纸 — 请及时更换纸卷（自 10:42 起）"
        )
        # Not blocking: the desk's buttons still work under the banner.
        assert await counter.is_enabled("[data-action=call-next]")
        await supervisor.wait_for_selector(f"{LINE}[data-level=bad][data-state=paper_out]")
        assert await supervisor.inner_text(LINE) == "取号机打印机：缺纸（自 10:42 起）"
        assert await supervisor.evaluate(
            "getComputedStyle(document.querySelector('#printer-status')).backgroundColor"
        ) == ("rgb(185, 28, 28)")
        await save_screenshot(counter, "counter-printer-out")
        await supervisor.locator(LINE).scroll_into_view_if_needed()
        await save_screenshot(supervisor, "supervisor-printer-out")

        # In English too.
        await counter.click("#lang")
        await counter.wait_for_function(
            "document.querySelector('#printer-banner').textContent"
            ".startsWith('Kiosk printer out of paper')"
        )
        assert (await counter.inner_text(BANNER)).endswith("(since 10:42)")
        await counter.click("#lang")

        # The cover is open while the roll goes in.
        clock.advance(minutes=3)
        await printer_becomes("cover_open")
        await counter.wait_for_selector(f"{BANNER}[data-state=cover_open]")
        assert "上盖打开" in await counter.inner_text(BANNER)
        await supervisor.wait_for_selector(f"{LINE}[data-level=bad][data-state=cover_open]")

        # A roll nearly used up is a milder warning, and still prints.
        await printer_becomes("near_end")
        await counter.wait_for_selector(f"{BANNER}[data-level=warn][data-state=paper_near_end]")
        assert "纸将用完" in await counter.inner_text(BANNER)
        await supervisor.wait_for_selector(f"{LINE}[data-level=warn]")

        # Back to normal: the banner goes, the supervisor's line turns green.
        await printer_becomes("ok")
        await counter.wait_for_selector(f"{BANNER}.hidden", state="attached")
        assert await counter.is_hidden(BANNER)
        assert await counter.inner_text(BANNER) == ""
        await supervisor.wait_for_selector(f"{LINE}[data-level=ok]")

        # A reloaded page starts from the server's state, not from events.
        await printer_becomes("paper_out")
        await counter.wait_for_selector(f"{BANNER}[data-state=paper_out]")
        await counter.reload()
        await counter.wait_for_selector("#desk:not(.hidden)")
        await counter.wait_for_selector(f"{BANNER}[data-state=paper_out]")
        assert "（自 10:45 起）" in await counter.inner_text(BANNER)


class TestPrintingOff:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"printer_url": "none://"})

    async def test_no_banner_and_no_line_when_the_hall_does_not_print(
        self, page_factory: PageFactory, site: Site
    ) -> None:
        counter = await open_counter(page_factory, site)
        await counter.wait_for_selector(f"{BANNER}[data-mode=off]", state="attached")
        assert await counter.is_hidden(BANNER)
        supervisor = await open_supervisor(page_factory, site)
        await supervisor.wait_for_selector(f"{LINE}[data-mode=off]", state="attached")
        assert await supervisor.is_hidden(LINE)
