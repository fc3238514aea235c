from __future__ import annotations

from typing import Annotated

import yaml
from fastapi import APIRouter, Query, Request, Response

from kiosk_server.auth.principal import Role
from kiosk_server.db.uow import unit_of_work
from kiosk_server.deps import Ctx, DbId, Who
from kiosk_server.errors import BadRequest
from kiosk_server.halls import repository as repo
from kiosk_server.halls import service
from kiosk_server.halls.refusals import refusal
from kiosk_server.halls.schemas import (
    CatalogDoc,
    CounterBrief,
    CounterIn,
    CounterPatch,
    DisplaySnapshot,
    HallCreate,
    HallOut,
    HallSettingsIn,
    QueueItem,
    ServiceIn,
    ServiceOut,
    ServicePatch,
)

router = APIRouter(prefix="/api/v1", tags=["halls"])


@router.get("/halls", response_model=list[HallOut], summary="All halls (public)")
async def list_halls(ctx: Ctx) -> list[HallOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        return [service.hall_out(ctx, h) for h in await repo.list_halls(uow.session)]


@router.post(
    "/halls", response_model=HallOut, status_code=201, summary="Create a hall (county admin)"
)
async def create_hall(ctx: Ctx, who: Who, body: HallCreate) -> HallOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.create_hall(ctx, uow, who, body)


@router.get(
    "/halls/{hall}", response_model=HallOut, summary="A hall, its hours and policy (public)"
)
async def get_hall(ctx: Ctx, hall: str) -> HallOut:
    async with unit_of_work(ctx.db, write=False) as uow:
        return service.hall_out(ctx, await repo.get_hall(uow.session, hall))


@router.patch(
    "/halls/{hall}", response_model=HallOut, summary="Change hall settings and policy (admin)"
)
async def update_hall(ctx: Ctx, who: Who, hall: str, body: HallSettingsIn) -> HallOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.update_hall(ctx, uow, who, hall, body)


@router.get(
    "/halls/{hall}/services", response_model=list[ServiceOut], summary="Enabled items (public)"
)
async def list_services(ctx: Ctx, hall: str) -> list[ServiceOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.services_public(ctx, uow, hall)


@router.get(
    "/halls/{hall}/services/all",
    response_model=list[ServiceOut],
    summary="Every item, disabled too (admin)",
)
async def list_all_services(ctx: Ctx, who: Who, hall: str) -> list[ServiceOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        h = await repo.get_hall(uow.session, hall)
        who.require_role(Role.SUPERVISOR, h.id)
        return [
            service.service_out(s)
            for s in await repo.list_services(uow.session, h.id, enabled_only=False)
        ]


@router.post(
    "/halls/{hall}/services",
    response_model=ServiceOut,
    status_code=201,
    summary="Add an item (admin)",
)
async def create_service(ctx: Ctx, who: Who, hall: str, body: ServiceIn) -> ServiceOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.create_service(ctx, uow, who, hall, body)


@router.patch(
    "/halls/{hall}/services/{code}",
    response_model=ServiceOut,
    summary="Edit, reorder, enable/disable an item (admin)",
)
async def patch_service(ctx: Ctx, who: Who, hall: str, code: str, body: ServicePatch) -> ServiceOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.patch_service(ctx, uow, who, hall, code, body)


@router.get("/halls/{hall}/catalog", summary="Export the catalogue as JSON or YAML (supervisor)")
async def export_catalog(
    ctx: Ctx, who: Who, hall: str, format: Annotated[str, Query(pattern="^(json|yaml)$")] = "json"
) -> Response:
    async with unit_of_work(ctx.db, write=False) as uow:
        doc = await service.export_catalog(uow, who, hall)
    if format == "yaml":
        text = yaml.safe_dump(doc.model_dump(), allow_unicode=True, sort_keys=False)
        return Response(text, media_type="application/yaml")
    return Response(doc.model_dump_json(indent=2), media_type="application/json")


@router.put(
    "/halls/{hall}/catalog",
    response_model=list[ServiceOut],
    summary="Import a catalogue (JSON or YAML body; admin)",
)
async def import_catalog(ctx: Ctx, who: Who, hall: str, request: Request) -> list[ServiceOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        # Who may change this hall is settled before the upload is read.
        who.require_role(Role.ADMIN, (await repo.get_hall(uow.session, hall)).id)
    raw = await request.body()
    if len(raw) > 512_000:
        raise refusal(
            BadRequest,
            "import_too_large",
            "the catalogue file is too large (512 KB at most)",
            "目录文件太大（最多 512 KB）",
        )
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise refusal(
            BadRequest,
            "import_unreadable",
            f"the catalogue is not valid UTF-8 JSON or YAML: {exc}",
            "目录文件不是有效的 UTF-8 JSON 或 YAML",
            problem=str(exc),
        ) from None
    try:
        doc = CatalogDoc.model_validate(data)
    except ValueError as exc:
        raise refusal(
            BadRequest,
            "import_shape",
            f"the catalogue does not have the expected shape: {exc}",
            "目录文件的格式不对（应为 services: 事项列表）",
            problem=str(exc),
        ) from None
    async with unit_of_work(ctx.db) as uow:
        return await service.import_catalog(ctx, uow, who, hall, doc)


@router.get(
    "/halls/{hall}/counters",
    response_model=list[CounterBrief],
    summary="Counters and what they are doing (staff)",
)
async def list_counters(ctx: Ctx, who: Who, hall: str) -> list[CounterBrief]:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.counters_list(ctx, uow, who, hall)


@router.post(
    "/halls/{hall}/counters",
    response_model=CounterBrief,
    status_code=201,
    summary="Add a counter (admin)",
)
async def create_counter(ctx: Ctx, who: Who, hall: str, body: CounterIn) -> CounterBrief:
    async with unit_of_work(ctx.db) as uow:
        return await service.create_counter(ctx, uow, who, hall, body)


@router.patch(
    "/counters/{counter_id}",
    response_model=CounterBrief,
    summary="Rename, choose items, close a counter (admin)",
)
async def patch_counter(ctx: Ctx, who: Who, counter_id: DbId, body: CounterPatch) -> CounterBrief:
    async with unit_of_work(ctx.db) as uow:
        return await service.patch_counter(ctx, uow, who, counter_id, body)


@router.get(
    "/halls/{hall}/display",
    response_model=DisplaySnapshot,
    summary="Hall-screen snapshot with its event seq (public)",
)
async def display(ctx: Ctx, hall: str) -> DisplaySnapshot:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.display(ctx, uow, hall)


@router.get(
    "/halls/{hall}/queue",
    response_model=list[QueueItem],
    summary="Waiting tickets in call order (staff)",
)
async def queue(ctx: Ctx, who: Who, hall: str) -> list[QueueItem]:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.queue_list(ctx, uow, who, hall)
