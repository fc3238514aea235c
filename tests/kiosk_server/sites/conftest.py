from __future__ import annotations

import pytest

from kiosk_server.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # These tests move the clock days ahead, so logins made at the start must
    # stay valid: a fresh login with a future "iat" is refused by PyJWT's
    # wall-clock check.
    return settings.model_copy(update={"token_minutes": 31 * 24 * 60})
