"""A serial port that reopens itself: pyserial underneath, asyncio on top.

USB-serial adapters get unplugged and RS-485 converters get power-cycled; a
bridge must not die or hang when that happens. ``SerialLink`` opens the port with
``serial.serial_for_url`` (device paths, symlinks such as /dev/serial/by-id/...,
ptys and ``loop://`` all work), runs every blocking call in a worker thread with
a bounded timeout, and on any I/O error closes the port and reopens it with
exponential backoff until it is back. Callbacks registered with ``on_open`` run
after every (re)open so the caller can push the full device state again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor

import serial

log = logging.getLogger(__name__)

OpenFn = Callable[[], serial.SerialBase]
OnOpen = Callable[[], Awaitable[None]]

# What a vanished or broken port raises, from pyserial or the OS.
_PORT_ERRORS = (serial.SerialException, OSError, TypeError, ValueError)


def _read_chunk(ser: serial.SerialBase) -> bytes:
    """Block up to the port timeout for one byte, then take whatever else is waiting."""
    first: bytes = ser.read(1)
    if not first:
        return b""
    waiting = ser.in_waiting
    return first + (ser.read(waiting) if waiting else b"")


class SerialLink:
    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        baudrate: int = 9600,
        read_timeout: float = 0.1,
        write_timeout: float = 1.0,
        backoff_initial: float = 0.2,
        backoff_max: float = 1.0,  # opening a local port is cheap: retry often
        exclusive: bool = True,
    ) -> None:
        self.url = url
        self.name = name or url
        self.baudrate = baudrate
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.exclusive = exclusive
        self.opens = 0
        self.open_failures = 0
        self.disconnects = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self._serial: serial.SerialBase | None = None
        self._reading: serial.SerialBase | None = None  # port a worker thread is reading now
        self._on_open: list[OnOpen] = []
        self._write_lock = asyncio.Lock()
        # One thread of our own for reads, so a read can be waited for after a cancel.
        self._read_pool = ThreadPoolExecutor(1, thread_name_prefix="serial-read")
        self._connected = asyncio.Event()
        self._closing = asyncio.Event()

    # ------------------------------------------------------------ state

    @property
    def connected(self) -> bool:
        return self._serial is not None

    @property
    def closed(self) -> bool:
        return self._closing.is_set()

    def on_open(self, callback: OnOpen) -> None:
        self._on_open.append(callback)

    async def wait_connected(self) -> None:
        """Wait until the port is open (wrap in ``asyncio.timeout`` to bound it)."""
        await self._connected.wait()

    # ------------------------------------------------------------ open / close

    def _open_blocking(self) -> serial.SerialBase:
        kwargs: dict[str, object] = {
            "baudrate": self.baudrate,
            "timeout": self.read_timeout,
            "write_timeout": self.write_timeout,
        }
        if self.exclusive and "://" not in self.url:
            kwargs["exclusive"] = True  # two bridges on one port would garble each other
        return serial.serial_for_url(self.url, **kwargs)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    async def connect(self) -> bool:
        """Open the port, retrying with backoff; False only if the link was closed meanwhile."""
        delay = self.backoff_initial
        while not self.closed:
            if self._serial is not None:
                return True  # already open (another task reopened it)
            try:
                ser = await asyncio.to_thread(self._open_blocking)
            except _PORT_ERRORS as e:
                self.open_failures += 1
                level = logging.WARNING if self.open_failures == 1 else logging.DEBUG
                log.log(level, "%s: cannot open (%s); retrying in %.1fs", self.name, e, delay)
                await self._pause(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            if self.closed:
                ser.close()
                return False
            self._serial = ser
            self.opens += 1
            self.open_failures = 0
            self._connected.set()
            log.info("%s: port open (%s)", self.name, self.url)
            for callback in self._on_open:
                try:
                    await callback()
                except Exception:
                    # A failing refresh must not stop the link; the next open retries it.
                    log.exception("%s: on-open callback failed", self.name)
            if self._serial is not None:
                return True
            # Lost again while refreshing the device: back off like a failed open.
            await self._pause(delay)
            delay = min(delay * 2, self.backoff_max)
        return False

    def _drop(self, ser: serial.SerialBase, reason: object) -> None:
        """Forget a broken port; the reader (if any) closes it once its read returns."""
        if ser is self._serial:
            self._serial = None
            self._connected.clear()
            self.disconnects += 1
            log.warning("%s: port lost (%s); reopening", self.name, reason)
        with contextlib.suppress(*_PORT_ERRORS):
            ser.cancel_read()
        if ser is not self._reading:
            with contextlib.suppress(*_PORT_ERRORS):
                ser.close()

    async def close(self) -> None:
        self._closing.set()
        ser = self._serial
        self._serial = None
        self._connected.clear()
        if ser is not None:
            self._drop(ser, "closed")
        self._read_pool.shutdown(wait=False)

    # ------------------------------------------------------------ I/O

    async def chunks(self) -> AsyncIterator[bytes]:
        """Received bytes, forever, across reopens; ``b""`` after each idle read timeout.

        The empty chunks let a frame decoder expire half-received frames.
        """
        while not self.closed:
            if self._serial is None and not await self.connect():
                break
            ser = self._serial
            if ser is None:
                continue
            self._reading = ser
            work = self._read_pool.submit(_read_chunk, ser)
            try:
                data = await asyncio.wrap_future(work)
            except asyncio.CancelledError:
                self._abandon(ser, work)
                raise
            except _PORT_ERRORS as e:
                self._reading = None
                self._drop(ser, e)
                continue
            self._reading = None
            if ser is not self._serial:
                # Dropped by a failed write or close() while we were reading.
                with contextlib.suppress(*_PORT_ERRORS):
                    ser.close()
                if self.closed:
                    break
                continue
            self.bytes_in += len(data)
            yield data

    def _abandon(self, ser: serial.SerialBase, work: Future[bytes]) -> None:
        """The reader was cancelled mid-read: close the port, but only once the worker
        thread has let go of it (closing under a running read could hand its file
        descriptor number to the next open, and the old read would steal its bytes)."""
        self._reading = None
        if ser is self._serial:
            self._serial = None
            self._connected.clear()
        with contextlib.suppress(*_PORT_ERRORS):
            ser.cancel_read()

        def close_port(_: object) -> None:
            with contextlib.suppress(*_PORT_ERRORS):
                ser.close()

        work.add_done_callback(close_port)

    async def write(self, data: bytes) -> bool:
        """Send ``data``; False (never an exception, never a hang) if the port is down."""
        async with self._write_lock:
            ser = self._serial
            if ser is None:
                return False
            try:
                await asyncio.to_thread(ser.write, data)
            except serial.SerialTimeoutException:
                # Device not draining (flow control stuck): report, keep the port.
                log.warning("%s: write timed out after %.1fs", self.name, self.write_timeout)
                return False
            except _PORT_ERRORS as e:
                self._drop(ser, e)
                return False
            self.bytes_out += len(data)
            return True
