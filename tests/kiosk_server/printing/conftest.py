from __future__ import annotations

import pytest

from kiosk_server.settings import Settings
from tests.factories import printing_to


@pytest.fixture
def settings(settings: Settings, emu_url: str) -> Settings:
    return printing_to(settings, emu_url)
