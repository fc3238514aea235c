"""Column types shared by every package (kiosk_server/db/base.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from kiosk_server.db.base import UTCDateTime


@pytest.mark.parametrize(
    "stored",
    [
        "2026-11-25 02:00:00.000000",  # what SQLAlchemy writes
        "2026-11-25 02:00:00",
        "2026-11-25T02:00:00",
    ],
)
def test_sqlite_timestamps_read_back_as_aware_utc(stored: str) -> None:
    read = UTCDateTime().result_processor(sqlite.dialect(), None)
    assert read is not None
    value = read(stored)
    assert value == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert value.utcoffset() is not None and value.utcoffset().total_seconds() == 0


def test_microseconds_survive_the_fast_path() -> None:
    read = UTCDateTime().result_processor(sqlite.dialect(), None)
    assert read is not None
    assert read("2026-11-25 02:00:00.123456") == datetime(2026, 11, 25, 2, 0, 0, 123456, tzinfo=UTC)
    assert read(None) is None


def test_other_databases_keep_sqlalchemys_reading() -> None:
    read = UTCDateTime().result_processor(postgresql.dialect(), None)
    naive = datetime(2026, 11, 25, 2, 0)
    assert read is not None
    assert read(naive) == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
