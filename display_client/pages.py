"""Serves the browser pages (kiosk, counter, hall screen, rating pad, phone,
supervisor, admin, booking). Plain HTML + ES modules, no build step.

A page is an HTML file under ``web/pages``; packages register the URL it is
served at with ``add_page`` from their own plugin's ``install``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from kiosk_server.context import AppContext

WEB = Path(__file__).resolve().parent / "web"
PAGES = WEB / "pages"


def add_page(app: FastAPI, path: str, filename: str, *, title: str | None = None) -> None:
    """Serve ``web/pages/<filename>`` at ``path`` (path parameters are read by the page's JS)."""
    file = PAGES / filename

    async def page() -> HTMLResponse:
        # Read on each request: pages are small, and edits show without a restart.
        return HTMLResponse(
            file.read_text(encoding="utf-8"),
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    page.__name__ = f"page_{filename.replace('.', '_').replace('-', '_')}"
    app.add_api_route(
        path, page, methods=["GET"], include_in_schema=False, response_class=HTMLResponse
    )


def install(app: FastAPI, ctx: AppContext) -> None:
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
