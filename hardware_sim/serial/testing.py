"""Helpers for tests that drive a bridge against the emulators."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def eventually(predicate: Callable[[], bool], within: float = 5.0) -> bool:
    """Poll ``predicate`` until it holds; the wait ends as soon as it does."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.005)
    return True
