"""A real HTTP server (stdlib, own thread, real TCP port) standing in for the
counter API of the phase-2 contract: records every request, answers as scripted."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    auth: str | None
    body: Any


class CounterServer:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        # path suffix -> (status, JSON body); first match wins, default 200 {}
        self.answers: dict[str, tuple[int, Any]] = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (stdlib name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                with outer.lock:
                    outer.requests.append(
                        Seen("POST", self.path, self.headers.get("Authorization"), body)
                    )
                    status, answer = next(
                        (v for k, v in outer.answers.items() if self.path.endswith(k)), (200, {})
                    )
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> CounterServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def posts(self) -> list[Seen]:
        with self.lock:
            return list(self.requests)
