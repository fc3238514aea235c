"""Log set-up for ``hallq serve``: plain text or one JSON object per line, with
secrets taken out of every record.

Screens, kiosks and staff pages put tokens in URLs (``?token=`` on the staff
WebSocket, ``?device_token=`` when a device is paired, the resident's status
link ``/t/<token>``), and uvicorn's access log writes the whole path. A log
file is read by more people than the tokens are meant for, so every record is
redacted before it is formatted, whichever logger wrote it.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

_QUERY_SECRET = re.compile(r"(?i)([?&](?:token|device_token|access_token)=)[^&\s\"']+")
# Resident status links: /t/<token>, /api/v1/tickets/<token>[/rating]. Row ids
# ("by-id/12") are short and not secret; public tokens are 22 characters.
_PATH_SECRET = re.compile(r"(/(?:t|api/v1/tickets)/)(?!by-id/)[A-Za-z0-9_-]{16,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{12,}")
_DEVICE_TOKEN = re.compile(r"hqd_[A-Za-z0-9_-]{8,}")

REDACTED = "***"


def redact(text: str) -> str:
    text = _QUERY_SECRET.sub(rf"\1{REDACTED}", text)
    text = _PATH_SECRET.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _DEVICE_TOKEN.sub(f"hqd_{REDACTED}", text)


_SPURIOUS_HANDSHAKE = "ASGI callable returned without completing handshake."


class DenialNoiseFilter(logging.Filter):
    """uvicorn's websockets-sansio protocol logs this at ERROR after every
    WebSocket refused with a denial response (an HTTP 401/403 body, as
    ``/ws/printer`` sends; Kludex/uvicorn#3138), although the client got the
    refusal. Our socket handlers accept, close or deny every connection, so the
    line is kept, at INFO, rather than paging someone for a wrong token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and record.msg == _SPURIOUS_HANDSHAKE:
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class RedactFilter(logging.Filter):
    """Takes tokens out of a record's message and arguments (attach to handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any extras.

    uvicorn's access records also get ``client``, ``method``, ``path`` and
    ``status`` as fields, so a log shipper can filter on them.
    """

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            out.update(client=client, method=method, path=path, status=status)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = (
                    value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
                )
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


def log_config(fmt: LogFormat, level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn and the app's own loggers."""
    level = level.upper()
    if fmt == "json":
        formatters: dict[str, Any] = {"main": {"()": JsonFormatter}}
    else:
        formatters = {
            "main": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
        }
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "main",
        "filters": ["denial_noise", "redact"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "redact": {"()": RedactFilter},
            "denial_noise": {"()": DenialNoiseFilter},
        },
        "formatters": formatters,
        "handlers": {"main": handler},
        "loggers": {
            "uvicorn": {"handlers": ["main"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["main"], "level": level, "propagate": False},
            "kiosk_server": {"handlers": ["main"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["main"], "level": "WARNING"},
    }
