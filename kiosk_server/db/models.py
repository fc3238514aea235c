"""Imports every model so that Base.metadata is complete (Alembic, tests)."""

from kiosk_server.audit.models import AuditEntry
from kiosk_server.auth.models import Device, User, UserHall
from kiosk_server.db.base import Base
from kiosk_server.events.models import EventRow
from kiosk_server.halls.models import Counter, Hall, Service
from kiosk_server.printing.models import PrintJob
from kiosk_server.tickets.models import NumberCounter, Rating, Ticket

__all__ = [
    "AuditEntry",
    "Base",
    "Counter",
    "Device",
    "EventRow",
    "Hall",
    "NumberCounter",
    "PrintJob",
    "Rating",
    "Service",
    "Ticket",
    "User",
    "UserHall",
]
