"""The kiosk in a real browser: elderly-first sizes, three taps to a ticket,
double tap, scans, closed hours, English."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from kiosk_server.clock import FixedClock
from tests.browser_conftest import PageFactory, save_screenshot
from tests.display_client.pages.conftest import Site
from tests.factories import ID_ELDERLY_1949, SHANGHAI

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

KIOSK = {"width": 1080, "height": 1920}


def contrast(fg: str, bg: str) -> float:
    def lum(css: str) -> float:
        r, g, b = (int(x) / 255 for x in re.findall(r"\d+", css)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    a, b = sorted((lum(fg), lum(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


async def open_kiosk(page_factory: PageFactory, site: Site) -> object:
    page = await page_factory(**KIOSK)
    await page.goto(site.url(f"/kiosk/demo?device_token={site.kit.tokens['kiosk']}"))
    await page.wait_for_selector(".k-service")
    return page


async def test_elderly_scan_then_two_taps_gives_a_green_ticket(
    page_factory: PageFactory, site: Site
) -> None:
    page = await open_kiosk(page_factory, site)
    await save_screenshot(page, "kiosk-start")

    # Every visible text is at least 28 px with WCAG AA contrast (4.5:1) on its background.
    report = await page.evaluate(
        """() => {
      const out = [];
      const bgOf = (n) => {
        for (; n; n = n.parentElement) {
          const c = getComputedStyle(n).backgroundColor;
          if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c;
        }
        return 'rgb(255, 255, 255)';
      };
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const node = walker.currentNode;
        if (!node.textContent.trim()) continue;
        const elx = node.parentElement;
        if (!elx.offsetParent && getComputedStyle(elx).position !== 'fixed') continue;
        const s = getComputedStyle(elx);
        out.push({text: node.textContent.trim().slice(0, 20), size: parseFloat(s.fontSize),
                  color: s.color, bg: bgOf(elx)});
      }
      const targets = [...document.querySelectorAll('button')].filter(b => b.offsetParent)
        .map(b => ({text: b.textContent.trim().slice(0, 20), h: b.getBoundingClientRect().height,
                    w: b.getBoundingClientRect().width}));
      return {texts: out, targets};
    }"""
    )
    assert len(report["texts"]) > 20
    small = [x for x in report["texts"] if x["size"] < 28]
    assert not small, small
    low = [x for x in report["texts"] if contrast(x["color"], x["bg"]) < 4.5]
    assert not low, low
    tiny = [b for b in report["targets"] if b["h"] < 72 or b["w"] < 72]
    assert not tiny, tiny

    # A scanner types the ID number: the elderly resident is routed to the green channel.
    await page.keyboard.type(ID_ELDERLY_1949 + "\n", delay=5)
    await page.wait_for_selector("#green[aria-pressed=true]")
    assert "***" in await page.inner_text("#scan-info")
    assert ID_ELDERLY_1949 not in await page.content()

    # Tap 1: the item; its materials list shows before any ticket is taken.
    await page.click("[data-service=enrol]")
    await page.wait_for_selector("#screen-materials:not(.hidden)")
    services = (await site.api.get("/api/v1/halls/demo/services")).json()
    enrol = next(s for s in services if s["code"] == "enrol")
    assert enrol["materials"]
    for m in enrol["materials"]:
        assert m in await page.inner_text("#m-list")
    await save_screenshot(page, "kiosk-materials")

    # Tap 2, twice in a row (a double tap): one ticket.
    await page.dblclick("#take")
    await page.wait_for_selector("#screen-ticket:not(.hidden)")
    number = await page.inner_text("#t-number")
    assert re.fullmatch(r"A\d{3}", number)
    assert await page.is_visible("#t-channel")
    assert "0" in await page.inner_text("#t-ahead")
    queue = (await site.api.get("/api/v1/halls/demo/queue", headers=site.kit.auth("staff"))).json()
    assert [q["number"] for q in queue] == [number]
    assert queue[0]["channel"] == "green"
    size = await page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#t-number')).fontSize)"
    )
    assert size >= 150
    qr = await page.evaluate("document.querySelector('#t-qr').naturalWidth")
    assert qr > 0
    await save_screenshot(page, "kiosk-ticket")


async def test_english_idle_reset_checkin_and_closed_hours(
    page_factory: PageFactory, site: Site, clock: FixedClock
) -> None:
    page = await page_factory(**KIOSK)
    await page.clock.install()
    await page.goto(site.url(f"/kiosk/demo?device_token={site.kit.tokens['kiosk']}"))
    await page.wait_for_selector(".k-service")

    # English switch: every string from the English catalogue, item names in both.
    await page.click("#lang")
    await page.wait_for_function("document.documentElement.lang === 'en'")
    assert await page.inner_text(".k-prompt") == "Please choose a service"
    enrol = await page.inner_text("[data-service=enrol]")
    assert "城乡居民参保登记" in enrol and "enrol" in enrol.lower()
    assert "Elderly" in await page.inner_text("#green")
    await save_screenshot(page, "kiosk-start-en")
    await page.click("#lang")
    await page.wait_for_function("document.documentElement.lang === 'zh-CN'")

    # A ticket, then 15 s without a touch: back to the start for the next person.
    await page.click("[data-service=payment]")
    await page.click("#take")
    await page.wait_for_selector("#screen-ticket:not(.hidden)")
    await page.clock.fast_forward(14_000)
    assert await page.is_visible("#screen-ticket")
    await page.clock.fast_forward(2_000)
    await page.wait_for_selector("#screen-start:not(.hidden)")

    # Appointment check-in: a scanned code goes to the server, whose message is shown.
    await page.click("#checkin")
    for key in "123456":
        await page.click(f"#keypad [data-key='{key}']")
    assert await page.inner_text("#code") == "123456"
    await page.keyboard.type("YY20261125\n", delay=5)
    await page.wait_for_selector("#error:not(.hidden)")
    message = await page.inner_text("#error")
    # The appointments package's own words, in the page's language only.
    assert message == "预约码不存在，请核对"
    await page.click("#lang")
    await page.wait_for_function("document.documentElement.lang === 'en'")
    await page.keyboard.type("YY20261125\n", delay=5)
    await page.wait_for_function(
        "document.querySelector('#error').textContent.startsWith('no booking')"
    )
    assert await page.inner_text("#error") == "no booking has this code; please check it"
    await page.click("#lang")
    await page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert await page.inner_text("#code") == "YY20261125"
    await save_screenshot(page, "kiosk-checkin")

    # Evening: the hall is closed; the kiosk says when it opens and offers no items.
    clock.advance(hours=10)
    await page.reload()
    await page.wait_for_selector("#screen-closed:not(.hidden)")
    assert await page.is_hidden("#services")
    when = await page.inner_text("#opens-at")
    assert "26" in when and "08:30" in when
    await save_screenshot(page, "kiosk-closed")


async def test_a_scanned_id_left_on_the_start_screen_is_forgotten(
    page_factory: PageFactory, site: Site
) -> None:
    """A resident scans their ID (green channel on) and walks away without a
    ticket: 15 s later the next person's ticket carries none of it."""
    page = await page_factory(**KIOSK)
    await page.clock.install()
    await page.goto(site.url(f"/kiosk/demo?device_token={site.kit.tokens['kiosk']}"))
    await page.wait_for_selector(".k-service")
    await page.keyboard.type(ID_ELDERLY_1949 + "\n", delay=5)
    await page.wait_for_selector("#green[aria-pressed=true]")
    await page.wait_for_selector("#scan-info:not(.hidden)")
    await page.clock.fast_forward(14_000)
    assert await page.get_attribute("#green", "aria-pressed") == "true"
    await page.clock.fast_forward(2_000)
    await page.wait_for_selector("#green[aria-pressed=false]")
    assert await page.is_hidden("#scan-info")

    # The next resident takes an ordinary ticket: no ID, not green.
    sent: list[dict[str, object]] = []
    page.on(
        "request",
        lambda r: (
            sent.append(r.post_data_json)
            if r.method == "POST" and r.url.endswith("/tickets")
            else None
        ),
    )
    await page.click("[data-service=payment]")
    await page.click("#take")
    await page.wait_for_selector("#screen-ticket:not(.hidden)")
    assert sent == [{"service": "payment"}]
    assert await page.is_hidden("#t-channel")


async def test_holiday_closed_screen_says_why_and_still_takes_check_ins(
    page_factory: PageFactory, site: Site, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI))  # National Day
    page = await page_factory(**KIOSK)
    await page.goto(site.url(f"/kiosk/demo?device_token={site.kit.tokens['kiosk']}"))
    await page.wait_for_selector("#screen-closed:not(.hidden)")
    assert "法定节假日" in await page.inner_text("#screen-closed .k-closed-title")
    assert "10月8日" in await page.inner_text("#opens-at")
    await page.click("#closed-checkin")
    await page.wait_for_selector("#screen-checkin:not(.hidden)")
    await page.click("#checkin-back")
    await page.wait_for_selector("#screen-closed:not(.hidden)")
