"""The JSON API: every action the reviewer pages offer, for their own script and for
integrations. Session (with the X-CSRF-Token header) or `Authorization: Bearer <token>`."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from gongkai.models.review import ActionOutcome, ItemDetail, QueueGroup, QueueItem, ReportView

from .pages import QUEUE_PAGE_ITEMS, FilterDep
from .security import Caller, require_caller, service_of

router = APIRouter(prefix="/api")
CallerDep = Annotated[Caller, Depends(require_caller)]

Note = Annotated[str | None, Field(default=None, max_length=2000)]


class Action(BaseModel):
    """confirm / skip: the version the reviewer saw (optional), and a note."""

    model_config = ConfigDict(extra="forbid")
    version: StrictInt | None = None
    note: Note = None


class Correction(Action):
    # Strict: `true` is not 1. Text (e.g. "12万", "１２") is parsed by the field's type in
    # the service, which refuses what does not fit (InvalidValue, 422, nothing saved).
    value: StrictInt | StrictFloat | Annotated[StrictStr, Field(max_length=100)] | None


class RowMapping(Action):
    row_id: Annotated[StrictStr, Field(max_length=200)] | None = Field(
        description="the template row, or null for 'not a template row'"
    )


class QueueAnswer(BaseModel):
    items: list[QueueItem]


class GroupsAnswer(BaseModel):
    groups: list[QueueGroup]


@router.get("/queue")
def api_queue(
    request: Request, caller: CallerDep, filters: FilterDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = QUEUE_PAGE_ITEMS,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> QueueAnswer:
    return QueueAnswer(items=service_of(request).queue(caller.user, filters, limit=limit, offset=offset))


@router.get("/queue/groups")
def api_queue_groups(request: Request, caller: CallerDep, filters: FilterDep) -> GroupsAnswer:
    return GroupsAnswer(groups=service_of(request).queue_groups(caller.user, filters))


@router.get("/items/{item_id}")
def api_item(request: Request, item_id: int, caller: CallerDep) -> ItemDetail:
    return service_of(request).item(caller.user, item_id)


@router.post("/items/{item_id}/claim")
def api_claim(request: Request, item_id: int, caller: CallerDep) -> ItemDetail:
    return service_of(request).claim(caller.user, item_id)


@router.post("/items/{item_id}/confirm")
def api_confirm(
    request: Request, item_id: int, caller: CallerDep, action: Annotated[Action, Body(default_factory=Action)],
) -> ActionOutcome:
    return service_of(request).confirm(caller.user, item_id, version=action.version, note=action.note)


@router.post("/items/{item_id}/correct")
def api_correct(request: Request, item_id: int, caller: CallerDep, correction: Correction) -> ActionOutcome:
    return service_of(request).correct(
        caller.user, item_id, correction.value, version=correction.version, note=correction.note,
    )


@router.post("/items/{item_id}/skip")
def api_skip(
    request: Request, item_id: int, caller: CallerDep, action: Annotated[Action, Body(default_factory=Action)],
) -> ItemDetail:
    return service_of(request).skip(caller.user, item_id, note=action.note)


@router.post("/items/{item_id}/map")
def api_map(request: Request, item_id: int, caller: CallerDep, mapping: RowMapping) -> ActionOutcome:
    return service_of(request).map_row(
        caller.user, item_id, mapping.row_id, version=mapping.version, note=mapping.note,
    )


@router.get("/reports/{report_id}")
def api_report(request: Request, report_id: int, caller: CallerDep) -> ReportView:
    return service_of(request).report(caller.user, report_id)
