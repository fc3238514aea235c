from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_server.db.base import Base, UTCDateTime


class ServingTime(Base):
    """How long a ticket has been served, over all its serving segments.

    A row is written at the first 开始办理 and kept up to date by the counter
    actions: a hold, finish or transfer adds the running segment to
    ``served_seconds``; a restart after a call-back sets ``running_since`` again.
    Time held is never counted (see ``core.timing.ServingClock``).
    """

    __tablename__ = "serving_times"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    served_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    segments: Mapped[int] = mapped_column(Integer, default=0)
