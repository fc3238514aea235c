"""The `hallq` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kiosk_server.settings import DEMO_ADMIN_PASSWORD, Settings

# Commands implemented by other packages: name -> "module:function(argv) -> int".
EXTERNAL: dict[str, str] = {
    "sim": "hardware_sim.cli:main",
    "simulate": "hardware_sim.simulate:main",
    "plan": "hardware_sim.plan:main",
    "report": "kiosk_server.stats.cli:main",
    "led-bridge": "display_client.serial_bridge.cli:main",
    "scanner-bridge": "display_client.serial_bridge.scanner:main",
    "printer-agent": "ticket_printer.agent:main",
    "backup": "kiosk_server.ops:backup_main",
    "restore": "kiosk_server.ops:restore_main",
}


def _settings(args: argparse.Namespace) -> Settings:
    if getattr(args, "data_dir", None):
        return Settings(data_dir=Path(args.data_dir))
    return Settings()


async def _init(
    settings: Settings, demo: bool, admin_password: str | None, always_open: bool
) -> dict[str, str]:
    from kiosk_server.bootstrap import create_demo
    from kiosk_server.db.engine import Database
    from kiosk_server.db.migrate import upgrade
    from kiosk_server.db.uow import unit_of_work

    db = Database(settings)
    try:
        await upgrade(db.engine)
        tokens: dict[str, str] = {}
        if demo:
            async with unit_of_work(db) as uow:
                tokens = await create_demo(
                    uow.session, admin_password or DEMO_ADMIN_PASSWORD, always_open=always_open
                )
        return tokens
    finally:
        await db.dispose()


async def _demo_exists(settings: Settings) -> bool:
    from sqlalchemy import inspect

    from kiosk_server.db.engine import Database

    db = Database(settings)
    try:
        async with db.engine.connect() as conn:
            has = await conn.run_sync(lambda c: inspect(c).has_table("halls"))
            if not has:
                return False
            from sqlalchemy import text

            row = (await conn.execute(text("SELECT 1 FROM halls WHERE code='demo'"))).first()
            return row is not None
    finally:
        await db.dispose()


def cmd_init(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings.environment == "production" and args.demo:
        print("refusing to create the demo hall in production", file=sys.stderr)
        return 2
    tokens = asyncio.run(_init(settings, args.demo, args.admin_password, args.always_open))
    print(f"database ready: {settings.effective_database_url}")
    if args.demo:
        path = settings.data_dir / "demo-tokens.json"
        path.write_text(json.dumps(tokens, indent=2), encoding="utf-8")
        os.chmod(path, 0o600)
        print("demo hall 'demo' (长江镇医保服务站) created with 4 counters")
        print("accounts: admin, supervisor, staff1..staff4 (password: the --admin-password given)")
        print(f"device tokens written to {path}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    asyncio.run(_init(_settings(args), False, None, False))
    print("database upgraded")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kiosk_server.logs import log_config

    settings = _settings(args)
    if args.workers > 1 and (settings.is_sqlite or settings.event_bus_url.startswith("memory")):
        print(
            "several workers need PostgreSQL (HALLQ_DATABASE_URL=postgresql+asyncpg://...) and "
            "Redis (HALLQ_EVENT_BUS_URL=redis://...): SQLite and the in-memory event bus only "
            "work inside one process",
            file=sys.stderr,
        )
        return 2
    if args.data_dir:
        os.environ["HALLQ_DATA_DIR"] = str(args.data_dir)
    # One app per process here: keep its start-up heap out of full GC passes.
    os.environ.setdefault("HALLQ_GC_FREEZE", "true")
    uvicorn.run(
        "kiosk_server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        log_config=log_config(settings.log_format, args.log_level),
        proxy_headers=True,
        # Screens keep WebSockets open; do not wait for them forever on shutdown.
        timeout_graceful_shutdown=5,
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not asyncio.run(_demo_exists(settings)):
        tokens = asyncio.run(_init(settings, True, args.admin_password, True))
        path = settings.data_dir / "demo-tokens.json"
        path.write_text(json.dumps(tokens, indent=2), encoding="utf-8")
        os.chmod(path, 0o600)
    try:
        demo = importlib.import_module("hardware_sim.demo")
    except ModuleNotFoundError:
        demo = None
    if demo is not None:
        result: int = demo.run(
            settings,
            host=args.host,
            port=args.port,
            duration=args.duration,
            admin_password=args.admin_password,
        )
        return result
    base = f"http://{args.host}:{args.port}"
    print(
        f"hallq demo: {base}/docs (API); log in as admin / {args.admin_password or DEMO_ADMIN_PASSWORD}"
    )
    args.workers = 1
    args.log_level = "info"
    return cmd_serve(args)


async def _user_create(settings: Settings, args: argparse.Namespace, password: str) -> str:
    from kiosk_server.auth.principal import Role
    from kiosk_server.auth.service import create_user
    from kiosk_server.db.engine import Database
    from kiosk_server.db.migrate import upgrade
    from kiosk_server.db.uow import unit_of_work
    from kiosk_server.halls import repository as halls_repo

    db = Database(settings)
    try:
        await upgrade(db.engine)
        async with unit_of_work(db) as uow:
            ids = [(await halls_repo.get_hall(uow.session, code)).id for code in args.hall or []]
            user = await create_user(
                uow.session,
                args.name,
                password,
                Role(args.role),
                display_name=args.display_name or args.name,
                hall_ids=ids,
                all_halls=args.all_halls or (args.role == "admin" and not ids),
            )
            return user.username
    finally:
        await db.dispose()


def cmd_user(args: argparse.Namespace) -> int:
    from kiosk_server.errors import DomainError

    password = (
        args.password or os.environ.get("HALLQ_NEW_PASSWORD") or getpass.getpass("password: ")
    )
    try:
        name = asyncio.run(_user_create(_settings(args), args, password))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(f"user {name} created with role {args.role}")
    return 0


async def _device_create(settings: Settings, args: argparse.Namespace) -> str:
    from kiosk_server.auth.principal import DeviceKind
    from kiosk_server.auth.service import create_device
    from kiosk_server.db.engine import Database
    from kiosk_server.db.uow import unit_of_work
    from kiosk_server.errors import NotFound
    from kiosk_server.halls import repository as halls_repo

    db = Database(settings)
    try:
        async with unit_of_work(db) as uow:
            hall = await halls_repo.get_hall(uow.session, args.hall)
            counter_id = None
            if args.counter is not None:
                c = await halls_repo.counter_by_number(uow.session, hall.id, args.counter)
                if c is None:
                    raise NotFound(f"there is no counter {args.counter}")
                counter_id = c.id
            token, _ = await create_device(
                uow.session, hall.id, DeviceKind(args.kind), args.name, counter_id
            )
            return token
    finally:
        await db.dispose()


def cmd_device(args: argparse.Namespace) -> int:
    from kiosk_server.errors import DomainError

    try:
        token = asyncio.run(_device_create(_settings(args), args))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(token)
    return 0


async def _hall_create(settings: Settings, args: argparse.Namespace) -> str:
    from kiosk_server.db.engine import Database
    from kiosk_server.db.migrate import upgrade
    from kiosk_server.db.uow import unit_of_work
    from kiosk_server.sites.service import add_site, site_out

    db = Database(settings)
    try:
        await upgrade(db.engine)
        async with unit_of_work(db) as uow:
            hall = await add_site(
                uow.session,
                args.code,
                args.name,
                args.kind,
                args.counters,
                False if args.no_kiosk else None,
            )
            out = await site_out(uow.session, hall)
        return (
            f"{out.kind} {out.code} ({out.name}) created: {out.counters} counter(s), "
            f"{'a kiosk' if out.has_kiosk else 'no kiosk'}, items: {', '.join(out.services)}"
        )
    finally:
        await db.dispose()


def cmd_hall(args: argparse.Namespace) -> int:
    import re

    from kiosk_server.errors import DomainError
    from kiosk_server.sites.schemas import CODE_PATTERN

    if not re.match(CODE_PATTERN, args.code):
        print("error: --code must be 2-40 lower-case letters, digits or '-'", file=sys.stderr)
        return 2
    try:
        print(asyncio.run(_hall_create(_settings(args), args)))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hallq", description="Queue system for medical-insurance service halls"
    )
    sub = p.add_subparsers(dest="command", required=True)

    def data_dir(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--data-dir", help="where the SQLite database lives (HALLQ_DATA_DIR)")

    sp = sub.add_parser("init", help="create or upgrade the database; --demo adds the demo hall")
    data_dir(sp)
    sp.add_argument("--demo", action="store_true")
    sp.add_argument("--admin-password")
    sp.add_argument("--always-open", action="store_true", help="demo hall open around the clock")
    sp.set_defaults(fn=cmd_init)

    sp = sub.add_parser("db", help="database maintenance")
    dbsub = sp.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="apply migrations")
    data_dir(up)
    up.set_defaults(fn=cmd_db)

    sp = sub.add_parser("serve", help="run the server")
    data_dir(sp)
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument("--workers", type=int, default=1)
    sp.add_argument("--log-level", default="info")
    sp.set_defaults(fn=cmd_serve)

    sp = sub.add_parser("demo", help="the demo hall with simulated hardware")
    data_dir(sp)
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument("--admin-password")
    sp.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    sp.set_defaults(fn=cmd_demo)

    sp = sub.add_parser("user", help="staff accounts")
    usub = sp.add_subparsers(dest="user_command", required=True)
    uc = usub.add_parser("create", help="create an account")
    data_dir(uc)
    uc.add_argument("name")
    uc.add_argument("--role", choices=["staff", "supervisor", "admin"], required=True)
    uc.add_argument("--password", help="or HALLQ_NEW_PASSWORD, or asked for")
    uc.add_argument("--display-name")
    uc.add_argument("--hall", action="append", help="hall code (repeatable)")
    uc.add_argument("--all-halls", action="store_true")
    uc.set_defaults(fn=cmd_user)

    sp = sub.add_parser("hall", help="sites: township halls and village points")
    hsub = sp.add_subparsers(dest="hall_command", required=True)
    hc = hsub.add_parser(
        "create", help="add a hall with its default catalogue (village: 6 items, 1 desk)"
    )
    data_dir(hc)
    hc.add_argument("--code", required=True, help="short code used in URLs, e.g. dongcun")
    hc.add_argument("--name", required=True, help="name shown on screens and tickets")
    hc.add_argument("--kind", choices=["township", "village"], default="township")
    hc.add_argument("--counters", type=int, help="default: 1 for a village, 4 for a township")
    hc.add_argument("--no-kiosk", action="store_true", help="staff issue tickets at the desk")
    hc.set_defaults(fn=cmd_hall)

    sp = sub.add_parser("device-token", help="device tokens")
    dsub = sp.add_subparsers(dest="device_command", required=True)
    dc = dsub.add_parser("create", help="create a device token and print it")
    data_dir(dc)
    dc.add_argument("--hall", required=True)
    dc.add_argument(
        "--kind",
        required=True,
        choices=["kiosk", "display", "printer", "rating_pad", "led_bridge", "keypad"],
    )
    dc.add_argument("--name", required=True)
    dc.add_argument("--counter", type=int)
    dc.set_defaults(fn=cmd_device)

    for name in EXTERNAL:
        ext = sub.add_parser(name, help=f"see `hallq {name} --help`", add_help=False)
        ext.set_defaults(fn=None, external=name)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in EXTERNAL:
        module_name, func = EXTERNAL[argv[0]].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            print(f"`hallq {argv[0]}` is not available in this build", file=sys.stderr)
            return 2
        result: int = getattr(module, func)(argv[1:])
        return result
    args = build_parser().parse_args(argv)
    code: int = args.fn(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
