"""One typed settings object, read from HALLQ_* environment variables and validated at start-up."""

from __future__ import annotations

import ipaddress
import re
import secrets
import socket
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "hallq-development-secret-change-me"
DEMO_ADMIN_PASSWORD = "hallq-demo"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HALLQ_", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None,
        description="sqlite+aiosqlite:///path or postgresql+asyncpg://...; default: SQLite in data_dir",
    )
    event_bus_url: str = "memory://"
    printer_url: str = "dummy://"
    # Printing (kiosk_server/printing): how long the issue response waits for the
    # print outcome, per-try timeout, tries, status poll period, paper width, and how
    # old a job a reconnecting print agent may still print.
    print_wait_seconds: float = Field(default=1.5, ge=0, le=10)
    print_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    print_attempts: int = Field(default=2, ge=1, le=5)
    printer_status_seconds: float = Field(default=15.0, gt=0)
    paper_mm: Literal[58, 80] = 80
    # How tickets are drawn (ticket_printer.Layout): "native" sends Chinese text for the
    # printer's own GB18030 font and the QR as a printer command; "image" sends bitmaps,
    # for printers without a Chinese font or without the QR command.
    printer_text_mode: Literal["native", "image"] = "native"
    printer_qr_mode: Literal["native", "image"] = "native"
    print_agent_max_age_minutes: int = Field(default=60, ge=1)
    secret_key: str = DEV_SECRET
    token_minutes: int = Field(default=12 * 60, ge=1, le=31 * 24 * 60)
    public_base_url: str = "http://127.0.0.1:8000"
    ticker_seconds: float = Field(default=5.0, gt=0)
    event_retention: int = Field(default=5000, ge=100)
    ws_queue_size: int = Field(default=256, ge=8)
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    # PostgreSQL: how long a statement may wait for a row lock, and run at all,
    # before the request is answered 503 "busy" with nothing saved.
    # gc.freeze() the heap loaded at start-up: `hallq serve` turns it on (one
    # app per process). Off otherwise, e.g. a test run building hundreds of apps
    # in one process, where frozen cycles would never be collected.
    gc_freeze: bool = False
    pg_lock_timeout_ms: int = Field(default=10_000, ge=100)
    pg_statement_timeout_ms: int = Field(default=30_000, ge=1000)
    login_attempts_per_minute: int = Field(default=10, ge=1)
    issue_per_minute_per_device: int = Field(default=60, ge=1)
    # Issues that arrive while a hall's issue transaction runs are committed
    # together in the next one, up to this many (kiosk_server/tickets/batch.py);
    # 1 gives every issue its own transaction.
    issue_batch_max: int = Field(default=64, ge=1, le=500)
    # After a batch of several, wait up to this long for the callers just
    # answered to come back and join the next one (0: start at once with
    # whoever is waiting). Costs nothing at one request at a time.
    issue_batch_gather_ms: float = Field(default=20.0, ge=0, le=100)
    # text for a terminal, json (one object per line) for a log shipper; tokens
    # are taken out of both (kiosk_server/logs.py).
    log_format: Literal["text", "json"] = "text"

    @field_validator("event_bus_url")
    @classmethod
    def _bus(cls, v: str) -> str:
        scheme = urlparse(v).scheme
        if scheme not in ("memory", "redis", "rediss"):
            raise ValueError("event_bus_url must be memory:// or redis://host:port/db")
        return v

    @field_validator("database_url")
    @classmethod
    def _db(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not (v.startswith("sqlite+aiosqlite://") or v.startswith("postgresql+asyncpg://")):
            raise ValueError(
                "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return v

    @field_validator("printer_url")
    @classmethod
    def _printer(cls, v: str) -> str:
        scheme = urlparse(v).scheme
        allowed = ("dummy", "tcp", "serial", "usb", "file", "agent", "none")
        if scheme not in allowed:
            raise ValueError(
                f"printer_url scheme {scheme!r} is not supported; use one of "
                "dummy://, tcp://HOST:9100, serial:///dev/ttyUSB0, usb://VID:PID, "
                "file:///dev/usb/lp0, agent:// (a printer agent) or none://"
            )
        return v

    @model_validator(mode="after")
    def _production(self) -> Settings:
        problems = self.production_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def production_problems(self) -> list[str]:
        """Why these settings must not run a real hall (empty outside production).

        Checked when the settings are read and again at start-up (a copy made with
        ``model_copy`` skips validation)."""
        if self.environment != "production":
            return []
        problems = []
        if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
            problems.append(
                "production needs HALLQ_SECRET_KEY set to a random value of at least 32 "
                f"characters (e.g. {secrets.token_urlsafe(32)})"
            )
        if not reachable_from_phones(self.public_base_url):
            problems.append(
                f"production needs HALLQ_PUBLIC_BASE_URL set to the address phones can reach "
                f"(e.g. https://hallq.example.gov.cn); {self.public_base_url!r} only works on "
                "this machine, so the QR codes on printed tickets would be useless"
            )
        return problems

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hallq.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


def reachable_from_phones(url: str) -> bool:
    """False for a base URL no phone can open: no http(s) host, or a loopback,
    ``localhost`` or unspecified (0.0.0.0) address."""
    try:
        parsed = urlparse(url)
        host = parsed.hostname
    except ValueError:
        return False
    if parsed.scheme not in ("http", "https") or not host:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost") or host == "localhost.localdomain":
        return False
    ip = _as_ip(host)
    if ip is None:
        return True  # a host name: whether it resolves is the operator's business
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_loopback or ip.is_unspecified)


def _as_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fx.]+", host):  # the short forms browsers accept: 127.1, 0x7f.1
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None
