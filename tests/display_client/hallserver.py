"""A small real hall server for bridge tests: the display websocket and snapshot
endpoint of the phase-2 contract, on a real TCP port, restartable on that port."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response


class HallServer:
    def __init__(self, hall: str = "H1", token: str = "dev-token") -> None:
        self.hall = hall
        self.token = token
        self.snapshot: dict[str, Any] = {"seq": 0, "counters": []}
        self.events: list[dict[str, Any]] = []  # the hall's event log
        self.since_seen: list[int | None] = []  # `since` of every accepted websocket
        self.snapshot_auth: list[str | None] = []
        self.port = 0
        self._server: Server | None = None
        self._conns: dict[ServerConnection, asyncio.Event] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await serve(
            self._handler, "127.0.0.1", self.port, process_request=self._process_request
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        self._server = None

    @property
    def clients(self) -> int:
        return len(self._conns)

    async def publish(self, kind: str, **data: Any) -> dict[str, Any]:
        seq = (self.events[-1]["seq"] if self.events else self.snapshot["seq"]) + 1
        event = {"seq": seq, "type": kind, "at": "2024-05-06T08:00:00Z", "data": data}
        self.events.append(event)
        for wake in self._conns.values():
            wake.set()
        return event

    async def send_raw(self, message: str) -> None:
        for c in list(self._conns):
            await c.send(message)

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path == f"/api/v1/halls/{self.hall}/display":
            self.snapshot_auth.append(request.headers.get("Authorization"))
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return conn.respond(401, "unauthorised\n")
            body = json.dumps(self.snapshot, ensure_ascii=False).encode()
            return Response(
                200,
                "OK",
                Headers({"Content-Type": "application/json", "Content-Length": str(len(body))}),
                body,
            )
        if parts.path != f"/ws/halls/{self.hall}/display":
            return conn.respond(404, "not found\n")
        query = parse_qs(parts.query)
        if query.get("token") != [self.token]:
            return conn.respond(403, "bad token\n")
        return None

    async def _handler(self, conn: ServerConnection) -> None:
        assert conn.request is not None
        query = parse_qs(urlsplit(conn.request.path).query)
        since = int(query["since"][0]) if "since" in query else None
        self.since_seen.append(since)
        wake = self._conns[conn] = asyncio.Event()
        sent = since or 0
        closed = asyncio.ensure_future(conn.wait_closed())
        try:
            while not closed.done():
                wake.clear()
                for event in [e for e in self.events if e["seq"] > sent]:
                    await conn.send(json.dumps(event, ensure_ascii=False))
                    sent = event["seq"]
                woken = asyncio.ensure_future(wake.wait())
                await asyncio.wait({woken, closed}, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
        finally:
            closed.cancel()
            self._conns.pop(conn, None)
