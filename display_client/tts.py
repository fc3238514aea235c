"""Server-side speech for hall screens whose browser has no Mandarin voice.

Only call announcements (``请 A012 号 到 3 号窗口 办理``) are rendered, so the
endpoint cannot be used to synthesise arbitrary text. Audio comes from
espeak-ng's Mandarin voice (``-v cmn``) and is cached on disk by sentence.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
from pathlib import Path

# The exact sentence the hall screen announces (see halls.service.call_text).
CALL_SENTENCE = re.compile(r"^请 [A-Z]\d{3,4} 号( 到 \d{1,3} 号窗口 办理)?$")
ENGINE_TIMEOUT = 10.0


class SpeechUnavailable(Exception):
    """No offline engine with a Mandarin voice on this machine."""


def allowed(text: str) -> bool:
    return bool(CALL_SENTENCE.match(text))


def engine() -> str | None:
    return shutil.which("espeak-ng")


def _spoken(text: str) -> str:
    # Letters and digits are read one by one ("A 0 1 2"), the way halls say numbers.
    def spell(m: re.Match[str]) -> str:
        return " ".join(m.group(0))

    return re.sub(r"[A-Z]\d{3,4}", spell, text)


async def render(text: str, cache_dir: Path) -> Path:
    """WAV file for ``text`` (which must pass ``allowed``), rendered once and cached."""
    if not allowed(text):
        raise ValueError("only call announcements are spoken")
    exe = engine()
    if exe is None:
        raise SpeechUnavailable("espeak-ng is not installed")
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    target, tmp = _paths(cache_dir, key)
    if target.exists():
        return target
    proc = await asyncio.create_subprocess_exec(
        exe,
        "-v",
        "cmn",
        "-s",
        "140",
        "-w",
        str(tmp),
        _spoken(text),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), ENGINE_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        _keep(tmp, None)
        raise SpeechUnavailable("espeak-ng took too long") from None
    if proc.returncode != 0 or not _keep(tmp, target):
        msg = err.decode("utf-8", "replace").strip()[:200]
        raise SpeechUnavailable(f"espeak-ng failed: {msg or proc.returncode}")
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
