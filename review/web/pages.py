"""The server-rendered pages: the queue, an item, a report, and their images."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from gongkai.config import load_template, template_ids
from gongkai.models.review import QueueFilter, ReportCell, ReportView
from gongkai.review.errors import InvalidValue, ItemNotFound

from .layout import report_tables, row_of
from .rendering import png_size, render, shown_value
from .security import Caller, require_caller, service_of

router = APIRouter()
QUEUE_PAGE_ITEMS = 100
QUEUE_PAGE_GROUPS = 50  # reports shown on the queue page, first-flagged first; filters narrow it

CallerDep = Annotated[Caller, Depends(require_caller)]


def queue_filter(
    agency: Annotated[str | None, Query(max_length=200)] = None,
    year: Annotated[str | None, Query(max_length=4)] = None,
    template: Annotated[str | None, Query(max_length=32)] = None,
    reason: Annotated[str | None, Query(max_length=200)] = None,
    source_kind: Annotated[str | None, Query(max_length=32)] = None,
    report_id: Annotated[str | None, Query(max_length=12)] = None,
) -> QueueFilter:
    """The queue's filters from the query string; an empty box means no filter."""
    def blank(text: str | None) -> str | None:
        return text.strip() or None if text is not None else None

    try:
        # model_validate: the query's strings ("2021") are pydantic's to convert, not the caller's
        return QueueFilter.model_validate({
            "agency": blank(agency), "year": blank(year), "template": blank(template), "reason": blank(reason),
            "source_kind": blank(source_kind), "report_id": blank(report_id),
        })
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidValue(f"bad queue filter {first['loc'][0]}: {first['msg']}") from exc


FilterDep = Annotated[QueueFilter, Depends(queue_filter)]


@router.get("/")
def home(caller: CallerDep) -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
def queue_page(request: Request, caller: CallerDep, filters: FilterDep) -> Response:
    service = service_of(request)
    groups = service.queue_groups(caller.user, filters, limit=QUEUE_PAGE_GROUPS)
    items = service.queue(caller.user, filters, limit=QUEUE_PAGE_ITEMS)
    return render(request, "queue.html", {
        "user": caller.user, "filters": filters, "groups": groups, "items": items,
        "shown_open": sum(g.open_items for g in groups), "more_groups": len(groups) == QUEUE_PAGE_GROUPS,
        "templates": template_ids(),
    })


@router.get("/items/{item_id}")
def item_page(request: Request, item_id: int, caller: CallerDep) -> Response:
    item = service_of(request).item(caller.user, item_id)
    box = shown_value(item.value)
    if item.value is None and item.suggestion is not None:
        box = shown_value(item.suggestion)  # one keystroke (Enter) accepts a right suggestion
    context = None
    if not item.has_crop and not item.snippet and item.field_id and item.template:
        # No image and no source text (web and born-digital inputs): the row as the report
        # printed it, so the reviewer sees the cell among its neighbours.
        view = service_of(request).report(caller.user, item.report_id)
        context = row_of(report_tables(load_template(item.template), view.cells), item.field_id)
    return render(request, "item.html", {
        "user": caller.user, "item": item, "shown": shown_value(item.value), "box": box, "context": context,
    })


@router.get("/items/{item_id}/crop")
def item_crop(request: Request, item_id: int, caller: CallerDep) -> Response:
    png = service_of(request).crop(caller.user, item_id)
    return _png(png, f"item {item_id} has no image of its cell")


@router.get("/reports/{report_id}")
def report_page(request: Request, report_id: int, caller: CallerDep) -> Response:
    service = service_of(request)
    view = service.report(caller.user, report_id)
    tables = report_tables(load_template(view.template), view.cells) if view.template else []
    return render(request, "report.html", {
        "user": caller.user, "view": view, "tables": tables,
        "failed": [c for c in view.checks if not c.ok], "pages": _page_overlays(request, caller, view),
        "series_years": sorted({p.year for p in service.agency_series(caller.user, report_id)}),
    })


@router.get("/reports/{report_id}/series.png")
def report_series_image(request: Request, report_id: int, caller: CallerDep) -> Response:
    """The report's agency over the years (requests received and handled), from the analytics store."""
    png = service_of(request).agency_series_png(caller.user, report_id)
    return _png(png, f"no stored series for the agency of report {report_id}")


@router.get("/reports/{report_id}/pages/{page}")
def report_page_image(request: Request, report_id: int, page: int, caller: CallerDep) -> Response:
    png = service_of(request).page_image(caller.user, report_id, page)
    return _png(png, f"report {report_id} has no image of page {page}")


def _png(png: bytes | None, missing: str) -> Response:
    """An image only its reviewers may see, cached by their browser alone; ItemNotFound without one."""
    if png is None:
        raise ItemNotFound(missing)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


def _page_overlays(request: Request, caller: Caller, view: ReportView) -> list[dict]:
    """Each stored page image with its size and the boxes of the cells read on it
    (bboxes are in the image's pixels, so an SVG viewBox of the image's size lines them up)."""
    overlays = []
    for page in view.pages:
        png = service_of(request).page_image(caller.user, view.report_id, page)
        size = png_size(png) if png else None
        if size is None:
            continue
        cells: list[ReportCell] = [c for c in view.cells if c.page == page and c.bbox]
        overlays.append({"page": page, "width": size[0], "height": size[1], "cells": cells})
    return overlays
