"""Building block for the server's print worker: one job, bounded retries, a record of each try.

The server calls :func:`deliver` in a worker thread after the ticket is
committed, stores the :class:`DeliveryResult` in its job table, and never lets
the outcome touch the ticket itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ticket_printer.status import PrinterError, PrinterStatus
from ticket_printer.transports import Printer


@dataclass(frozen=True)
class Attempt:
    number: int
    ok: bool
    code: str | None
    reason_zh: str | None
    reason_en: str | None
    status: PrinterStatus | None
    seconds: float


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    attempts: tuple[Attempt, ...]
    error: PrinterError | None

    @property
    def code(self) -> str | None:
        """Error code of the final failure (``paper_out``, ``offline``...), None on success."""
        return self.error.code if self.error else None

    @property
    def reason(self) -> str | None:
        """``中文 / English`` reason of the final failure, for the job table."""
        return str(self.error) if self.error else None


def deliver(
    printer: Printer,
    data: bytes,
    *,
    timeout: float = 10.0,
    attempts: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """Send ``data``, retrying only what may clear by itself (offline, timeout).

    Paper out and cover open need a person, so they fail at once.  Waits
    ``backoff``, ``2*backoff``... between tries; each try is bounded by ``timeout``.
    """
    if attempts < 1:
        raise ValueError("attempts must be >= 1")
    record: list[Attempt] = []
    error: PrinterError | None = None
    for n in range(1, attempts + 1):
        started = time.monotonic()
        try:
            printer.send(data, timeout=timeout)
        except PrinterError as e:
            error = e
            record.append(
                Attempt(
                    n,
                    False,
                    e.code,
                    e.reason_zh,
                    e.reason_en,
                    e.status,
                    time.monotonic() - started,
                )
            )
            if not e.retryable or n == attempts:
                break
            sleep(backoff * 2 ** (n - 1))
            continue
        record.append(
            Attempt(n, True, None, None, None, printer.last_status, time.monotonic() - started)
        )
        return DeliveryResult(True, tuple(record), None)
    return DeliveryResult(False, tuple(record), error)
