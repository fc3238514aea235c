"""The FastAPI application: routers, one error handler, start-up and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk_server import access, ticker
from kiosk_server.auth.router import router as auth_router
from kiosk_server.clock import Clock
from kiosk_server.context import AppContext
from kiosk_server.counters.router import router as counters_router
from kiosk_server.db.migrate import upgrade
from kiosk_server.errors import DomainError
from kiosk_server.events.router import router as events_router
from kiosk_server.halls.router import router as halls_router
from kiosk_server.settings import Settings
from kiosk_server.tickets.router import router as tickets_router

log = logging.getLogger("hallq")

API_DESCRIPTION = """
hallq drives a medical-insurance (医保) service hall: the kiosk issues numbered
tickets, counters call them, the hall screen shows and speaks each call, and
residents rate the service. Errors always have the shape
`{"error": {"code": "...", "message": "...", "details": {...}}}`.
Authenticate with `Authorization: Bearer <token>`: a staff access token from
`POST /api/v1/auth/token`, or a device token (kiosk, display, printer agent,
rating pad) created by an admin.
"""


def _error(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status)


# Request bodies above this are refused before they are read whole. The largest
# legitimate upload is the catalogue import (512 KB, its own check); nginx in
# front allows 2m, but the app may also be reached directly.
MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            413,
            f"the request body is too large ({limit // 1024} KB at most; 请求内容过大); "
            "nothing was saved",
        )


class BodyLimit:
    """Refuse HTTP request bodies over ``limit`` bytes with 413 in the API's error
    shape: at once when Content-Length says so, else when the streamed chunks
    (chunked transfer) add up to more than the limit."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # An HTTPException, so FastAPI's body reading passes it on to
                    # the error handler instead of turning it into a generic 400.
                    raise BodyTooLarge(self.limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        exc = BodyTooLarge(self.limit)
        response = _error(413, "payload_too_large", str(exc.detail), {"limit_bytes": exc.limit})
        await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
            problems.append({"field": loc, "problem": err.get("msg", "invalid")})
        summary = "; ".join(f"{p['field'] or 'body'}: {p['problem']}" for p in problems[:5])
        sent = request.headers.get("content-type", "")
        whole_body = any(tuple(e.get("loc", ())) == ("body",) for e in exc.errors())
        if whole_body and sent and "json" not in sent.lower():
            # FastAPI leaves a non-JSON body unparsed; say what to send instead.
            summary = f"the body must be JSON (Content-Type: application/json), not {sent[:60]}"
        return _error(
            422, "malformed_request", f"the request is malformed: {summary}", {"problems": problems}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        message = str(exc.detail) if exc.detail else "request failed"
        if exc.status_code == 400 and message == "There was an error parsing the body":
            # FastAPI's word for a JSON body that is not UTF-8 (or not text at all).
            return _error(
                422,
                "malformed_request",
                "the request is malformed: the body is not valid UTF-8 JSON; nothing was saved",
            )
        if exc.status_code == 404 and message == "Not Found":
            message = "no such path; see /docs for the API"
        details = {"limit_bytes": exc.limit} if isinstance(exc, BodyTooLarge) else None
        return _error(exc.status_code, code, message, details)

    @app.exception_handler(UnicodeEncodeError)
    async def _bad_text(_: Request, exc: UnicodeEncodeError) -> JSONResponse:
        # Lone surrogates ("\ud800") parse as JSON but cannot be stored; nothing was saved.
        return _error(
            400,
            "bad_text",
            "the text contains characters that cannot be stored (broken Unicode); please retype it",
        )

    @app.exception_handler(DataError)
    async def _bad_data(_: Request, exc: DataError) -> JSONResponse:
        # e.g. a NUL character in text, which PostgreSQL refuses; the transaction was rolled back.
        return _error(
            400,
            "bad_text",
            "a value could not be stored (it contains a control character or is out of range); nothing was saved",
        )

    @app.exception_handler(OperationalError)
    async def _db_busy(_: Request, exc: OperationalError) -> JSONResponse:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            # Another process (a backup, the CLI) holds the database longer than
            # the busy timeout: nothing was saved; the caller can retry.
            return _error(
                503,
                "busy",
                "the database is busy for a moment; nothing was saved, please try again",
            )
        log.exception("database error", exc_info=exc)
        return _error(
            503,
            "database_unavailable",
            "the database cannot be reached; nothing was saved, please try again shortly",
        )

    @app.exception_handler(DBAPIError)
    async def _db_timeout(request: Request, exc: DBAPIError) -> JSONResponse:
        # PostgreSQL's lock_timeout (55P03) and statement_timeout (57014): a row
        # held too long by another transaction; rolled back, nothing saved.
        if getattr(exc.orig, "sqlstate", None) in ("55P03", "57014"):
            return _error(
                503,
                "busy",
                "the database is busy for a moment; nothing was saved, please try again",
            )
        return await _crash(request, exc)

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return _error(
            500, "internal_error", "something went wrong on the server; the action was not saved"
        )


async def refuse_demo_passwords(ctx: AppContext) -> None:
    """Production must not run with an account still on the demo password."""
    from sqlalchemy import select

    from kiosk_server.auth.models import User
    from kiosk_server.auth.security import verify_password
    from kiosk_server.db.uow import unit_of_work
    from kiosk_server.settings import DEMO_ADMIN_PASSWORD

    async with unit_of_work(ctx.db, write=False) as uow:
        users = (
            (await uow.session.execute(select(User).where(User.active.is_(True)))).scalars().all()
        )
    weak = [u.username for u in users if verify_password(u.password_hash, DEMO_ADMIN_PASSWORD)]
    if weak:
        raise RuntimeError(
            "refusing to start in production: these accounts still use the demo password: "
            + ", ".join(weak)
            + " (change them with the admin console or `hallq user create`)"
        )


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def install_openapi(app: FastAPI) -> None:
    """Document the one error shape on every operation (4XX and 5XX), replacing
    FastAPI's default 422 body, so clients and fuzzers know what to expect."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorDetail"] = ErrorDetail.model_json_schema()
        components["ErrorBody"] = {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
        }
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        err = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for path in schema.get("paths", {}).values():
            for op in path.values():
                responses = op.setdefault("responses", {})
                responses.pop("422", None)
                responses["4XX"] = {
                    "description": "The request was refused; `error.message` says why",
                    "content": err,
                }
                responses["5XX"] = {"description": "Server or dependency failure", "content": err}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, migrate: bool = True
) -> FastAPI:
    settings = settings or Settings()
    ctx = AppContext.build(settings, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await upgrade(ctx.db.engine)
        if settings.environment == "production":
            problems = settings.production_problems()
            if problems:
                raise RuntimeError("refusing to start in production: " + "; ".join(problems))
            await refuse_demo_passwords(ctx)
        await ctx.bus.start()
        for starter in ctx.extras.get("on_start", []):
            await starter(ctx)
        task = asyncio.create_task(ticker.run(ctx, ctx.extras.get("duties")), name="ticker")
        # Everything loaded so far (the app, SQLAlchemy's and pydantic's
        # machinery) lives as long as the process: keep it out of the cyclic
        # collector, whose full passes over it stalled requests ~100 ms.
        if settings.gc_freeze:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for stopper in ctx.extras.get("on_stop", []):
                await stopper(ctx)
            await ctx.bus.stop()
            await ctx.db.dispose()

    app = FastAPI(
        title="hallq",
        version="1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(access.enforce)],
    )
    app.state.ctx = ctx
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    install_error_handlers(app)
    install_openapi(app)

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: database and event bus reachable")
    async def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with asyncio.timeout(3):
                # A read: DEFERRED, so the probe never takes SQLite's write lock.
                probe = ctx.db.engine.execution_options(sqlite_begin="DEFERRED")
                async with probe.connect() as conn:
                    await conn.exec_driver_sql("SELECT 1")
            checks["database"] = "ok"
        except Exception as exc:  # report, do not crash: this is the probe
            checks["database"] = f"error: {type(exc).__name__}"
        checks["event_bus"] = "ok" if ctx.bus.healthy else "reconnecting"
        ready = checks["database"] == "ok"
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
    )
    async def metrics() -> PlainTextResponse:
        ctx.metrics.ws_clients.set(ctx.extras.get("ws_clients", 0))
        return PlainTextResponse(
            generate_latest(ctx.metrics.registry).decode(), media_type=CONTENT_TYPE_LATEST
        )

    for r in (auth_router, halls_router, tickets_router, counters_router, events_router):
        app.include_router(r)
    from kiosk_server import plugins

    plugins.install(app, ctx)
    return app
