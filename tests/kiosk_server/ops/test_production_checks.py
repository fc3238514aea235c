"""Production refuses a public base URL that only this machine can open: the QR
code printed on every ticket is built from it and must work on a resident's phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk_server.app import create_app
from kiosk_server.settings import Settings, reachable_from_phones

SECRET = "s" * 40
LOOPBACK = [
    "http://127.0.0.1:8000",  # the default
    "http://localhost:8000",
    "https://LOCALHOST./",
    "http://hallq.localhost",
    "http://127.0.1.1:8000",
    "http://127.1:8000",
    "http://[::1]:8000",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0:8000",
    "127.0.0.1:8000",  # no scheme: not a URL a phone can open
    "hallq.example.gov.cn",
    "ftp://hallq.example.gov.cn",
    "http://",
]
REACHABLE = [
    "https://hallq.example.gov.cn",
    "http://192.168.1.20:8000",
    "http://10.0.0.5",
    "http://hall.test",
    "http://[2001:db8::5]:8000/",
]


@pytest.mark.parametrize("url", LOOPBACK)
def test_production_refuses_a_base_url_phones_cannot_reach(tmp_path: Path, url: str) -> None:
    assert not reachable_from_phones(url)
    with pytest.raises(ValueError, match="HALLQ_PUBLIC_BASE_URL") as info:
        Settings(
            environment="production", data_dir=tmp_path, secret_key=SECRET, public_base_url=url
        )
    assert "address phones can reach" in str(info.value)


def test_production_refuses_the_default_base_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HALLQ_PUBLIC_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="HALLQ_PUBLIC_BASE_URL.*QR codes on printed tickets"):
        Settings(environment="production", data_dir=tmp_path, secret_key=SECRET)


@pytest.mark.parametrize("url", REACHABLE)
def test_production_accepts_a_reachable_base_url(tmp_path: Path, url: str) -> None:
    assert reachable_from_phones(url)
    s = Settings(
        environment="production", data_dir=tmp_path, secret_key=SECRET, public_base_url=url
    )
    assert s.production_problems() == []


def test_development_and_tests_keep_the_loopback_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HALLQ_PUBLIC_BASE_URL", raising=False)
    for env in ("development", "test"):
        s = Settings(environment=env, data_dir=tmp_path)  # type: ignore[arg-type]
        assert s.public_base_url == "http://127.0.0.1:8000"
        assert s.production_problems() == []


def test_both_problems_are_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="HALLQ_SECRET_KEY") as info:
        Settings(environment="production", data_dir=tmp_path)
    assert "HALLQ_PUBLIC_BASE_URL" in str(info.value)


@pytest.mark.asyncio
async def test_start_up_refuses_a_loopback_base_url_even_on_unvalidated_settings(
    tmp_path: Path,
) -> None:
    dev = Settings(environment="development", data_dir=tmp_path, secret_key=SECRET)
    prod = dev.model_copy(update={"environment": "production"})  # skips validation
    app = create_app(prod)
    with pytest.raises(RuntimeError, match="refusing to start in production.*PUBLIC_BASE_URL"):
        async with app.router.lifespan_context(app):
            pass
