"""取号 at the counter page, for village points without a kiosk: staff pick the
item (and the green channel), the page shows the new number and whether the
hall's printer printed it."""

from __future__ import annotations

import pytest

from hardware_sim.printer import PrinterEmulator
from kiosk_server.settings import Settings
from tests.browser_conftest import PageFactory, save_screenshot
from tests.display_client.pages.conftest import Site
from tests.display_client.pages.test_journey import open_counter
from tests.factories import printing_to

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


@pytest.fixture
def settings(settings: Settings, emu_url: str) -> Settings:
    return printing_to(settings, emu_url)


async def test_staff_issue_a_green_ticket_that_prints_then_one_that_cannot(
    page_factory: PageFactory, site: Site, emu: PrinterEmulator
) -> None:
    page = await open_counter(page_factory, site, "demo-staff1", 1)
    assert await page.inner_text("#issue") == "取号\nI"

    # I opens the dialog: item, green channel, issue.
    await page.keyboard.press("i")
    await page.wait_for_selector("#issue-service")
    await page.select_option("#issue-service", "payment")
    await page.check("#issue-green")
    await page.dblclick("#issue-go")  # a double click issues (and prints) one ticket
    await page.wait_for_selector("#issue-result:not(.hidden)")
    number = await page.inner_text("#issue-number")
    assert number == "C001"
    assert await page.inner_text("#issue-print") == "号票已打印"
    assert "绿色通道" in await page.inner_text("#issue-result")
    await save_screenshot(page, "counter-issue")

    # The server has it: waiting, green, on this hall's queue, printed once.
    queue = (await site.api.get("/api/v1/halls/demo/queue", headers=site.kit.auth("staff"))).json()
    assert [(q["number"], q["channel"], q["service"]) for q in queue] == [
        ("C001", "green", "payment")
    ]
    printed = emu.wait_for_tickets(1)
    assert "C001" in printed[0].text
    await page.wait_for_selector(f"#queue tr.green[data-number='{number}']")

    # Paper out: the next ticket is issued all the same, and the page says it did not print.
    emu.set_state("paper_out")
    await page.click("#issue-again")
    await page.wait_for_selector("#issue-result.hidden", state="attached")
    await page.select_option("#issue-service", "enrol")
    await page.click("#issue-go")
    await page.wait_for_selector("#issue-result:not(.hidden)")
    assert await page.inner_text("#issue-number") == "A001"
    failed = await page.inner_text("#issue-print")
    assert "未能打印" in failed and "缺纸" in failed
    assert "绿色通道" not in await page.inner_text("#issue-result")
    queue = (await site.api.get("/api/v1/halls/demo/queue", headers=site.kit.auth("staff"))).json()
    assert [q["number"] for q in queue] == ["C001", "A001"]
    assert len(emu.tickets) == 1
