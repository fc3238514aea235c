"""Kiosk readability, measured from computed styles on every screen, in Chinese and
English: text at least 28 px (the ticket number far larger), WCAG 2.x contrast at
least 4.5:1 against the colour actually painted behind it, touch targets at least
64 x 64 CSS px, and at most three taps (no typing) from the start to a ticket.

One page per language walks start -> green channel -> materials -> ticket, a normal
ticket, a ticket the printer failed to print, the printer warning, a scanned ID,
check-in (code entry, too early, too late) and the closed hall."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from hardware_sim.printer import PrinterEmulator
from kiosk_server.clock import FixedClock
from kiosk_server.settings import Settings
from tests.browser_conftest import PageFactory, save_screenshot
from tests.display_client.pages.conftest import Site
from tests.factories import ID_ELDERLY_1949, SHANGHAI, printing_to

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

KIOSK = {"width": 1080, "height": 1920}
MIN_TEXT_PX = 28.0
MIN_NUMBER_PX = 150.0  # the ticket number must read from arm's length
MIN_CONTRAST = 4.5  # WCAG 2.x AA for normal text; applied to all kiosk text
MIN_TARGET_PX = 64.0
MAX_TAPS = 3
# Thursday 2026-11-26 10:00: the booked slot (the clock starts on Wednesday 10:00).
SLOT = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)

# Runs in the page: every visible text run and every visible interactive element on
# the current screen, with the colours actually composited on screen. The text and
# its backdrop are both composited through the ancestor chain (semi-transparent
# backgrounds, the text colour's alpha, every ancestor's opacity) over the white
# canvas, so a faded disabled button or a translucent badge is measured as drawn.
AUDIT_JS = """() => {
  const parse = (c) => {
    const m = (c || '').match(/[\\d.]+/g);
    if (!m || c === 'transparent') return [0, 0, 0, 0];
    const [r, g, b] = m.slice(0, 3).map(Number);
    const a = m.length > 3 ? Number(m[3]) : 1;
    return [r * a, g * a, b * a, a];  // premultiplied
  };
  const over = (top, bottom) => top.map((v, k) => v + bottom[k] * (1 - top[3]));
  const painted = (el, withText) => {
    let px = withText ? parse(getComputedStyle(el).color) : [0, 0, 0, 0];
    for (let n = el; n; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.backgroundImage && s.backgroundImage !== 'none') {
        throw new Error('background image on ' + describe(n) + ': contrast not measurable');
      }
      px = over(px, parse(s.backgroundColor)).map((v) => v * parseFloat(s.opacity));
    }
    px = over(px, [255, 255, 255, 1]);
    return px.slice(0, 3).map(Math.round);
  };
  const lum = ([r, g, b]) => {
    const lin = [r, g, b].map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    for (const c of el.classList) s += '.' + c;
    const owner = el.closest('[id]');
    if (!el.id && owner && owner !== el) s = '#' + owner.id + ' ' + s;
    return s;
  };
  const shown = (el) => el.checkVisibility({checkOpacity: false, checkVisibilityCSS: true});
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (!text) continue;
    const el = node.parentElement;
    if (!shown(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const fg = painted(el, true);
    const bg = painted(el, false);
    texts.push({
      el: describe(el), text: text.slice(0, 40), size: parseFloat(getComputedStyle(el).fontSize),
      fg: 'rgb(' + fg.join(', ') + ')', bg: 'rgb(' + bg.join(', ') + ')',
      ratio: Math.round(ratio(fg, bg) * 100) / 100,
    });
  }
  const sel = 'button, a[href], input, select, textarea, [role=button], [tabindex]:not([tabindex="-1"])';
  const targets = [...document.querySelectorAll(sel)].filter(shown).map((el) => {
    const r = el.getBoundingClientRect();
    return {el: describe(el), text: el.textContent.replace(/\\s+/g, ' ').trim().slice(0, 30),
            w: Math.round(r.width), h: Math.round(r.height)};
  }).filter((t) => t.w > 0 || t.h > 0);
  return {screen: document.body.dataset.screen, lang: document.documentElement.lang, texts, targets};
}"""


@pytest.fixture
def settings(settings: Settings, emu_url: str) -> Settings:
    return printing_to(settings, emu_url)


async def audit(page: Any, name: str, *, must_show: tuple[str, ...] = ()) -> dict[str, Any]:
    """Assert every readability rule on the screen as it stands; return the report."""
    for selector in must_show:
        assert await page.is_visible(selector), f"{name}: {selector} is not shown"
    report: dict[str, Any] = await page.evaluate(AUDIT_JS)
    where = f"{name} [{report['lang']}, screen={report['screen']}]"
    texts, targets = report["texts"], report["targets"]
    assert len(texts) >= 5, f"{where}: only {len(texts)} text runs found: {texts}"

    def line(x: dict[str, Any]) -> str:
        return f"  {x['el']} {x['text']!r}: {x['size']} px, {x['fg']} on {x['bg']} = {x['ratio']}:1"

    small = [x for x in texts if x["size"] < MIN_TEXT_PX]
    assert not small, f"{where}: text under {MIN_TEXT_PX} px:\n" + "\n".join(map(line, small))
    low = [x for x in texts if x["ratio"] < MIN_CONTRAST]
    assert not low, f"{where}: contrast under {MIN_CONTRAST}:1:\n" + "\n".join(map(line, low))
    tiny = [t for t in targets if t["w"] < MIN_TARGET_PX or t["h"] < MIN_TARGET_PX]
    assert not tiny, f"{where}: touch targets under {MIN_TARGET_PX} px square:\n" + "\n".join(
        f"  {t['el']} {t['text']!r}: {t['w']} x {t['h']} px" for t in tiny
    )
    assert targets, f"{where}: no touch target at all"
    await save_screenshot(page, f"kiosk-readability-{report['lang']}-{name}")
    return report


async def start_counting(page: Any) -> None:
    """From here on, count the resident's taps and keystrokes (a scan is keystrokes)."""
    await page.evaluate(
        """() => {
      const c = window.__inputs = {taps: 0, keys: 0};
      if (window.__counting) return;
      window.__counting = true;
      document.addEventListener('pointerdown', () => { window.__inputs.taps += 1; }, true);
      document.addEventListener('keydown', () => { window.__inputs.keys += 1; }, true);
    }"""
    )


async def inputs(page: Any) -> dict[str, int]:
    counted: dict[str, int] = await page.evaluate("window.__inputs")
    return counted


async def ticket_number_size(page: Any) -> float:
    size: float = await page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#t-number')).fontSize)"
    )
    return size


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_every_kiosk_screen_is_readable_and_reachable(
    page_factory: PageFactory, site: Site, clock: FixedClock, emu: PrinterEmulator, lang: str
) -> None:
    r = await site.api.post(
        "/api/v1/halls/demo/appointments",
        json={
            "service": "enrol",
            "slot_start": SLOT.isoformat(),
            "name": "张三丰",
            "phone": "13812341234",
        },
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]

    page = await page_factory(**KIOSK, locale=lang)
    await page.goto(site.url(f"/kiosk/demo?lang={lang}&device_token={site.kit.tokens['kiosk']}"))
    await page.wait_for_selector(".k-service")
    assert await page.evaluate("document.documentElement.lang") == lang
    await audit(page, "start", must_show=("#green", "#services", "#checkin", "#lang"))

    # Green channel: three taps (channel, item, take) and no typing to a printed ticket.
    await start_counting(page)
    await page.click("#green")
    await page.wait_for_selector("#green[aria-pressed=true]")
    await audit(page, "start-green")
    await page.click("[data-service=enrol]")
    await page.wait_for_selector("#screen-materials:not(.hidden)")
    await audit(page, "materials-green", must_show=("#m-list li", "#m-channel", "#take", "#back"))
    await page.click("#take")
    await page.wait_for_selector("#screen-ticket:not(.hidden)")
    counted = await inputs(page)
    assert counted["taps"] <= MAX_TAPS and counted["keys"] == 0, counted
    assert await page.is_visible("#t-channel")
    await audit(page, "ticket-green", must_show=("#t-number", "#t-printed", "#done"))
    assert await ticket_number_size(page) >= MIN_NUMBER_PX

    # A normal ticket: two taps.
    await page.click("#done")
    await page.wait_for_selector("#screen-start:not(.hidden)")
    await start_counting(page)
    await page.click("[data-service=payment]")
    await page.wait_for_selector("#screen-materials:not(.hidden)")
    await audit(page, "materials", must_show=("#m-list li",))
    await page.click("#take")
    await page.wait_for_selector("#screen-ticket:not(.hidden)")
    counted = await inputs(page)
    assert counted["taps"] <= MAX_TAPS and counted["keys"] == 0, counted
    assert await page.is_hidden("#t-channel")
    await audit(page, "ticket", must_show=("#t-number", "#t-printed", "#t-ahead", "#t-wait"))
    assert await ticket_number_size(page) >= MIN_NUMBER_PX

    # The printer out of paper: the whole ticket on screen, then the warning at the start.
    emu.set_state("paper_out")
    await page.click("#done")
    await page.click("[data-service=reimbursement]")
    await page.click("#take")
    await page.wait_for_selector("#t-unprinted:not(.hidden)")
    await audit(page, "ticket-unprinted", must_show=("#t-materials-box", "#t-number"))
    assert await ticket_number_size(page) >= MIN_NUMBER_PX
    await page.click("#done")
    await page.wait_for_selector("#printer-warning:not(.hidden)")
    await audit(page, "start-printer-warning")
    warning = await page.inner_text("#printer-warning")
    assert ("out of paper" in warning) if lang == "en" else ("缺纸" in warning), warning
    emu.set_state("ok")

    # A scanned ID number (a scanner types it): the notice on the start screen.
    await page.keyboard.type(ID_ELDERLY_1949 + "\n", delay=5)
    await page.wait_for_selector("#scan-info:not(.hidden)")
    await audit(page, "start-scanned", must_show=("#green[aria-pressed=true]",))

    # Check-in: the code entry (the go button still disabled), then a code keyed in.
    await page.click("#checkin")
    await page.wait_for_selector("#screen-checkin:not(.hidden)")
    assert await page.is_disabled("#checkin-go")
    await audit(page, "checkin", must_show=("#keypad button", "#checkin-go", "#checkin-back"))
    for key in "1234":
        await page.click(f"#keypad [data-key='{key}']")
    assert await page.is_enabled("#checkin-go")
    await audit(page, "checkin-code")

    # Too early: the error box says when to come back.
    clock.set(SLOT - timedelta(minutes=50))
    await page.click("#keypad [data-key='clear']")
    await page.keyboard.type(code + "\n", delay=5)
    await page.wait_for_selector("#error:not(.hidden)")
    await audit(page, "checkin-too-early", must_show=("#error",))

    # Too late: the notice with one large button for a normal ticket.
    clock.set(SLOT + timedelta(minutes=20))
    await page.click("#checkin-back")
    await page.click("#checkin")
    await page.keyboard.type(code + "\n", delay=5)
    await page.wait_for_selector("#checkin-late:not(.hidden)")
    await audit(page, "checkin-too-late", must_show=("#late-text", "#take-normal"))
    offer = await page.inner_text("#take-normal")
    assert "城乡居民参保登记" in offer
    if lang == "en":  # both names, as on the item buttons
        assert "enrolment" in offer.lower(), offer
    await page.click("#take-normal")
    await page.wait_for_selector("#screen-ticket:not(.hidden)")
    await audit(page, "ticket-after-late", must_show=("#t-number",))

    # Evening: the closed hall, with its check-in button.
    clock.set(SLOT + timedelta(hours=10))
    await page.reload()
    await page.wait_for_selector("#screen-closed:not(.hidden)")
    assert await page.evaluate("document.documentElement.lang") == lang
    await audit(page, "closed", must_show=("#opens-at", "#closed-checkin"))
