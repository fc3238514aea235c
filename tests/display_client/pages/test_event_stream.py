"""api.js EventStream: messages are handled one at a time, so events that arrive
while a resync awaits its snapshot are applied after it (those the snapshot
covers are skipped), and a screen is not sent to the snapshot by the events the
public socket withholds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser_conftest import PageFactory
from tests.display_client.pages.conftest import Site
from tests.factories import act, issue, rate_ticket, serve

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

# A WebSocket stand-in the test drives: window.sock.push(msg) delivers a message.
# Snapshots resolve only when the test says so (window.snap.resolve(seq)).
HARNESS = """
async () => {
  const { EventStream } = await import("/static/api.js");
  class FakeSocket {
    constructor(url) { this.url = url; window.sock = this; setTimeout(() => this.onopen && this.onopen(), 0); }
    push(msg) { this.onmessage({ data: JSON.stringify(msg) }); }
    close() {}
  }
  window.WebSocket = FakeSocket;
  const got = { events: [], hidden: [], snapshots: 0 };
  window.got = got;
  let first = true;
  const stream = new EventStream("/ws/halls/demo/display", {
    onSnapshot: () => {
      got.snapshots += 1;
      if (first) { first = false; return Promise.resolve(10); }
      return new Promise((resolve) => { window.snap = { resolve }; });
    },
    onEvent: (ev) => got.events.push(ev.seq),
    onHidden: (ev) => got.hidden.push(ev.seq),
  });
  window.stream = stream;
  await stream.start();
}
"""


async def harness(page_factory: PageFactory, site: Site) -> Any:
    page = await page_factory()
    # Any page of the server: the test needs its origin for the module import.
    await page.goto(site.url("/static/api.js"))
    await page.evaluate(HARNESS)
    await page.wait_for_function("window.sock !== undefined")
    return page


def ev(seq: int, type_: str = "ticket.called") -> dict[str, Any]:
    return {"seq": seq, "type": type_, "hall": "demo", "data": {}}


async def test_events_during_a_resync_wait_for_it(page_factory: PageFactory, site: Site) -> None:
    page = await harness(page_factory, site)
    # 12 after 10: a gap, the snapshot is fetched; 11..14 arrive meanwhile.
    for seq in (12, 11, 12, 13, 14):
        await page.evaluate("(m) => window.sock.push(m)", ev(seq))
    await page.wait_for_function("window.snap !== undefined")
    assert await page.evaluate("window.got.events") == []  # nothing ran past the resync
    await page.evaluate("window.snap.resolve(13)")
    await page.wait_for_function("window.got.events.length === 1")
    got = await page.evaluate("window.got")
    assert got["events"] == [14]  # 11-13 are in the snapshot; 14 is applied once
    assert got["snapshots"] == 2  # the start, and one resync for the whole burst
    assert await page.evaluate("window.stream.seq") == 14


async def test_placeholders_advance_seq_without_a_snapshot(
    page_factory: PageFactory, site: Site
) -> None:
    page = await harness(page_factory, site)
    for m in (ev(11), {"seq": 12, "type": "hidden", "hall": "demo"}, ev(13)):
        await page.evaluate("(m) => window.sock.push(m)", m)
    await page.wait_for_function("window.got.events.length === 2")
    got = await page.evaluate("window.got")
    assert got == {"events": [11, 13], "hidden": [12], "snapshots": 1}


async def test_a_resync_message_during_a_resync_runs_after_it(
    page_factory: PageFactory, site: Site
) -> None:
    page = await harness(page_factory, site)
    await page.evaluate("(m) => window.sock.push(m)", ev(15))  # gap: snapshot pending
    await page.wait_for_function("window.snap !== undefined")
    await page.evaluate("window.sock.push({type: 'resync', hall: 'demo', seq: 20})")
    await page.evaluate("(m) => window.sock.push(m)", ev(21))
    assert await page.evaluate("window.got.snapshots") == 2  # the second waits its turn
    await page.evaluate("window.snap.resolve(15)")
    await page.wait_for_function("window.got.snapshots === 3")
    await page.evaluate("window.snap.resolve(20)")
    await page.wait_for_function("window.got.events.length === 1")
    assert await page.evaluate("window.got.events") == [21]


async def test_hall_screen_after_a_bad_rating_announces_the_call_without_resync(
    page_factory: PageFactory, site: Site
) -> None:
    kit = site.kit
    await issue(site.api, kit)
    await issue(site.api, kit)
    screen = await page_factory(width=1920, height=1080)
    await screen.goto(site.url(f"/display/demo?device_token={kit.tokens['display']}"))
    await screen.wait_for_selector("#conn:not(.off)")
    first = await serve(site.api, kit, 1)
    assert (await rate_ticket(site.api, kit, first["id"], 1)).status_code == 201
    r = await act(site.api, kit, 1, "call-next")
    number = r.json()["ticket"]["number"]
    await screen.wait_for_function(f"window.hallq.announcements.some(a => a.number === '{number}')")
    top = (await site.api.get("/api/v1/halls/demo/display")).json()["seq"]
    await screen.wait_for_function(f"window.hallq.stream.seq === {top}")
    assert await screen.evaluate("window.hallq.stream.snapshots") == 1  # only the start


async def test_rating_pad_in_english_stores_the_chinese_reason(
    page_factory: PageFactory, site: Site
) -> None:
    # (Here because the pad is driven by the stream: a ticket.finished asks.)
    kit = site.kit
    pad = await page_factory(locale="en-US")
    await pad.goto(site.url(f"/rate/1?lang=en&device_token={kit.tokens['pad']}"))
    await pad.wait_for_function("document.querySelector('#counter').textContent === 'Counter 1'")
    await pad.wait_for_function("window.hallq.stream && window.hallq.stream.ws")
    await pad.wait_for_function("window.hallq.stream.ws.readyState === 1")
    await issue(site.api, kit)
    await serve(site.api, kit, 1)
    await pad.wait_for_selector("body[data-screen=ask]")
    await pad.click("[data-score='1']")
    await pad.wait_for_selector("body[data-screen=reason]")
    button = pad.locator("[data-reason=wait]")
    assert await button.inner_text() == "Waited too long"  # shown in the pad's language
    async with pad.expect_request(lambda r: r.url.endswith("/rating")) as req:
        await button.click()
    body = (await req.value).post_data_json
    assert body == {"score": 1, "reason": "等候时间太长"}  # stored in one language
    await pad.wait_for_selector("body[data-screen=thanks]")


async def test_a_hung_snapshot_is_given_up_and_later_events_still_run(
    page_factory: PageFactory, site: Site
) -> None:
    page = await harness(page_factory, site)
    await page.evaluate("window.stream.snapshotTimeoutMs = 300")
    await page.evaluate(
        "(m) => window.sock.push(m)", ev(12)
    )  # a gap: a snapshot that never answers
    await page.wait_for_function("window.snap !== undefined")
    # Given up: the seq stays at 10; the next event, 11, is applied.
    await page.evaluate("(m) => window.sock.push(m)", ev(11))
    await page.wait_for_function("window.got.events.length === 1", timeout=5000)
    assert await page.evaluate("window.got.events") == [11]
    assert await page.evaluate("window.stream.seq") == 11
