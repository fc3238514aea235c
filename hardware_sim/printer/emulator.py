"""A receipt printer on a TCP port or a pseudo-terminal.

It accepts ESC/POS, answers status requests according to a switchable state,
and for each cut keeps the decoded ticket in memory and (with ``out_dir``)
writes ``ticket-0001.txt`` and ``ticket-0001.png``.

States: ``ok``; ``near_end`` (prints, reports paper near end); ``paper_out``
and ``cover_open`` (report it, discard jobs); ``offline`` (accepts bytes but
never answers and prints nothing, like a hung printer).  Switch with
:meth:`PrinterEmulator.set_state`, or by writing a state word into the state
file, which is re-read on every status request and every cut.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import socket
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from PIL import Image

from hardware_sim.printer.decoder import (
    DecodedTicket,
    EscPosDecoder,
    StatusRequest,
    TicketDone,
)
from hardware_sim.printer.render import render_png, render_text
from ticket_printer.raster import PAPER_DOTS

log = logging.getLogger("hallq.sim.printer")

EmulatorState = Literal["ok", "near_end", "paper_out", "cover_open", "offline"]
STATES: tuple[str, ...] = get_args(EmulatorState)

# Replies to DLE EOT 1..4 (printer, offline cause, error cause, paper sensor),
# following the Epson bit layout: fixed bits 0x12, offline 0x08, cover 0x04,
# paper-end stop 0x20, near end 0x0C, paper end 0x60.
_DLE_EOT: dict[str, dict[int, int]] = {
    "ok": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "near_end": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    "paper_out": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E},
    "cover_open": {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
}
# GS r 1: paper sensor, bits 0-1 near end, bits 2-3 paper end.
_GS_R1 = {"ok": 0x00, "near_end": 0x03, "paper_out": 0x0F, "cover_open": 0x00}
_GS_I_TEXT = {65: "1.0", 66: "HALLQ", 67: "HALLQ-SIM", 68: "0001", 69: "CHINA GB18030"}


@dataclass(frozen=True)
class EmulatedTicket:
    index: int
    ticket: DecodedTicket
    text: str
    image: Image.Image
    txt_path: Path | None
    png_path: Path | None
    source: str


class PrinterEmulator:
    def __init__(
        self,
        out_dir: str | Path | None = None,
        *,
        paper_mm: int = 80,
        state: EmulatorState = "ok",
        state_file: str | Path | None = None,
        chinese_default: bool = False,
    ) -> None:
        if paper_mm not in PAPER_DOTS:
            raise ValueError("paper_mm must be 58 or 80")
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        self.paper_dots = PAPER_DOTS[paper_mm]
        self.out_dir = Path(out_dir) if out_dir is not None else None
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        self.state_file = Path(state_file) if state_file is not None else None
        self.chinese_default = chinese_default
        self._state: str = state
        self._cond = threading.Condition()
        self._tickets: list[EmulatedTicket] = []
        self._next_index = self._first_free_index()
        self.discarded = 0
        self.status_requests = 0
        self.bytes_received = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._listeners: list[socket.socket] = []
        self._fds: list[int] = []

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> str:
        """The effective state: the state file's word if it holds a valid one."""
        if self.state_file is not None:
            try:
                word = self.state_file.read_text(encoding="utf-8").strip()
            except OSError:
                word = ""
            if word in STATES:
                return word
            if word:
                log.warning("state file %s holds %r, not a state; ignored", self.state_file, word)
        return self._state

    def set_state(self, state: EmulatorState) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        self._state = state
        log.info("printer state -> %s", state)

    def status_reply(self, req: StatusRequest) -> bytes | None:
        """The bytes a printer in the current state sends back, or None (silence)."""
        state = self.state
        if state == "offline":
            return None
        if req.command == "dle_eot":
            return bytes([_DLE_EOT[state][req.n]])
        if req.command == "gs_r":
            if req.n in (1, 49):
                return bytes([_GS_R1[state]])
            if req.n in (2, 50):
                return b"\x00"
            return None
        if req.n in (1, 49):
            return b"\x20"
        if req.n in _GS_I_TEXT:
            return b"_" + _GS_I_TEXT[req.n].encode("ascii") + b"\x00"
        return None

    # ------------------------------------------------------------------ tickets

    @property
    def tickets(self) -> list[EmulatedTicket]:
        with self._cond:
            return list(self._tickets)

    def wait_for_tickets(self, count: int, timeout: float = 5.0) -> list[EmulatedTicket]:
        """Block until ``count`` tickets have been printed; TimeoutError otherwise."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self._tickets) >= count, timeout)
            if not ok:
                raise TimeoutError(f"{len(self._tickets)} of {count} tickets after {timeout} s")
            return list(self._tickets)

    def _first_free_index(self) -> int:
        if self.out_dir is None:
            return 1
        used = [
            int(m.group(1))
            for p in self.out_dir.iterdir()
            if (m := re.fullmatch(r"ticket-(\d+)\.(?:txt|png)", p.name))
        ]
        return max(used, default=0) + 1

    def _complete(self, ticket: DecodedTicket, source: str) -> None:
        for w in ticket.warnings:
            log.warning("%s: %s", source, w)
        state = self.state
        if state not in ("ok", "near_end"):
            with self._cond:
                self.discarded += 1
            log.warning("%s: job discarded, printer is %s", source, state)
            return
        if ticket.cut is None:
            log.warning("%s: content without a cut at end of stream", source)
        text = render_text(ticket, self.paper_dots)
        image = render_png(ticket, self.paper_dots)
        with self._cond:
            index = self._next_index
            self._next_index += 1
        txt_path = png_path = None
        if self.out_dir is not None:
            txt_path = self.out_dir / f"ticket-{index:04d}.txt"
            png_path = self.out_dir / f"ticket-{index:04d}.png"
            txt_path.write_text(text, encoding="utf-8")
            image.save(png_path)
        log.info("%s: ticket %04d printed (%d lines)", source, index, len(ticket.lines))
        with self._cond:
            self._tickets.append(
                EmulatedTicket(index, ticket, text, image, txt_path, png_path, source)
            )
            self._cond.notify_all()

    def _process(
        self, decoder: EscPosDecoder, data: bytes, reply: Callable[[bytes], None], source: str
    ) -> None:
        with self._cond:
            self.bytes_received += len(data)
        for ev in decoder.feed(data):
            if isinstance(ev, StatusRequest):
                with self._cond:
                    self.status_requests += 1
                answer = self.status_reply(ev)
                if answer is not None:
                    reply(answer)
            elif isinstance(ev, TicketDone):
                self._complete(ev.ticket, source)

    def _finish(self, decoder: EscPosDecoder, source: str) -> None:
        tail = decoder.finish()
        if tail is not None:
            self._complete(tail, source)

    # ------------------------------------------------------------------ TCP

    def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen for raw ESC/POS on ``host:port`` (0 picks a free port); returns the address."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        lsock = socket.socket(family, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((host, port))
        lsock.listen(8)
        self._listeners.append(lsock)
        addr = lsock.getsockname()
        self._spawn(self._accept_loop, lsock)
        log.info("listening on %s:%d", addr[0], addr[1])
        return str(addr[0]), int(addr[1])

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)
        with self._cond:
            self._threads.append(t)
        t.start()

    def _accept_loop(self, lsock: socket.socket) -> None:
        while True:
            ready, _, _ = select.select([lsock, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                conn, addr = lsock.accept()
            except OSError:
                return
            self._spawn(self._serve_conn, conn, f"tcp {addr[0]}:{addr[1]}")

    def _serve_conn(self, conn: socket.socket, source: str) -> None:
        decoder = EscPosDecoder(self.paper_dots, chinese_default=self.chinese_default)
        try:
            while True:
                ready, _, _ = select.select([conn, self._wake_r], [], [])
                if self._wake_r in ready:
                    return
                data = conn.recv(65536)
                if not data:
                    break
                self._process(decoder, data, conn.sendall, source)
            self._finish(decoder, source)
        except OSError as e:
            log.warning("%s: connection error: %s", source, e)
        except Exception:  # never let one bad job take the emulator down
            log.exception("%s: emulator error", source)
        finally:
            conn.close()

    # ------------------------------------------------------------------ pty

    def start_pty(self) -> str:
        """Open a pseudo-terminal and serve it as a serial printer; returns the device path."""
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or newline translation before a client configures it
        self._fds += [master, slave]
        path = os.ttyname(slave)
        self._spawn(self._serve_pty, master, path)
        log.info("serial printer on %s", path)
        return path

    def _serve_pty(self, master: int, path: str) -> None:
        decoder = EscPosDecoder(self.paper_dots, chinese_default=self.chinese_default)
        source = f"pty {path}"

        def reply(b: bytes) -> None:
            os.write(master, b)

        try:
            while True:
                ready, _, _ = select.select([master, self._wake_r.fileno()], [], [])
                if self._wake_r.fileno() in ready:
                    break
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO when the slave side went away
                    break
                if not data:
                    break
                self._process(decoder, data, reply, source)
        except Exception:
            log.exception("%s: emulator error", source)
        finally:
            self._finish(decoder, source)

    # ------------------------------------------------------------------ lifecycle

    def stop(self, timeout: float = 5.0) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._wake_w.send(b"x")
        end = time.monotonic() + timeout
        with self._cond:
            threads = list(self._threads)
        for t in threads:
            t.join(max(0.0, end - time.monotonic()))
        for s in self._listeners:
            s.close()
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> PrinterEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
