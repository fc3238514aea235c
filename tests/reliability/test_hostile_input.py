"""Hostile input the fuzzer does not generate: oversized bodies (declared and
streamed), wrong content types, broken UTF-8, very long strings, negative and
huge numbers, unknown hall codes. Each gets a 4xx in the API's error shape and
changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kiosk_server.app import MAX_BODY_BYTES
from tests.conftest import LiveServer
from tests.factories import HallKit, issue, login_all, make_hall

pytestmark = pytest.mark.asyncio


def error_of(r: httpx.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    """The response is the expected 4xx with the one error shape; return the error."""
    allowed = (status,) if isinstance(status, int) else status
    assert r.status_code in allowed, f"{r.status_code} {r.text[:300]}"
    err: dict[str, Any] = r.json()["error"]
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    return err


async def waiting(client: httpx.AsyncClient, hall: HallKit) -> list[Any]:
    r = await client.get(f"/api/v1/halls/{hall.code}/queue", headers=hall.auth("staff"))
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()
    return items


def tickets_url(hall: HallKit) -> str:
    return f"/api/v1/halls/{hall.code}/tickets"


async def test_oversized_declared_body_is_413_and_issues_nothing(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    body = b'{"service": "enrol", "id_number": "' + b"1" * (MAX_BODY_BYTES + 10) + b'"}'
    r = await client.post(
        tickets_url(hall),
        content=body,
        headers={**hall.auth("kiosk"), "Content-Type": "application/json"},
    )
    err = error_of(r, 413)
    assert err["code"] == "payload_too_large" and "too large" in err["message"]
    assert err["details"]["limit_bytes"] == MAX_BODY_BYTES
    assert await waiting(client, hall) == []
    # The limit is on the size, not the route: the same request, small, works.
    assert (await issue(client, hall, "enrol"))["number"] == "A001"


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    yield b'{"service": "enrol", "id_number": "'
    sent = 0
    while sent < total:
        yield b"2" * size
        sent += size
    yield b'"}'


async def test_oversized_streamed_body_without_length_is_413(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    # A generator body goes out chunked, with no Content-Length to check up front.
    r = await client.post(
        tickets_url(hall),
        content=chunks(MAX_BODY_BYTES + 1),
        headers={**hall.auth("kiosk"), "Content-Type": "application/json"},
    )
    assert "content-length" not in r.request.headers
    assert error_of(r, 413)["code"] == "payload_too_large"
    assert await waiting(client, hall) == []


async def test_oversized_chunked_body_over_a_real_socket_is_413(live: LiveServer) -> None:
    ctx = live.app.state.ctx
    async with httpx.AsyncClient(base_url=live.url) as client:
        hall = await make_hall(ctx)
        await login_all(client, hall)
        r = await client.put(
            f"/api/v1/halls/{hall.code}/catalog",
            content=chunks(2 * MAX_BODY_BYTES),
            headers={**hall.auth("admin"), "Content-Type": "application/json"},
        )
        assert error_of(r, 413)["code"] == "payload_too_large"
        # The server is still serving after refusing mid-stream.
        assert (await issue(client, hall, "enrol"))["number"] == "A001"


async def test_catalogue_upload_under_the_limit_reaches_its_own_check(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    # 600 KB is under the app-wide 1 MiB, so the catalogue's own 512 KB rule answers.
    r = await client.put(
        f"/api/v1/halls/{hall.code}/catalog",
        content=b"#" * 600_000,
        headers={**hall.auth("admin"), "Content-Type": "application/yaml"},
    )
    assert "512 KB" in error_of(r, 400)["message"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"service": "enrol"}'),
        ("application/x-www-form-urlencoded", b"service=enrol"),
        (
            "multipart/form-data; boundary=xx",
            b'--xx\r\nContent-Disposition: form-data; name="service"\r\n\r\nenrol\r\n--xx--\r\n',
        ),
        ("application/xml", b"<service>enrol</service>"),
        ("application/json", b"service=enrol"),
    ],
)
async def test_wrong_content_type_is_a_4xx_not_a_500(
    client: httpx.AsyncClient, hall: HallKit, content_type: str, body: bytes
) -> None:
    r = await client.post(
        tickets_url(hall),
        content=body,
        headers={**hall.auth("kiosk"), "Content-Type": content_type},
    )
    err = error_of(r, 422)
    assert err["code"] == "malformed_request"
    if "json" not in content_type:
        assert "Content-Type: application/json" in err["message"]
    assert await waiting(client, hall) == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"service": "\xff\xfe"}',
        b'{"service": "enrol", "id_number": "\xc3\x28"}',
        b"\xef\xbb\xbf\xff{}",
        b'{"service": "\xed\xa0\x80"}',  # a UTF-8-encoded surrogate
    ],
)
async def test_invalid_utf8_bytes_are_a_4xx(
    client: httpx.AsyncClient, hall: HallKit, body: bytes
) -> None:
    r = await client.post(
        tickets_url(hall),
        content=body,
        headers={**hall.auth("kiosk"), "Content-Type": "application/json"},
    )
    assert error_of(r, 422)["code"] == "malformed_request"
    assert await waiting(client, hall) == []


async def test_invalid_utf8_in_a_catalogue_upload_is_a_400(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    before = (
        await client.get(f"/api/v1/halls/{hall.code}/catalog", headers=hall.auth("admin"))
    ).json()
    r = await client.put(
        f"/api/v1/halls/{hall.code}/catalog",
        content=b"services:\n  - code: \xff\xfe\n",
        headers={**hall.auth("admin"), "Content-Type": "application/yaml"},
    )
    assert "UTF-8" in error_of(r, 400)["message"]
    after = (
        await client.get(f"/api/v1/halls/{hall.code}/catalog", headers=hall.auth("admin"))
    ).json()
    assert after == before


@pytest.mark.parametrize(
    "body",
    [
        {"service": "e" * 100_000},
        {"service": "enrol", "id_number": "4" * 50_000},
        {"service": "enrol", "appointment_code": "Z" * 10_000},
        {"service": "enrol", "channel": "g" * 10_000},
        {"service": "enrol", "x" * 10_000: 1},
    ],
)
async def test_very_long_strings_are_a_4xx(
    client: httpx.AsyncClient, hall: HallKit, body: dict[str, Any]
) -> None:
    r = await client.post(tickets_url(hall), json=body, headers=hall.auth("kiosk"))
    error_of(r, (400, 404, 422))
    assert await waiting(client, hall) == []


async def test_very_long_path_segments_are_a_4xx(client: httpx.AsyncClient, hall: HallKit) -> None:
    long = "h" * 20_000
    for url in (
        f"/api/v1/halls/{long}",
        f"/api/v1/halls/{long}/services",
        f"/api/v1/tickets/{long}",
        f"/api/v1/appointments/{long}",
    ):
        error_of(await client.get(url), (400, 404, 422))


@pytest.mark.parametrize("value", [-1, 0, 2_147_483_648, 10**30, -(10**30)])
async def test_negative_and_huge_ids_in_paths_are_a_4xx(
    client: httpx.AsyncClient, hall: HallKit, value: int
) -> None:
    for method, url in (
        ("GET", f"/api/v1/tickets/by-id/{value}"),
        ("POST", f"/api/v1/tickets/by-id/{value}/cancel"),
        ("GET", f"/api/v1/counters/{value}"),
        ("POST", f"/api/v1/counters/{value}/call-next"),
        ("GET", f"/api/v1/tickets/{value}/print-jobs"),
    ):
        r = await client.request(method, url, headers=hall.auth("supervisor"))
        error_of(r, (400, 404, 422))


@pytest.mark.parametrize("score", [-1, 0, 6, 2**63, 10**40, -(10**40), 1.5, "1e400"])
async def test_negative_and_huge_numbers_in_bodies_are_a_4xx(
    client: httpx.AsyncClient, hall: HallKit, score: Any
) -> None:
    t = await issue(client, hall, "enrol")
    counter = hall.counter_ids[1]
    await client.post(f"/api/v1/counters/{counter}/call-next", headers=hall.auth("staff1"))
    raw = f'{{"score": {score}}}' if isinstance(score, str) else None
    r = await client.post(
        f"/api/v1/tickets/{t['id']}/rating",
        content=raw,
        json=None if raw else {"score": score},
        headers={**hall.auth("pad"), "Content-Type": "application/json"},
    )
    error_of(r, 422)
    for number in (-5, 0, 1000, 10**30):
        r = await client.post(
            f"/api/v1/counters/{counter}/transfer",
            json={"counter": number},
            headers=hall.auth("staff1"),
        )
        error_of(r, 422)
    # Nothing moved: the ticket is still at counter 1.
    r = await client.get(f"/api/v1/counters/{counter}", headers=hall.auth("staff1"))
    assert r.status_code == 200 and r.json()["ticket"]["id"] == t["id"]


@pytest.mark.parametrize(
    ("method", "path", "who"),
    [
        ("GET", "/api/v1/halls/{x}", None),
        ("GET", "/api/v1/halls/{x}/services", None),
        ("GET", "/api/v1/halls/{x}/display", None),
        ("GET", "/api/v1/halls/{x}/slots?service=enrol&date=2026-03-05", None),
        ("GET", "/api/v1/halls/{x}/appointment-offer", None),
        ("GET", "/api/v1/halls/{x}/queue", "admin"),
        ("GET", "/api/v1/halls/{x}/counters", "admin"),
        ("GET", "/api/v1/halls/{x}/catalog", "admin"),
        ("POST", "/api/v1/halls/{x}/tickets", "admin"),
    ],
)
async def test_unknown_hall_code_is_a_404(
    client: httpx.AsyncClient, hall: HallKit, method: str, path: str, who: str | None
) -> None:
    for code in ("nowhere", "DEMO", "demo%20", "%E5%8C%BB%E4%BF%9D"):
        r = await client.request(
            method,
            path.format(x=code),
            json={"service": "enrol"} if method == "POST" else None,
            headers=hall.auth(who) if who else {},
        )
        # An admin of one hall may instead be told the hall is not theirs; never a 5xx.
        err = error_of(r, (404, 403) if who else 404)
        if r.status_code == 404:
            assert err["code"] == "not_found"
    assert await waiting(client, hall) == []
