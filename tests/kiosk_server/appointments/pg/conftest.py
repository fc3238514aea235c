"""Run appointment tests on PostgreSQL (skipped when it is not reachable, as the
scale-out suite does): the app's ``settings`` point at a fresh database."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk_server.settings import Settings
from tests.scaleout.conftest import pg_settings, pg_url

__all__ = ["pg_url"]


@pytest.fixture
def settings(tmp_path: Path, pg_url: str) -> Settings:
    return pg_settings(tmp_path, pg_url)
