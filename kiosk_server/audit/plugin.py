"""Installs the read-only audit log API."""

from __future__ import annotations

from fastapi import FastAPI

from kiosk_server.audit.router import router
from kiosk_server.context import AppContext


def install(app: FastAPI, ctx: AppContext) -> None:
    app.include_router(router)
