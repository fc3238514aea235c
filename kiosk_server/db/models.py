"""Imports every model so that Base.metadata is complete (Alembic, tests)."""

from kiosk_server.appointments.models import Appointment, AppointmentConfig, AppointmentSlot
from kiosk_server.audit.models import AuditEntry
from kiosk_server.auth.models import Device, User, UserHall
from kiosk_server.counters.models import ServingTime
from kiosk_server.db.base import Base
from kiosk_server.events.models import EventRow
from kiosk_server.followups.models import FollowUp, ProxyCase
from kiosk_server.halls.models import Counter, Hall, Service
from kiosk_server.notices.models import Notice
from kiosk_server.printing.models import PrintJob
from kiosk_server.tickets.models import NumberCounter, Rating, Ticket

__all__ = [
    "Appointment",
    "AppointmentConfig",
    "AppointmentSlot",
    "AuditEntry",
    "Base",
    "Counter",
    "Device",
    "EventRow",
    "FollowUp",
    "Hall",
    "Notice",
    "NumberCounter",
    "PrintJob",
    "ProxyCase",
    "Rating",
    "Service",
    "ServingTime",
    "Ticket",
    "User",
    "UserHall",
]
