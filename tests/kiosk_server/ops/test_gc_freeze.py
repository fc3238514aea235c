"""Start-up moves the long-lived heap out of the cyclic collector's reach."""

from __future__ import annotations

import gc

import pytest

from kiosk_server.app import create_app
from kiosk_server.settings import Settings


@pytest.mark.asyncio
async def test_start_up_freezes_what_it_loaded(settings: Settings) -> None:
    gc.unfreeze()
    plain = create_app(settings)
    async with plain.router.lifespan_context(plain):
        assert gc.get_freeze_count() == 0  # off unless `hallq serve` turns it on
    app = create_app(settings.model_copy(update={"gc_freeze": True}))
    try:
        async with app.router.lifespan_context(app):
            # Full collections no longer walk the app, SQLAlchemy's and pydantic's
            # objects (they stalled requests ~100 ms; benchmarks/issue_throughput).
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
