"""Offline speech (display_client/tts.py): what is said, and never English nonsense.

Debian's espeak-ng ``cmn`` voice reads Chinese characters as pinyin with tone
digits in English; the server must use a voice that reads Mandarin, or refuse.
"""

from __future__ import annotations

import hashlib
import shutil
import string
from pathlib import Path

import pytest

from display_client import tts
from tests.display_client.fake_espeak import ENGLISH, MANDARIN, FakeEspeak

HAVE_ESPEAK = shutil.which("espeak-ng") is not None
CALL = "请 A012 号 到 3 号窗口 办理"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("请 A012 号 到 3 号窗口 办理", "请 A 0 1 2 号到 3 号窗口办理"),
        ("请 G1234 号 到 12 号窗口 办理", "请 G 1 2 3 4 号到 12 号窗口办理"),
        ("请 B007 号", "请 B 0 0 7 号"),
    ],
)
def test_the_ticket_number_is_said_letter_by_letter_and_digit_by_digit(
    text: str, said: str
) -> None:
    assert tts.allowed(text)
    assert tts.spoken_call(text) == said
    # The spoken form is itself accepted and is a fixed point (either may be sent).
    assert tts.allowed(said) and tts.spoken_call(said) == said


@pytest.mark.parametrize("text", ["请 A 0 1 2 号到 3 号窗口办理 hello", "请 A 0 1 号", "请 A12 号"])
def test_only_calls_are_accepted_in_the_spoken_form_too(text: str) -> None:
    assert not tts.allowed(text)


def test_a_language_switch_in_the_phonemes_is_detected() -> None:
    # `espeak-ng -v cmn -q -x "请号到窗口办理"` on Debian (espeak-ng 1.51):
    debian_cmn = (
        "(en)kI55NTr'i:55_| h,eI55@55f'o@55_| d,eI55@55f'o@55(cmn)_| ts.hw'A55N_| "
        "(en)ku:22Tri:11_| ba11nfo@11_| lI11Tri:11(cmn)_|"
    )
    assert tts.switches_language(debian_cmn)
    assert tts.switches_language(ENGLISH)
    # The same sentence through `-v cmn-latn-pinyin`:
    pinyin = "tS;h'i21N_| X'Au51_| t'Au51_| ts.hw'A55N_| kh'ou21_| p'a51n_| l'i214_|"
    assert not tts.switches_language(pinyin)
    assert not tts.switches_language(MANDARIN)


@pytest.mark.asyncio
async def test_no_mandarin_voice_means_unavailable_and_nothing_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeEspeak(tmp_path, {"cmn": "english"})  # Debian: cmn reads English, no pinyin voice
    monkeypatch.setattr(tts, "engine", lambda: str(fake.path))
    cache = tmp_path / "cache"
    with pytest.raises(tts.SpeechUnavailable, match="no voice that reads Mandarin") as info:
        await tts.render(CALL, cache)
    assert "cmn-latn-pinyin: not installed" in str(info.value)
    assert "cmn: reads it as" in str(info.value)
    assert fake.renders() == []
    assert list(cache.iterdir()) == []


@pytest.mark.asyncio
async def test_the_first_voice_that_reads_mandarin_renders_the_spelled_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeEspeak(tmp_path, {"cmn-latn-pinyin": "english", "cmn": "mandarin"})
    monkeypatch.setattr(tts, "engine", lambda: str(fake.path))
    path = await tts.render(CALL, tmp_path / "cache")
    assert path.exists() and path.suffix == ".wav"
    (render,) = fake.renders()
    assert render[render.index("-v") + 1] == "cmn"
    assert render[-1] == "请 A 0 1 2 号到 3 号窗口办理"
    # Cached by the spoken sentence: the spoken form of the same call is the same file,
    # and neither asks the engine again.
    before = len(fake.calls())
    assert await tts.render("请 A 0 1 2 号到 3 号窗口办理", tmp_path / "cache") == path
    assert len(fake.calls()) == before


@pytest.mark.asyncio
async def test_audio_cached_by_the_old_english_reading_version_is_not_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    old = cache / f"{hashlib.sha256(CALL.encode()).hexdigest()[:32]}.wav"
    old.write_bytes(b"RIFF" + bytes(400))  # what the plain cmn voice rendered before
    fake = FakeEspeak(tmp_path, {"cmn-latn-pinyin": "mandarin"})
    monkeypatch.setattr(tts, "engine", lambda: str(fake.path))
    assert await tts.render(CALL, cache) != old
    assert len(fake.renders()) == 1


@pytest.mark.asyncio
@pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng not installed")
@pytest.mark.parametrize("prefix", string.ascii_uppercase)
async def test_the_installed_espeak_reads_every_call_as_mandarin(prefix: str) -> None:
    exe = tts.engine()
    assert exe is not None
    said = tts.spoken_call(f"请 {prefix}012 号 到 12 号窗口 办理")
    voice = await tts.mandarin_voice(exe, said)
    phonemes = await tts.phonemes(exe, voice, said)
    assert phonemes and "(en)" not in phonemes and not tts.switches_language(phonemes)
