"""Server-side speech for hall screens whose browser has no Mandarin voice.

Only call announcements (``请 A012 号 到 3 号窗口 办理``) are rendered, so the
endpoint cannot be used to synthesise arbitrary text. Audio comes from an
espeak-ng Mandarin voice and is cached on disk by the spoken sentence.

Debian's plain ``cmn`` voice does not read Mandarin: it turns each character
into pinyin with a tone digit and reads that in English (``espeak-ng -v cmn -x
"请"`` gives ``(en)kI55NTr'i:55``). The ``cmn-latn-pinyin`` voice reads the
same characters properly. Before rendering, the sentence is run through the
voice's phoneme output (``-q -x``); a voice that switches language on it is
not used, and when no voice reads it as Mandarin the caller gets
:class:`SpeechUnavailable` (HTTP 503), so the screen falls back to chime and
flash rather than playing nonsense.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
from pathlib import Path

# The exact sentence the hall screen shows (see halls.service.call_text) ...
CALL_SENTENCE = re.compile(r"^请 [A-Z]\d{3,4} 号( 到 \d{1,3} 号窗口 办理)?$")
# ... and the same sentence as it is spoken (see spoken_call), accepted too.
SPOKEN_SENTENCE = re.compile(r"^请 [A-Z]( \d){3,4} 号(到 \d{1,3} 号窗口办理)?$")
# Tried in order; the first whose phonemes stay Mandarin is used.
VOICES: tuple[str, ...] = ("cmn-latn-pinyin", "cmn")
# espeak-ng marks a switch to another language's rules with "(en)", "(cmn)", ...
_LANGUAGE_SWITCH = re.compile(r"\([a-z]{2,3}(?:-[A-Za-z0-9]+)*\)")
_CJK = "\u3400-\u9fff\uf900-\ufaff"
# Bumped when the spoken form or the voice choice changes, so audio rendered by
# an older version (e.g. the English-reading cmn voice) is never served again.
_CACHE_VERSION = "2"
ENGINE_TIMEOUT = 10.0


class SpeechUnavailable(Exception):
    """No offline engine with a working Mandarin voice on this machine."""


def allowed(text: str) -> bool:
    return bool(CALL_SENTENCE.match(text) or SPOKEN_SENTENCE.match(text))


def spoken_call(text: str) -> str:
    """What is said for a call sentence, by the browser's voice and by espeak-ng alike.

    The ticket number is read letter by letter and digit by digit, the way halls
    say numbers (``A012`` -> ``A 0 1 2``, not "A twelve"), and the gaps the screen
    puts between Chinese words are closed so no voice pauses inside a phrase::

        请 A012 号 到 3 号窗口 办理  ->  请 A 0 1 2 号到 3 号窗口办理

    The JavaScript twin is ``spokenCall`` in ``web/static/speech.js``; a test keeps
    the two identical.
    """
    spelled = re.sub(r"\b[A-Z]\d{3,4}\b", lambda m: " ".join(m.group(0)), text)
    return re.sub(rf"(?<=[{_CJK}]) +(?=[{_CJK}])", "", spelled)


def switches_language(phonemes: str) -> bool:
    """True when espeak-ng's ``-x`` output leaves the voice's language anywhere."""
    return bool(_LANGUAGE_SWITCH.search(phonemes))


def engine() -> str | None:
    return shutil.which("espeak-ng")


async def _run(*args: str) -> tuple[int, bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), ENGINE_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise SpeechUnavailable("espeak-ng took too long") from None
    assert proc.returncode is not None
    return proc.returncode, out, err


async def phonemes(exe: str, voice: str, spoken: str) -> str | None:
    """espeak-ng's phoneme transcription of ``spoken`` in ``voice``; None if the voice is missing."""
    code, out, _ = await _run(exe, "-v", voice, "-q", "-x", spoken)
    return out.decode("utf-8", "replace").strip() if code == 0 else None


async def mandarin_voice(exe: str, spoken: str) -> str:
    """The first of ``VOICES`` that reads ``spoken`` as Mandarin throughout."""
    seen: list[str] = []
    for voice in VOICES:
        ph = await phonemes(exe, voice, spoken)
        if ph is None:
            seen.append(f"{voice}: not installed")
        elif not ph or switches_language(ph):
            seen.append(f"{voice}: reads it as {ph[:40]!r}")
        else:
            return voice
    raise SpeechUnavailable(
        "espeak-ng has no voice that reads Mandarin here (" + "; ".join(seen) + ")"
    )


async def render(text: str, cache_dir: Path) -> Path:
    """WAV file for ``text`` (which must pass ``allowed``), rendered once and cached."""
    if not allowed(text):
        raise ValueError("only call announcements are spoken")
    said = spoken_call(text)
    key = hashlib.sha256(f"{_CACHE_VERSION}|{said}".encode()).hexdigest()[:32]
    target, tmp = _paths(cache_dir, key)
    if target.exists():
        return target
    exe = engine()
    if exe is None:
        raise SpeechUnavailable("espeak-ng is not installed")
    voice = await mandarin_voice(exe, said)
    try:
        code, _, err = await _run(exe, "-v", voice, "-s", "140", "-w", str(tmp), said)
    except SpeechUnavailable:
        _keep(tmp, None)
        raise
    if code != 0 or not _keep(tmp, target):
        msg = err.decode("utf-8", "replace").strip()[:200]
        raise SpeechUnavailable(f"espeak-ng failed: {msg or code}")
    return target


def _paths(cache_dir: Path, key: str) -> tuple[Path, Path]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    return cache_dir / f"{key}.wav", cache_dir / f"{key}.{os.getpid()}.tmp"


def _keep(tmp: Path, target: Path | None) -> bool:
    """Move a finished rendering into place (atomic: two screens asking at once
    both get a whole file); drop it if it failed."""
    if target is None or not tmp.exists() or tmp.stat().st_size < 100:
        tmp.unlink(missing_ok=True)
        return False
    tmp.replace(target)
    return True
