"""The small endpoints the pages need: speech audio, status QR, today's figures, pad identity."""

from __future__ import annotations

import shutil
import wave
from io import BytesIO
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image

from display_client import tts
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from tests.display_client.fake_espeak import FakeEspeak
from tests.factories import HallKit, act, issue

pytestmark = pytest.mark.asyncio


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
async def test_tts_renders_a_call_and_caches_it(client: httpx.AsyncClient, ctx: AppContext) -> None:
    text = "请 A012 号 到 3 号窗口 办理"
    r = await client.get("/api/v1/tts", params={"text": text})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    with wave.open(BytesIO(r.content)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 1.5 < seconds < 10
    cached = list((ctx.settings.data_dir / "tts-cache").glob("*.wav"))
    assert len(cached) == 1
    again = await client.get("/api/v1/tts", params={"text": text})
    assert again.content == r.content


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
async def test_tts_spoken_form_is_the_same_audio(client: httpx.AsyncClient) -> None:
    shown = await client.get("/api/v1/tts", params={"text": "请 B007 号 到 2 号窗口 办理"})
    said = await client.get("/api/v1/tts", params={"text": "请 B 0 0 7 号到 2 号窗口办理"})
    assert shown.status_code == said.status_code == 200
    assert shown.content == said.content


async def test_tts_is_503_in_the_error_shape_when_no_voice_reads_mandarin(
    client: httpx.AsyncClient, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Debian's espeak-ng: the cmn voice reads the characters' pinyin in English.
    fake = FakeEspeak(tmp_path, {"cmn": "english"})
    monkeypatch.setattr(tts, "engine", lambda: str(fake.path))
    r = await client.get("/api/v1/tts", params={"text": "请 A012 号 到 3 号窗口 办理"})
    assert r.status_code == 503
    error = r.json()["error"]
    assert error["code"] == "unavailable"
    assert "no offline Mandarin speech" in error["message"]
    assert "cmn: reads it as" in error["message"]
    assert error["details"] == {"fallback": "chime and flash"}
    assert fake.renders() == []
    assert not list((ctx.settings.data_dir / "tts-cache").glob("*.wav"))


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
async def test_tts_is_503_with_only_a_voice_that_reads_english(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = tts.engine()
    assert exe is not None
    cmn = await tts.phonemes(exe, "cmn", "请号到窗口办理")
    if cmn is None or not tts.switches_language(cmn):
        pytest.skip(f"this espeak-ng's cmn voice reads Mandarin ({cmn!r})")
    monkeypatch.setattr(tts, "VOICES", ("cmn",))
    r = await client.get("/api/v1/tts", params={"text": "请 A012 号 到 3 号窗口 办理"})
    assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"


@pytest.mark.parametrize(
    "text", ["hello", "请 A012 号 到 3 号窗口 办理; rm -rf /", "请 a012 号", "请 A1 号"]
)
async def test_tts_refuses_anything_but_a_call(client: httpx.AsyncClient, text: str) -> None:
    r = await client.get("/api/v1/tts", params={"text": text})
    assert r.status_code in (400, 422)
    assert "error" in r.json()


async def test_status_qr_encodes_the_status_link(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/qr/abcDEF_123-xyz.svg")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    # Rasterise the SVG path squares and decode it like a phone would.
    import re

    body = r.text
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', body).group(1))  # type: ignore[union-attr]
    img = Image.new("L", (size * 8, size * 8), 255)
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    for x, y in re.findall(r"M(\d+),(\d+)H", body):
        draw.rectangle([int(x) * 8, int(y) * 8, int(x) * 8 + 7, int(y) * 8 + 7], fill=0)
    found = zxingcpp.read_barcodes(img)
    assert [f.text for f in found] == ["http://hall.test/t/abcDEF_123-xyz"]
    bad = await client.get("/api/v1/qr/..%2Fetc.svg")
    assert bad.status_code in (404, 422)


async def test_today_counts_own_work(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    cid = hall.counter_ids[1]
    r = await client.get(f"/api/v1/counters/{cid}/today", headers=hall.auth("staff1"))
    assert r.status_code == 200
    assert r.json()["served"] == 0 and r.json()["average_service_seconds"] is None
    for minutes, outcome in ((4, "completed"), (12, "informed")):
        await issue(client, hall, "enrol")
        assert (await act(client, hall, 1, "call-next")).status_code == 200
        assert (await act(client, hall, 1, "start")).status_code == 200
        clock.advance(minutes=minutes)
        assert (await act(client, hall, 1, "finish", outcome=outcome)).status_code == 200
    await issue(client, hall, "enrol")
    await act(client, hall, 1, "call-next")
    await act(client, hall, 1, "no-show")
    # Someone else's work at another counter is not counted.
    await issue(client, hall, "enrol")
    await act(client, hall, 2, "call-next")
    await act(client, hall, 2, "start")
    await act(client, hall, 2, "finish")

    r = await client.get(f"/api/v1/counters/{cid}/today", headers=hall.auth("staff1"))
    body = r.json()
    assert body["served"] == 2
    assert body["average_service_seconds"] == 8 * 60
    assert body["over_target"] == 1  # enrol's target is 10 minutes
    assert body["no_show"] == 1
    assert body["outcomes"] == {"completed": 1, "informed": 1}
    assert body["day"] == "2026-11-25"
    denied = await client.get(f"/api/v1/counters/{cid}/today", headers=hall.auth("kiosk"))
    assert denied.status_code == 403


async def test_pad_knows_its_counter_and_staff(client: httpx.AsyncClient, hall: HallKit) -> None:
    r = await client.get("/api/v1/pad", headers=hall.auth("pad"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hall"] == "demo" and body["counter"] == 1 and body["staff"] is None
    await issue(client, hall, "enrol")
    await act(client, hall, 1, "call-next")
    body = (await client.get("/api/v1/pad", headers=hall.auth("pad"))).json()
    assert body["staff"] == "demo-staff1"
    assert (await client.get("/api/v1/pad", headers=hall.auth("kiosk"))).status_code == 403


@pytest.mark.parametrize("path", ["/kiosk/demo", "/counter", "/display/demo", "/rate/1", "/t/x"])
async def test_pages_are_served(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
