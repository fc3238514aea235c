"""Emulated QR / ID-card scanner: each scan is a line of text on a pty."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from hardware_sim.serial.pty import PtyPort
from hardware_sim.serial.status import write_status
from kiosk_server.devices.scanner import classify


class ScannerSim:
    def __init__(
        self,
        *,
        link_path: str | None = None,
        name: str = "scanner",
        status_dir: Path | None = None,
        terminator: str = "\r\n",
    ) -> None:
        self.name = name
        self.status_dir = status_dir
        self.terminator = terminator
        self.scanned = 0
        self.last_shown = ""  # masked: the status file is readable by anyone at the kiosk
        self.last_kind = ""
        self._lock = threading.Lock()
        self.port = PtyPort(self._ignore, link_path=link_path, name=name)

    def _ignore(self, data: bytes) -> None:
        """Scanners ignore what the host sends (no configuration commands emulated)."""

    def __enter__(self) -> ScannerSim:
        self.plug()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> str:
        return self.port.path

    def plug(self) -> str:
        path = self.port.plug()
        self._publish()
        return path

    def unplug(self) -> None:
        self.port.unplug()
        self._publish()

    close = unplug

    def scan(self, text: str, *, terminator: str | None = None, encoding: str = "utf-8") -> bool:
        data = (text + (self.terminator if terminator is None else terminator)).encode(encoding)
        ok = self.port.write(data)
        with self._lock:
            self.scanned += 1
            scan = classify(text)
            self.last_kind, self.last_shown = scan.kind.value, scan.masked
        self._publish()
        return ok

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "name": self.name,
                "kind": "scanner",
                "path": self.port.link_path or self.port.slave_name,
                "plugged": self.port.plugged,
                "scanned": self.scanned,
                "last": {"kind": self.last_kind, "shows": self.last_shown},
            }

    def _publish(self) -> None:
        if self.status_dir is not None:
            write_status(self.status_dir, self.name, self.status())
