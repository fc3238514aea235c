"""Status on a timer: poll a printer and report when its state changes.

The server can run :meth:`StatusMonitor.poll_once` from its own loop
(``await asyncio.to_thread(monitor.poll_once)``) or let the monitor keep a
thread of its own with :meth:`start`.  Polls and print jobs on the same
:class:`Printer` never overlap (the printer object serialises them).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ticket_printer.status import PrinterStatus
from ticket_printer.transports import Printer

log = logging.getLogger(__name__)


class StatusMonitor:
    def __init__(
        self,
        printer: Printer,
        *,
        interval: float = 30.0,
        timeout: float = 2.0,
        on_change: Callable[[PrinterStatus], None] | None = None,
    ) -> None:
        if interval <= 0 or timeout <= 0:
            raise ValueError("interval and timeout must be positive")
        self.printer = printer
        self.interval = interval
        self.timeout = timeout
        self.on_change = on_change
        #: The latest poll result (None before the first).
        self.latest: PrinterStatus | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> PrinterStatus:
        """Ask now; call ``on_change`` when the state word differs from the last poll."""
        st = self.printer.status(self.timeout)
        changed = self.latest is None or self.latest.state != st.state
        self.latest = st
        if changed and self.on_change is not None:
            try:
                self.on_change(st)
            except Exception:  # a broken listener must not stop the polling
                log.exception("printer status listener failed")
        return st

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("monitor already started")
        self._thread = threading.Thread(target=self._run, name="printer-status", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
