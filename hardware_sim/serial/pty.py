"""The device end of a real pseudo-terminal pair.

The emulator keeps the master side; the driver opens the slave side by path, the
way it would open /dev/ttyUSB0. With ``link_path`` the slave is reached through a
symlink we own, so a test can "unplug" the device (close the pty: the driver's
reads fail with EIO, the path dangles) and "plug" it back (a new pty, the symlink
repointed), which is what a USB-serial adapter does to a running bridge.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import threading
import tty
from collections.abc import Callable

log = logging.getLogger(__name__)

OnData = Callable[[bytes], None]


class PtyPort:
    def __init__(
        self,
        on_data: OnData,
        *,
        link_path: str | None = None,
        name: str = "pty",
        idle_interval: float = 0.1,
    ) -> None:
        self.on_data = on_data
        self.link_path = link_path
        self.name = name
        self.idle_interval = idle_interval  # on_data(b"") this often when the line is quiet
        self.slave_name: str | None = None
        self.plugged = False
        self._master: int | None = None
        self._slave: int | None = None
        self._wake: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

    @property
    def path(self) -> str:
        """What the driver should open."""
        if self.link_path is not None:
            return self.link_path
        if self.slave_name is None:
            raise RuntimeError("port not plugged")
        return self.slave_name

    def plug(self) -> str:
        if self.plugged:
            return self.path
        master, slave = os.openpty()
        # Raw before anyone writes: the default line discipline would echo our
        # bytes back and hold them until a newline.
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.slave_name = os.ttyname(slave)
        if self.link_path is not None:
            tmp = f"{self.link_path}.tmp{os.getpid()}"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self.slave_name, tmp)
            os.replace(tmp, self.link_path)  # atomic: the driver never sees a half-made link
        self._wake = os.pipe()
        self.plugged = True
        self._thread = threading.Thread(target=self._reader, name=f"pty-{self.name}", daemon=True)
        self._thread.start()
        return self.path

    def unplug(self) -> None:
        """The device vanishes: pty closed, symlink removed (as udev removes by-id links)."""
        if not self.plugged:
            return
        self.plugged = False
        assert self._wake is not None
        os.write(self._wake[1], b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        for fd in (self._master, self._slave, *self._wake):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        self._wake = None
        self._thread = None
        if self.link_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link_path)

    close = unplug

    def write(self, data: bytes) -> bool:
        """Send bytes to the driver; False if unplugged or the driver is not draining."""
        with self._write_lock:
            if not self.plugged or self._master is None:
                return False
            view = memoryview(data)
            while view:
                try:
                    n = os.write(self._master, view)
                except BlockingIOError:
                    # Nobody reads the slave and the buffer is full: a real device's bytes
                    # would be lost on the wire too.
                    log.warning("%s: driver not reading, %d bytes dropped", self.name, len(view))
                    return False
                except OSError as e:
                    log.warning("%s: write failed: %s", self.name, e)
                    return False
                view = view[n:]
            return True

    def _reader(self) -> None:
        master, wake = self._master, self._wake
        assert master is not None and wake is not None
        while True:
            try:
                ready, _, _ = select.select([master, wake[0]], [], [], self.idle_interval)
            except (OSError, ValueError):
                return
            if wake[0] in ready:
                return
            if not ready:
                self._deliver(b"")
                continue
            try:
                data = os.read(master, 4096)
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno != errno.EIO:
                    return
                # EIO: no slave open at the moment; wait instead of spinning.
                if wake[0] in select.select([wake[0]], [], [], self.idle_interval)[0]:
                    return
            self._deliver(data)

    def _deliver(self, data: bytes) -> None:
        try:
            self.on_data(data)
        except Exception:
            # An emulator bug must show in the log, not kill the port thread silently.
            log.exception("%s: handler failed", self.name)
