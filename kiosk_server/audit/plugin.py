"""Installs the read-only audit log API."""

from __future__ import annotations

from fastapi import FastAPI

from kiosk_server import access
from kiosk_server.audit.router import router
from kiosk_server.context import AppContext


def install(app: FastAPI, ctx: AppContext) -> None:
    # This package's rows of the access matrix (the table's own entries win).
    access.RULES.setdefault("GET /api/v1/halls/{hall}/audit", access.SUPERVISOR)
    app.include_router(router)
