"""Jinja2 rendering: autoescaped templates (document text is untrusted), and the small
formatting helpers the templates share."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from gongkai.models.report import Value

from .security import csrf_token

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
# Jinja2Templates autoescapes .html already; say it, since OCR text goes into every page.
TEMPLATES.env.autoescape = True


def shown_value(value: Value) -> str:
    """A value as the value box shows it: '' for blank, no trailing .0 on counts."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


TEMPLATES.env.filters["shown"] = shown_value
TEMPLATES.env.globals["zip"] = zip


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    context = {"csrf": csrf_token(request), **context}
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)


def png_size(png: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR, without decoding it; None if it is not a PNG."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", png[16:24])
    return width, height
