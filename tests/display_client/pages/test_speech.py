"""Hall-screen speech in the browser: the spoken sentence is built the same way for
the browser's voice and the server's audio, and a server that cannot speak
Mandarin (503) leaves the screen on chime and flash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from display_client import tts
from tests.browser_conftest import PageFactory
from tests.display_client.fake_espeak import FakeEspeak
from tests.display_client.pages.conftest import Site

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

SENTENCES = [
    "请 A012 号 到 3 号窗口 办理",
    "请 G1234 号 到 12 号窗口 办理",
    "请 B007 号",
    "请 A 0 1 2 号到 3 号窗口办理",
]


async def test_browser_and_server_say_the_same_spelled_sentence(
    page_factory: PageFactory, site: Site
) -> None:
    page = await page_factory(width=1920, height=1080)
    await page.goto(site.url("/display/demo"))
    said: list[str] = await page.evaluate(
        "async (texts) => { const m = await import('/static/speech.js');"
        " return texts.map(m.spokenCall); }",
        SENTENCES,
    )
    assert said == [tts.spoken_call(t) for t in SENTENCES]
    assert said[0] == "请 A 0 1 2 号到 3 号窗口办理"


async def test_screen_falls_back_to_chime_and_flash_when_tts_is_503(
    page_factory: PageFactory, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeEspeak(tmp_path, {"cmn": "english"})  # Debian's cmn voice, no pinyin voice
    monkeypatch.setattr(tts, "engine", lambda: str(fake.path))
    screen = await page_factory(width=1920, height=1080)
    statuses: list[int] = []

    def seen(response: Any) -> None:
        if "/api/v1/tts" in response.url:
            statuses.append(response.status)

    screen.on("response", seen)
    await screen.goto(site.url(f"/display/demo?device_token={site.kit.tokens['display']}"))
    await screen.wait_for_selector("#conn:not(.off)")
    if await screen.evaluate(
        "'speechSynthesis' in window && speechSynthesis.getVoices().some(v => /^(zh|cmn)/i.test(v.lang))"
    ):
        pytest.skip("this Chromium has a Mandarin voice; the server audio is not asked for")
    r = await site.api.post(
        "/api/v1/halls/demo/tickets", json={"service": "enrol"}, headers=site.kit.auth("kiosk")
    )
    assert r.status_code == 201, r.text
    r = await site.api.post(
        f"/api/v1/counters/{site.kit.counter_ids[1]}/call-next", headers=site.kit.auth("staff1")
    )
    assert r.status_code == 200, r.text
    await screen.wait_for_function("window.hallq.announcements.length === 1")
    await screen.wait_for_function("window.hallq.announcements[0].mode !== null", timeout=15000)
    assert await screen.evaluate("window.hallq.announcements[0].mode") == "flash"
    assert statuses and set(statuses) == {503}
    assert fake.renders() == []
    await screen.wait_for_function("window.hallq.announcements[0].state === 'done'", timeout=15000)


FAKE_VOICE = """
window.__spoken = [];
window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
  getVoices: () => [{ lang: "zh-CN", name: "fake" }],
  speak(u) { window.__spoken.push(u.text); setTimeout(() => u.onend && u.onend(), 0); },
} });
"""


async def test_the_browser_voice_is_given_the_spelled_sentence(
    page_factory: PageFactory, site: Site
) -> None:
    page = await page_factory(width=1920, height=1080)
    await page.add_init_script(FAKE_VOICE)
    await page.goto(site.url("/display/demo"))
    await page.wait_for_selector("#conn:not(.off)")
    kit = site.kit
    r = await site.api.post(
        "/api/v1/halls/demo/tickets", json={"service": "enrol"}, headers=kit.auth("kiosk")
    )
    number = r.json()["number"]
    call = await site.api.post(
        f"/api/v1/counters/{kit.counter_ids[3]}/call-next", headers=kit.auth("staff3")
    )
    assert call.status_code == 200
    await page.wait_for_function("window.__spoken.length >= 1")
    spoken: list[str] = await page.evaluate("window.__spoken")
    assert spoken[0] == f"请 {' '.join(number)} 号到 3 号窗口办理"
