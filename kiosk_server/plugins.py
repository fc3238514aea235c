"""Where optional domain packages attach themselves to the app.

Each package that plugs in (printing, pages, appointments, supervisor, admin…)
exposes ``install(app, ctx)``; listing it here is the only change the core needs.
"""

from __future__ import annotations

import importlib
import logging

from fastapi import FastAPI

from kiosk_server.context import AppContext

log = logging.getLogger(__name__)

PLUGINS: list[str] = [
    "kiosk_server.printing.plugin",
    "display_client.pages",
    "kiosk_server.appointments.plugin",
    "display_client.plugin",
    "kiosk_server.followups.plugin",
    "kiosk_server.stats.plugin",
    "kiosk_server.audit.plugin",
    "kiosk_server.notices.plugin",
    "kiosk_server.admin.plugin",
    "kiosk_server.sites.plugin",
]


def install(app: FastAPI, ctx: AppContext) -> None:
    for name in PLUGINS:
        module = importlib.import_module(name)
        module.install(app, ctx)
