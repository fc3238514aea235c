"""Emulator state on disk: one JSON file per simulated line, read by ``hallq sim status``.

Files are replaced atomically so the status view never reads half a file, and
hold no personal data (scanned ID numbers are masked before they get here).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

SUFFIX = ".status.json"


def write_status(directory: Path, name: str, state: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{name}{SUFFIX}"
    tmp = directory / f".{name}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(state | {"updated_epoch": time.time()}, ensure_ascii=False, indent=1))
    os.replace(tmp, target)
    return target


def read_statuses(directory: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in sorted(directory.glob(f"*{SUFFIX}")):
        try:
            data = json.loads(f.read_text())
        except (OSError, ValueError):
            continue  # removed or being replaced right now: next refresh shows it
        if isinstance(data, dict):
            out.append(data)
    return out
